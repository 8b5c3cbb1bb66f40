"""Entry: one Markdown file of content/, its front matter known at once, its HTML when asked."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING, Any

from markupsafe import Markup

from ..context import front_matter, record, record_digest, summary_of
from .files import text_digest
from .markdown import Heading

if TYPE_CHECKING:
    from .files import Parsed
    from .store import SiteContent


class Entry:
    """One content file. Reading its data or body records the file as a dependency of the
    page being rendered; the body is rendered on the first read of `html`, `toc` or
    `summary` and cached (per file version) for the rest of the process.

    Serializes (`__data.json`, `data_script()`, `json()`) as::

        {"slug", "path", "collection", "url", "title", "date", "data", "summary", "toc", "html"}

    — the rendered HTML once, never the Markdown source. `preview()` is the same without
    `toc` and `html`, for listings.
    """

    __slots__ = ("_content", "_file", "_slug", "_collection", "_data", "_summary", "_front")

    def __init__(self, content: SiteContent, file: Parsed, slug: str, collection: str, data: dict[str, Any]) -> None:
        self._content = content
        self._file = file
        self._slug = slug
        self._collection = collection
        self._data = data
        self._front = front_matter(file.rel)  # the dep reading `data` records (one string per file)
        self._summary: tuple[str | None, str, str] = (None, "", "")  # (summary text, its hash, its dep), the last asked

    @property
    def slug(self) -> str:
        """The path inside the collection without `.md`, a final `/index` dropped: `guide/install`."""
        return self._slug

    @property
    def path(self) -> str:
        """The file, relative to the site root: `content/blog/hello.md`."""
        return self._file.rel

    @property
    def collection(self) -> str:
        """The folder below content/ the file is in ("" for a file directly in content/)."""
        return self._collection

    @property
    def data(self) -> dict[str, Any]:
        """The front matter, after the collection's schema (defaults, dates). Treat it as read-only:
        it is shared by every page of the build."""
        record(self._front)
        return self._data

    @property
    def date(self) -> datetime.date | None:
        """`data["date"]` (a date or datetime), or None."""
        return self._data.get("date")

    @property
    def draft(self) -> bool:
        return bool(self._data.get("draft", False))

    @property
    def tags(self) -> list[str]:
        return list(self._data.get("tags") or ())

    @property
    def title(self) -> str:
        """`data["title"]`, or the slug when there is none."""
        title = self._data.get("title")
        return self._slug if title is None else str(title)

    @property
    def url(self) -> str | None:
        """The link to the page that renders this entry (base path applied), from the route
        in its collection's `_collection.yaml`; None when the collection declares none."""
        return self._content.url_for(self._file.rel)

    @property
    def html(self) -> Markup:
        record(self._file.rel)
        return Markup(self._content.render(self._file).html)

    @property
    def toc(self) -> tuple[Heading, ...]:
        """Every heading, in order: `level`, `id`, `text`."""
        record(self._file.rel)
        return self._content.render(self._file).toc

    @property
    def summary(self) -> Markup:
        """The HTML before a `<!--more-->` line, else the first paragraph."""
        text = self._content.summary(self._file)
        if self._summary[0] is not text:  # listings ask for it again and again
            self._summary = (text, text_digest(text), summary_of(self._file.rel))
        # A dep of its own: a listing need not render again when only a later paragraph changed.
        # Its hash goes with the file's stamp, unless the body was read after the file changed
        # (then the build hashes the file as it is, and a stamp unlike the walk's says so).
        if self._file.moved_on:
            record(self._summary[2])
        else:
            record_digest(self._summary[2], self._file.stamp, self._summary[1])
        return Markup(text)

    def preview(self) -> dict[str, Any]:
        """The entry without its body: what a listing page needs (and ships in __data.json)."""
        return {
            "slug": self._slug,
            "path": self._file.rel,
            "collection": self._collection,
            "url": self.url,
            "title": self.title,
            "date": self.date,
            "data": self.data,
            "summary": self.summary,
        }

    def __json__(self) -> dict[str, Any]:
        # The body first: its summary comes with it, where asking for the summary first
        # looks it up on its own (a query of the disk cache) before the body is rendered.
        html, toc = self.html, list(self.toc)
        return {**self.preview(), "toc": toc, "html": html}

    def __repr__(self) -> str:
        return f"<Entry {self._file.rel}>"
