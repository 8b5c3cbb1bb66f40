"""The demo blog: its posts are content/blog/*.md, read through ssg.content."""

from __future__ import annotations

from ssg.content import Collection, Page, collection, paginate

PER_PAGE = 5
FEED_TITLE = "ssg demo blog"


def posts() -> Collection:
    """Every published post, newest first (drafts too with `ssg build --drafts`)."""
    return collection("blog")


def pages() -> list[Page]:
    """The index, PER_PAGE posts a page. Items are previews: a listing ships no post bodies."""
    return paginate([post.preview() for post in posts()], PER_PAGE)


def page_url(number: int) -> str:
    """Page 1 is the blog's index; the others live below /blog/page/."""
    return "/blog" if number == 1 else f"/blog/page/{number}"
