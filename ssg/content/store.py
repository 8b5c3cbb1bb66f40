"""The content store: each file read and parsed once, bodies rendered once, shared by every load.

Two levels of cache:

- `Files` (files.py; one per site root, for the whole process): a file's parse — front
  matter, rendered HTML — keyed by (path, mtime, size). A second build in the same
  process (the dev server) re-reads only files that changed. Behind it, the cache on
  disk (diskcache.py, `.ssg-cache/content/`) keeps parsed front matter and rendered
  bodies for the next process: the next build, and the other workers of this one.
- `SiteContent` (one per `Site`): the build's snapshot of content/ — each collection
  folder listed once, each entry built once, URLs computed once. Nothing re-scans
  content/ per load. `forget(site)` drops the snapshot when files change under a
  long-lived Site.
"""

from __future__ import annotations

import contextlib
import datetime
import os
import posixpath
import re
import weakref
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from ..context import active_site, front_matter, record
from ..errors import SsgError
from ..uptodate import left_aside
from . import diskcache, schema as schema_mod
from .entry import Entry
from .errors import ContentError, ContentErrors
from .files import Files, Parsed, Rendered, text_digest
from .markdown import RenderedBody, engine
from .schema import NO_SCHEMA, Schema

if TYPE_CHECKING:
    from ..manifest import Route
    from ..site import Site

SCHEMA_FILE = "_collection.yaml"


def schema_path(name: str) -> str:
    """The schema file of a collection (content/blog/_collection.yaml), there or not."""
    return f"content/{name}/{SCHEMA_FILE}"


_files: dict[Path, Files] = {}
_sites: weakref.WeakKeyDictionary[Any, SiteContent] = weakref.WeakKeyDictionary()


def current() -> SiteContent:
    """The active site's content snapshot, made on first use."""
    site = active_site()
    content = _sites.get(site)
    if content is None or content.manifest is not site.manifest:  # the dev server re-scanned routes/
        files = _files.get(site.root)
        if files is None:
            files = _files[site.root] = Files(site.root)
        content = _sites[site] = SiteContent(site, files)
    return content


def forget(site: Site | None = None) -> None:
    """Drop the site's snapshot (all snapshots when None): the next read lists content/
    again. Unchanged files are not parsed again: their (mtime, size) still match."""
    if site is None:
        _sites.clear()
    else:
        _sites.pop(site, None)


def known_hash(root: Path, rel: str, stamp: tuple[int, int], *, front: bool) -> str | None:
    """The hash of a content file (or of its front matter) as this process parsed it, if
    the file still has that (mtime, size): the build cache need not read it again."""
    files = _files.get(root)
    parsed = files.parsed.get(rel) if files is not None else None
    if parsed is None or parsed.stamp != stamp:
        return None
    return (parsed.front_hash if front else parsed.file_hash) or None


def summary_hash(rel: str) -> str:
    """The hash of a content file's summary as the active site renders it now (the build
    cache asks, for a file that changed since the last build)."""
    content = current()
    try:
        return text_digest(content.summary(content.files.get(rel)))
    except SsgError:
        # Unreadable, or its links reach a route module that fails to import: the page
        # that reads it renders again, and reports why, as a clean build would.
        return "unreadable"


def reset() -> None:
    """Drop every cache of this process, parsed files included (tests and benchmarks).
    The cache on disk stays: delete .ssg-cache/content/ to drop it."""
    _sites.clear()
    _files.clear()
    diskcache.reset()


@dataclass
class Listing:
    """One collection folder, scanned once: every entry (drafts too), newest first."""

    name: str
    entries: list[Entry]
    visible: list[Entry]
    by_slug: dict[str, Entry]
    files: list[str]  # every file whose change changes the listing
    deps: tuple[str, ...]  # what reading it records: those files, a .md file's front matter only


def sort_key(date: Any) -> tuple[int, datetime.datetime]:
    """Dates and datetimes on one time line (UTC), undated entries last."""
    if isinstance(date, datetime.datetime):
        if date.tzinfo is not None:
            date = date.astimezone(datetime.timezone.utc).replace(tzinfo=None)
        return 1, date
    if isinstance(date, datetime.date):
        return 1, datetime.datetime(date.year, date.month, date.day)
    return 0, datetime.datetime.min


def slug_of(rel_in_collection: str) -> str:
    """`guide/install.md` -> `guide/install`; `guide/index.md` -> `guide`; `index.md` -> ``."""
    slug = rel_in_collection[:-3]
    if slug == "index":
        return ""
    return slug[: -len("/index")] if slug.endswith("/index") else slug


class SiteContent:
    """content/ as one Site sees it."""

    def __init__(self, site: Site, files: Files) -> None:
        self._site = weakref.ref(site)
        self.manifest = site.manifest  # entry URLs come from it
        self.root = site.root
        self.drafts = site.config.drafts
        self.files = files
        self._listings: dict[str, Listing | ContentError] = {}
        self._entries: dict[str, Entry | ContentError] = {}
        self._schemas: dict[str, tuple[Schema, Route | None] | ContentError] = {}
        self._summaries: dict[str, tuple[str, tuple]] = {}  # body key -> (summary, links), fetched for a listing
        self._fetched: set[str] = set()  # collections whose summaries were fetched in one go
        # Every file but those being read was listed without error by the last build (the
        # edit shortcut, patch.py): collection() need not list a folder until a page reads
        # the whole of it, and get(slug) reads just the one file.
        self.trusted = False

    @property
    def site(self) -> Site:
        site = self._site()
        if site is None:  # pragma: no cover - a snapshot lives only as long as its site
            raise RuntimeError("the site of this content snapshot is gone")
        return site

    # -- collections ------------------------------------------------------------------------

    def listing(self, name: str) -> Listing:
        return _once(self._listings, name, self._scan)

    def listed(self, name: str) -> bool:
        """Whether the folder was listed (or failed to be): no look at the disk needed."""
        return name in self._listings

    @contextlib.contextmanager
    def trusting(self, *, edited: set[str]) -> Iterator[None]:
        """While the edit shortcut runs: every file but `edited` was listed without error by
        the last build (so folders are listed only when read whole), and the edited ones
        are parsed without a look at files.json (their records there are stale)."""
        self.trusted, self.files.edited = True, set(edited)
        try:
            yield
        finally:
            self.trusted, self.files.edited = False, set()

    def by_slug(self, name: str, slug: str) -> Entry | None:
        """A collection's entry with this slug (drafts too). Both files that could hold it,
        `<slug>.md` and `<slug>/index.md`, are recorded: one added later may clash. Unless
        the folder was listed without error, a plain slug (one segment, no hidden name)
        reads those two alone; when both exist, the listing reports the clash. So a page
        that asks for one entry fails only for that file, as in a build that reuses it, not
        for every bad file of the folder."""
        candidates = ()
        if slug and all(_PLAIN_SLUG.fullmatch(part) for part in slug.split("/")):
            candidates = (f"content/{name}/{slug}.md", f"content/{name}/{slug}/index.md")
            for rel in candidates:
                record(rel)  # also when the listing answers: the one missing may come, and clash
        if not isinstance(self._listings.get(name), Listing) and candidates and "/" not in slug and is_markdown_file(f"{name}/{slug}.md"):
            found = [rel for rel in candidates if os.path.isfile(os.path.join(self.root, rel))]
            if not found:
                return None
            # As the listing would have it: index.md is slug "", not "index", and the listing
            # does not walk into a symlinked folder.
            if len(found) == 1 and self.entry(found[0]).slug == slug and not os.path.islink(os.path.join(self.root, f"content/{name}/{slug}")):
                return self.entry(found[0])
        return self.listing(name).by_slug.get(slug)

    def _scan(self, name: str) -> Listing:
        folder = self.root / "content" / name
        if any(map(left_aside, name.split("/"))):
            raise ContentError(
                f"content/{name}/", None, f"{name!r} names a folder ssg leaves aside (hidden, node_modules or __pycache__)",
                hint="Neither ssg build's check for changes nor ssg serve looks in it: rename the folder.",
            )
        if not folder.is_dir():
            content = self.root / "content"
            have = sorted(p.name for p in content.iterdir() if p.is_dir() and not left_aside(p.name)) if content.is_dir() else []
            raise ContentError(
                f"content/{name}/", None, f"there is no collection {name!r}{schema_mod.did_you_mean(name, tuple(have))}",
                hint=f"Collections are the folders in content/: {', '.join(have) or 'there are none yet'}.",
            )
        schema, route = self.schema(name)
        rels = _markdown_files(folder, f"content/{name}")
        self.files.prefetch(rels, self.site.jobs)
        errors: list[ContentError] = []
        entries: list[Entry] = []
        by_slug: dict[str, Entry] = {}
        for rel in rels:
            try:
                entry = self.entry(rel)
                other = by_slug.get(entry.slug)
                if other is not None:
                    raise ContentError(rel, None, f"has the slug {entry.slug!r}, like {other.path}; rename one of them")
                if route is not None and "/" in entry.slug and not _rest_slug(route):
                    raise ContentError(
                        rel, None, f"is in a subfolder (slug {entry.slug!r}), but {route.id} takes a single segment",
                        hint=f"Render nested entries with a [...slug] route, e.g. {route.id.replace('[slug]', '[...slug]')}.",
                    )
            except ContentError as exc:
                errors.extend(exc.errors if isinstance(exc, ContentErrors) else [exc])
                continue
            by_slug[entry.slug] = entry
            entries.append(entry)
        if errors:
            raise errors[0] if len(errors) == 1 else ContentErrors(errors)
        # Newest first, then by path: a total order, so every build lists entries the same way.
        entries.sort(key=lambda e: e.path)
        entries.sort(key=lambda e: sort_key(e.date), reverse=True)
        visible = entries if self.drafts else [e for e in entries if not e.draft]
        files = [f"content/{name}/", schema_path(name), *rels]  # the schema also when missing: it may come
        self.files.disk.save_index()  # new or changed front matter, for the next process
        self.files.disk.release([rel for rel in rels if rel in self.files.parsed])  # kept parsed: the records are on disk
        deps = tuple(front_matter(file) if file.endswith(".md") else file for file in files)
        return Listing(name, entries, visible, by_slug, files, deps)

    def schema(self, name: str) -> tuple[Schema, Route | None]:
        """The collection's schema and the route that renders its entries (checked against routes/)."""
        found = self._schemas.get(name)
        if found is None:
            try:
                found = self._load_schema(name)
            except ContentError as exc:
                found = exc
            self._schemas[name] = found
        if isinstance(found, ContentError):
            raise found.again()
        return found

    def _load_schema(self, name: str) -> tuple[Schema, Route | None]:
        rel = schema_path(name)
        if not name or not (self.root / rel).is_file():
            return NO_SCHEMA, None
        schema = self.files.schema(rel)
        if schema.route is None:
            return schema, None
        route = self.site.manifest.by_id(schema.route)
        if route is None:
            raise ContentError(rel, schema.route_line, f"route {schema.route} is not a route in routes/",
                               hint="Give the id of the page that renders one entry, e.g. /blog/[slug].")
        names = {p.name: p for p in route.rid.params}
        if "slug" not in names or set(names) != {"slug"}:
            raise ContentError(rel, schema.route_line, f"route {schema.route} must have one param, named slug ([slug] or [...slug])")
        return schema, route

    # -- entries ------------------------------------------------------------------------------

    def entry(self, rel: str) -> Entry:
        """The entry for a site-relative .md path, built once per snapshot."""
        return _once(self._entries, rel, self._make_entry)

    def _make_entry(self, rel: str) -> Entry:
        parsed = self.files.get(rel)
        parts = rel.split("/")
        name = parts[1] if len(parts) > 2 else ""
        schema = self.schema(name)[0] if name else NO_SCHEMA
        lines = parsed.lines_on_demand
        data = schema_mod.check(schema, parsed.data, lines, rel)
        inside = "/".join(parts[2:]) if name else parts[-1]
        return Entry(self, parsed, slug_of(inside), name, data)

    def url_for(self, rel: str) -> str | None:
        """The URL (base path applied) of the page that renders a content file, or None.
        Computed once while the routes and their modules stay the same (Site.remembered:
        `ssg serve` forgets it on every change), its reads recorded on every use."""
        return self.site.remembered(("content url", rel), lambda: self._url_for(rel))

    def _url_for(self, rel: str) -> str | None:
        parts = rel.split("/")
        if len(parts) > 2:
            record(schema_path(parts[1]))  # also when missing: it may come, and name the route
            route = self.schema(parts[1])[1]
            if route is not None:
                slug = slug_of("/".join(parts[2:]))
                return self.site.url(route.rid.path_for({"slug": slug}))
        return None

    # -- bodies ---------------------------------------------------------------------------------

    def summary(self, parsed: Parsed) -> str:
        """The body's summary: kept for every body this process rendered or read, so a
        listing of thousands of entries needs none of their HTML."""
        cached = self._still_valid(parsed)
        if cached is not None:
            return cached.body.summary
        if diskcache.reading_bodies():
            found = self._disk_summary(parsed)
            if found is not None:
                return found
        return self.render(parsed).summary

    def _disk_summary(self, parsed: Parsed) -> str | None:
        """A summary from the disk cache, read without its body's HTML (a listing of
        thousands of entries); kept as an evicted rendering is, summary only."""
        identity = diskcache.engine_identity(engine())
        if identity is None:
            return None
        page_url = self.url_for(parsed.rel)
        disk = self.files.disk
        key = disk.body_key(identity, parsed.rel, parsed.body_hash, page_url)
        found = self._summaries.pop(key, None) or self._fetch_summaries(identity, parsed, key)
        if found is None or not self._links_hold(found[1]):
            return None
        parsed.rendered = Rendered(RenderedBody("", (), found[0]), page_url, found[1], identity, whole=False)
        return found[0]

    def _still_valid(self, parsed: Parsed) -> Rendered | None:
        """The body's rendering this process made or read, unless its page's URL, a URL it
        links to or the engine's options (`ssg serve` after a config edit) changed since."""
        cached = parsed.rendered
        if (
            cached is not None and cached.page_url == self.url_for(parsed.rel)
            and cached.engine == diskcache.engine_identity(engine()) and self._links_hold(cached.links)
        ):
            return cached
        return None

    def _fetch_summaries(self, identity: str, parsed: Parsed, key: str) -> tuple[str, tuple] | None:
        """The summary for `key`; on the first miss in a collection, fetched in one go with
        those of its other entries not yet in memory (a listing asks for all of them)."""
        parts = parsed.rel.split("/")
        name = parts[1] if len(parts) > 2 else ""
        listing = self._listings.get(name)
        if not name or name in self._fetched or not isinstance(listing, Listing):
            return self.files.disk.get_summary(key)
        self._fetched.add(name)
        disk, wanted = self.files.disk, {}
        for entry in listing.entries:
            other = entry._file
            if other.rendered is None:
                wanted[disk.body_key(identity, other.rel, other.body_hash, self.url_for(other.rel))] = other
        self._summaries.update(disk.get_summaries(list(wanted)))
        return self._summaries.pop(key, None)

    def render(self, parsed: Parsed) -> RenderedBody:
        """The body's HTML, TOC and summary: rendered once per file version, reused while
        the pages it links to keep their URLs. Rendered bodies are shared through the
        disk cache too (by the body's hash), with the same condition; the last few stay
        whole in memory (Files.keep)."""
        page_url = self.url_for(parsed.rel)
        cached = self._still_valid(parsed)
        if cached is not None and cached.whole:
            self.files.keep(parsed)
            return cached.body
        disk = self.files.disk
        md = engine()
        identity = diskcache.engine_identity(md)
        if identity is not None and diskcache.reading_bodies():
            found = disk.get_body(disk.body_key(identity, parsed.rel, parsed.body_hash, page_url))
            if found is not None and self._links_hold(found[1]):
                parsed.rendered = Rendered(found[0], page_url, found[1], identity)
                self.files.keep(parsed)
                return found[0]
        links: list[tuple[str, str]] = []
        text = parsed.body  # read again: a Parsed keeps no body text (see Files._parse)
        body = md.render(text, links=self._resolver(parsed, links), page_url=page_url)
        parsed.text = None
        parsed.rendered = Rendered(body, page_url, tuple(links), identity)
        self.files.keep(parsed)
        if identity is not None and diskcache.writing():
            disk.put_body(disk.body_key(identity, parsed.rel, parsed.body_hash, page_url), body, tuple(dict.fromkeys(links)))
        return body

    def _links_hold(self, links: tuple[tuple[str, str | None], ...]) -> bool:
        """Whether every link of a rendered body still resolves to the URL it became."""
        return all(self._link_url(target) == url for target, url in links)

    def _link_url(self, target: str) -> str | None:
        """The URL a link to `target` (a .md file, or a site path) becomes; None if the file is
        missing, a draft left out, or not rendered by any route."""
        if target.startswith("/"):
            if "." in urlsplit(target).path.rsplit("/", 1)[-1]:
                return self.site.config.base_path + target  # a file (/blog/atom.xml, /img/a.png): as asset()
            return self.site.url(target)
        record(front_matter(target))  # whether it is there, and whether it is a draft
        if not (self.root / target).is_file():
            return None
        try:
            if not self.drafts and self.entry(target).draft:
                return None
        except ContentError:
            return None
        return self.url_for(target)

    def _resolver(self, parsed: Parsed, links: list[tuple[str, str]]):
        folder = posixpath.dirname(parsed.rel)

        def resolve(href: str, line: int) -> str:
            if href.startswith(_ELSEWHERE):
                return href  # most links in prose: left as they are, as urlsplit would say
            parts = urlsplit(href)
            if parts.scheme or parts.netloc or not parts.path:
                return href
            if parts.path.startswith("/"):
                # A site path, as for the url() template helper: base path and trailing slash applied.
                url = self._link_url(href)
                links.append((href, url))
                return url
            if not parts.path.endswith(".md"):
                return href
            where = (parsed.rel, parsed.body_line + line)
            target = posixpath.normpath(posixpath.join(folder, unquote(parts.path)))
            if not target.startswith("content/"):
                raise ContentError(*where, f"links to {parts.path}, which is outside content/")
            record(front_matter(target))  # as _link_url does when the body is reused
            if not (self.root / target).is_file():
                raise ContentError(*where, f"links to {target}, which does not exist",
                                   hint="Fix the link; it is relative to the folder of the file it is in.")
            if not self.drafts and self.entry(target).draft:
                raise ContentError(*where, f"links to {target}, which is a draft and is left out of this build",
                                   hint="Build with --drafts, or publish the linked entry.")
            url = self.url_for(target)
            if url is None:
                name = target.split("/")[1] if target.count("/") > 1 else ""
                raise ContentError(*where, f"links to {target}, but no route renders it",
                                   hint=f"Declare the page for its entries in content/{name}/{SCHEMA_FILE}: route: /{name}/[slug]"
                                   if name else "Only files in a collection folder (content/<name>/) have pages.")
            links.append((target, url))
            return url + (f"?{parts.query}" if parts.query else "") + (f"#{parts.fragment}" if parts.fragment else "")

        return resolve


_ELSEWHERE = ("https://", "http://", "mailto:", "#")  # a scheme, or the page itself: nothing to resolve


def is_markdown_file(name: str) -> bool:
    """Whether a collection lists a file below its folder (`name`, relative to it): a .md
    file, not hidden, and in no hidden, __pycache__ or node_modules folder."""
    return name.endswith(".md") and not any(map(left_aside, name.split("/")))


def _markdown_files(folder: Path, base: str) -> list[str]:
    """The .md files below a folder that is_markdown_file() keeps, as site-relative paths
    (`base` is the folder's): sorted, so the listing does not depend on the disk's order."""
    top = str(folder)
    rels: list[str] = []
    for dirpath, dirnames, filenames in os.walk(top):
        dirnames[:] = sorted(d for d in dirnames if not left_aside(d))
        below = dirpath[len(top):].replace(os.sep, "/")  # "" for the folder itself, else "/sub/dir"
        rels.extend(f"{base}{below}/{f}" for f in sorted(filenames) if is_markdown_file(f))
    return rels


_PLAIN_SLUG = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]*")


def _rest_slug(route: Route) -> bool:
    return any(p.name == "slug" and p.rest for p in route.rid.params)


def _once(table: dict, key: str, make):
    """Given a memo table, return make(key) computed once; a ContentError is remembered too
    and raised again on every later ask, so a bad file is reported for each page that reads it."""
    found = table.get(key)
    if found is None:
        try:
            found = make(key)
        except ContentError as exc:
            found = exc
        table[key] = found
    if isinstance(found, ContentError):
        raise found.again()
    return found
