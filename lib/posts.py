"""The demo blog's posts (until the content layer reads them from content/)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass


@dataclass(frozen=True)
class Post:
    slug: str
    title: str
    date: datetime.date
    tags: tuple[str, ...]
    summary: str
    html: str


POSTS = (
    Post("hello-world", "Hello, world", datetime.date(2026, 1, 5), ("news",),
         "The first post of the demo blog.",
         "<p>The first post of the demo blog, written to show how ssg builds a page per post.</p>"),
    Post("routes-are-folders", "Routes are folders", datetime.date(2026, 2, 14), ("routing", "guide"),
         "How a routes/ tree becomes URLs.",
         '<p>Each folder is a URL segment. <a href="#params">Params</a> come in brackets.</p>'
         '<h2 id="params">Params</h2><p><code>[slug]</code> matches one segment.</p>'),
    Post("loads-and-layouts", "Loads and layouts", datetime.date(2026, 3, 1), ("guide",),
         "Data flows from layouts into pages.",
         "<p>A layout's load runs for every page below it; the page sees the merged data.</p>"),
)


def newest_first() -> list[Post]:
    # Sorted by date then slug: a total order, so every build lists posts the same way.
    return sorted(POSTS, key=lambda p: (p.date, p.slug), reverse=True)


def by_slug(slug: str) -> Post | None:
    return next((p for p in POSTS if p.slug == slug), None)


def tags() -> list[str]:
    return sorted({t for p in POSTS for t in p.tags})
