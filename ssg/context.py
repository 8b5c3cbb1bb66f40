"""The active site and the dependency tracker: what each rendered path read.

Every source read through ssg (route modules, templates, content files, fetched URLs)
calls `record()`; `respond()` collects the records of one path into `Rendered.deps`.
Lektor and Eleventy do the same: "is this output current?" = its recorded sources
are unchanged.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING

from .errors import SsgError

if TYPE_CHECKING:
    from .site import Site

_site: ContextVar[Site | None] = ContextVar("ssg_site", default=None)
_deps: ContextVar[set[str] | None] = ContextVar("ssg_deps", default=None)
_digests: ContextVar[dict[str, tuple[int, int, str]] | None] = ContextVar("ssg_digests", default=None)
_process_site: Site | None = None  # for threads that did not inherit the context


def activate(site: Site) -> None:
    """Make `site` the one that `ssg.content` and friends read from."""
    global _process_site
    _process_site = site
    _site.set(site)


def active_site() -> Site:
    site = _site.get() or _process_site
    if site is None:
        raise SsgError("no site is active: ssg.content is read from loads, entries() and endpoints during ssg build or ssg serve")
    return site


FRONT_MATTER = "#front-matter"
"""Suffix of a dep on a content file's front matter alone: a listing reads every entry's
front matter (dates, tags, titles) but the body only of entries it shows."""


def front_matter(rel: str) -> str:
    """The dep name of a content file's front matter: content/blog/a.md#front-matter. One
    string per file: a listing records it for each of its entries, and the caches of the
    pages and listings that read them keep those records (at 40,000 posts, ~5 copies each)."""
    return sys.intern(rel + FRONT_MATTER)  # kept only while something holds it (ssg serve forgets)


SUMMARY = "#summary"
"""Suffix of a dep on a content file's summary alone: a listing that shows summaries needs
rendering again when a post's first paragraph changes, not when a later one does."""


def summary_of(rel: str) -> str:
    """The dep name of a content file's summary: content/blog/a.md#summary."""
    return rel + SUMMARY


OPTIONS = ("prerender", "trailing_slash")
"""Page options a route module may set. A page that links to a route reads one of them
(`rel#trailing_slash`), not the whole module: an edit to that route's load renders the
route's own pages again, not every page that links to it."""


def option_of(rel: str, name: str) -> str:
    """The dep name of a page option as a route module sets it: routes/blog/+page.py#trailing_slash."""
    return f"{rel}#{name}"


def option_named(dep: str) -> str | None:
    """The option a dep names (see option_of), or None."""
    name = dep.rpartition("#")[2]
    return name if name in OPTIONS and dep.endswith(".py#" + name) else None


def parts_of(rel: str) -> tuple[str, ...]:
    """The deps that name a part of a file (its front matter, its summary, an option it
    sets), besides the file."""
    if rel.endswith(".py"):
        return tuple(option_of(rel, name) for name in OPTIONS)
    return rel + FRONT_MATTER, rel + SUMMARY


def dep_file(dep: str) -> str:
    """The file a dep names: content/blog/a.md for content/blog/a.md#front-matter."""
    if "#" not in dep:
        return dep
    if dep.endswith(SUMMARY):
        return dep[: -len(SUMMARY)]
    if dep.endswith(FRONT_MATTER):
        return dep[: -len(FRONT_MATTER)]
    return dep.rpartition("#")[0] if option_named(dep) else dep


def record_digest(source: str, stamp: tuple[int, int], digest: str) -> None:
    """Like record(), for a part of a file whose hash only rendering can tell (a body's
    summary): the reader passes it on, with the (mtime, size) of the file it read."""
    record(source)
    digests = _digests.get()
    if digests is not None:
        digests[source] = (*stamp, digest)


def record(source: str) -> None:
    """Note that the path being rendered read `source` (a site-relative file, or a URL)."""
    deps = _deps.get()
    if deps is not None:
        deps.add(source)


def record_digests(digests: dict[str, tuple[int, int, str]]) -> None:
    """record_digest() each of a nested render's digests (event.fetch of another path)."""
    for source, (mtime, size, digest) in digests.items():
        record_digest(source, (mtime, size), digest)


def record_all(sources: Iterable[str]) -> None:
    """record() each of `sources` (a listing's thousands of files: in one call)."""
    deps = _deps.get()
    if deps is not None:
        deps.update(sources)


@contextmanager
def tracking(deps: set[str], digests: dict[str, tuple[int, int, str]] | None = None) -> Iterator[set[str]]:
    """Collect every `record()` made inside the block (and tasks it starts) into `deps`,
    and the hashes passed to `record_digest()` into `digests`."""
    token, digests_token = _deps.set(deps), _digests.set(digests)
    try:
        yield deps
    finally:
        _deps.reset(token)
        _digests.reset(digests_token)
