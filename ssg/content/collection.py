"""Collection (a folder of entries, newest first) and paginate()."""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar, overload

from ..context import front_matter, record, record_all
from .entry import Entry
from .store import Listing, SiteContent, schema_path

T = TypeVar("T")


class Collection(Sequence[Entry]):
    """Every entry under content/<name>/, newest first by date, then by path; drafts left
    out unless the build has --drafts.

    Reading the whole listing (iterating, len(), indexing, tagged(), tags()) records the
    front matter of every file of the folder, and the folder itself, as dependencies of
    the page; an entry's body is one only where the page shows it (html, toc, summary).
    `get(slug)` records only the one entry it returns.
    """

    def __init__(self, name: str, content: SiteContent, *, drafts: bool, listing: Listing | None = None) -> None:
        self.name = name
        self._content = content
        self._drafts = drafts
        if listing is not None:
            self._listing = listing

    @functools.cached_property
    def _listing(self) -> Listing:
        # Listed when first needed (see SiteContent.trusted): get() alone reads one file.
        return self._content.listing(self.name)

    @functools.cached_property
    def _entries(self) -> list[Entry]:
        return self._listing.entries if self._drafts else self._listing.visible

    def _all(self) -> list[Entry]:
        # The folder, the schema and each entry's front matter: its body is a dep only of
        # the pages that show it (html, toc or summary record the whole file).
        record_all(self._listing.deps)
        return self._entries

    @overload
    def __getitem__(self, index: int) -> Entry: ...
    @overload
    def __getitem__(self, index: slice) -> list[Entry]: ...
    def __getitem__(self, index: int | slice) -> Entry | list[Entry]:
        return self._all()[index]

    def __len__(self) -> int:
        return len(self._all())

    def __iter__(self) -> Iterator[Entry]:
        return iter(self._all())

    def get(self, slug: str) -> Entry | None:
        """The entry with this slug, or None (also for a draft when the build has no --drafts)."""
        entry = self._content.by_slug(self.name, slug)
        if entry is None or (entry.draft and not self._drafts):
            record(f"content/{self.name}/")  # a file added later may answer
            if entry is not None:
                record(front_matter(entry.path))  # and this one once it is no draft
            return None
        record(entry.path)
        record(schema_path(self.name))  # also when missing: it may come, and give the entry its URL
        return entry

    def tagged(self, tag: str) -> list[Entry]:
        """The entries whose `tags` include `tag`, newest first."""
        return [e for e in self._all() if tag in e.tags]

    def tags(self) -> list[str]:
        """Every tag used in the collection, sorted."""
        return sorted({t for e in self._all() for t in e.tags})

    def filter(self, keep: Callable[[Entry], bool]) -> list[Entry]:
        return [e for e in self._all() if keep(e)]

    def __json__(self) -> list[dict[str, Any]]:
        # A collection in load data ships as a listing: previews, not every body.
        return [e.preview() for e in self._all()]

    def __repr__(self) -> str:
        return f"<Collection {self.name!r}: {len(self._entries)} entries>"


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a paginated listing. `number` counts from 1; `prev`/`next` are page
    numbers or None."""

    number: int
    total: int
    per_page: int
    items: list[T]
    count: int  # items on every page together

    @property
    def prev(self) -> int | None:
        return self.number - 1 if self.number > 1 else None

    @property
    def next(self) -> int | None:
        return self.number + 1 if self.number < self.total else None

    @property
    def first(self) -> bool:
        return self.number == 1

    @property
    def last(self) -> bool:
        return self.number == self.total

    def entry(self, param: str = "page") -> tuple[dict[str, str], Page[T]]:
        """This page as an `entries()` item: `({param: "2"}, page)`, the page as props."""
        return {param: str(self.number)}, self

    def __json__(self) -> dict[str, Any]:
        return {"number": self.number, "total": self.total, "per_page": self.per_page, "count": self.count,
                "prev": self.prev, "next": self.next, "items": self.items}


def paginate(items: Iterable[T], per_page: int) -> list[Page[T]]:
    """Given items and a page size, return the pages, numbered from 1. An empty listing
    still has one (empty) page, so its index can say "nothing yet".

    >>> [(p.number, p.items, p.prev, p.next) for p in paginate("abcde", 2)]
    [(1, ['a', 'b'], None, 2), (2, ['c', 'd'], 1, 3), (3, ['e'], 2, None)]
    """
    if isinstance(per_page, bool) or not isinstance(per_page, int) or per_page < 1:
        raise ValueError(f"paginate() takes a per_page of 1 or more, not {per_page!r}")
    all_items = list(items)
    total = max(1, math.ceil(len(all_items) / per_page))
    return [
        Page(n + 1, total, per_page, all_items[n * per_page : (n + 1) * per_page], len(all_items))
        for n in range(total)
    ]
