"""The content store: each file read and parsed once, bodies rendered once, shared by every load.

Two levels of cache:

- `Files` (one per site root, for the whole process): a file's parse — front matter,
  body, rendered HTML — keyed by (path, mtime, size). A second build in the same
  process (the dev server) re-reads only files that changed. Behind it, the cache on
  disk (diskcache.py, `.ssg-cache/content/`) keeps parsed front matter and rendered
  bodies for the next process: the next build, and the other workers of this one.
- `SiteContent` (one per `Site`): the build's snapshot of content/ — each collection
  folder listed once, each entry built once, URLs computed once. Nothing re-scans
  content/ per load. `forget(site)` drops the snapshot when files change under a
  long-lived Site.
"""

from __future__ import annotations

import datetime
import os
import posixpath
import weakref
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from ..context import active_site
from . import diskcache, frontmatter, schema as schema_mod
from .entry import Entry
from .errors import ContentError, ContentErrors
from .frontmatter import Lines
from .markdown import RenderedBody, engine
from .schema import NO_SCHEMA, Schema

if TYPE_CHECKING:
    from ..manifest import Route
    from ..site import Site

SCHEMA_FILE = "_collection.yaml"


@dataclass
class Rendered:
    body: RenderedBody
    page_url: str | None
    links: tuple[tuple[str, str], ...]  # (.md file or site path, URL it became) for each such link


@dataclass
class Parsed:
    """One version of one file: what it says, and its rendering once something asked.

    The body's text is read when first needed: front matter from the disk cache comes
    without it, and a body rendered before comes from the cache by its hash. So are the
    lines of its keys, which only messages need: the cache keeps them as a JSON string."""

    rel: str
    stamp: tuple[int, int]
    data: dict[str, Any] = field(default_factory=dict)
    known_lines: Lines | None = field(default_factory=dict)  # None: `cached_lines` not decoded yet
    text: str | None = None  # the body, once read
    body_line: int = 1
    error: ContentError | None = None
    rendered: Rendered | None = None
    body_hash: str = ""
    file_hash: str = ""  # of the bytes parsed (for the disk cache's record)
    root: Path | None = None
    cached_lines: str = ""  # the disk cache's record of the lines

    @property
    def lines(self) -> Lines:
        """Where each key is (see frontmatter.Lines)."""
        if self.known_lines is None:
            try:
                self.known_lines = diskcache.decode_lines(self.cached_lines)
            except (ValueError, TypeError):
                self.known_lines = self._parse_lines()  # a damaged record
        return self.known_lines

    def _parse_lines(self) -> Lines:
        assert self.root is not None
        try:
            raw = (self.root / self.rel).read_bytes()
            return frontmatter.parse(frontmatter.decode(raw, self.rel), self.rel)[1]
        except (OSError, ContentError):
            return {}  # the file changed since: its next read reports it

    @property
    def body(self) -> str:
        if self.text is None:
            assert self.root is not None
            try:
                raw = (self.root / self.rel).read_bytes()
            except OSError:
                raise ContentError(self.rel, None, "does not exist") from None
            _, body, body_line = frontmatter.split(frontmatter.decode(raw, self.rel), self.rel)
            # Normally the body the cached front matter came with; if the file changed
            # since, the hash follows the text, so a rendering is never filed under another body.
            self.text, self.body_line, self.body_hash = body, body_line, body_digest(body)
        return self.text


class _LazyLines(Mapping):
    """A Parsed's lines, decoded when check() first looks one up: only a message or a
    conversion does, so listing files whose front matter fits their schema decodes none."""

    __slots__ = ("_parsed",)

    def __init__(self, parsed: Parsed) -> None:
        self._parsed = parsed

    def __getitem__(self, key: tuple[Any, ...]) -> int:
        return self._parsed.lines[key]

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        return iter(self._parsed.lines)

    def __len__(self) -> int:
        return len(self._parsed.lines)


def body_digest(body: str) -> str:
    return diskcache.digest(body.encode("utf-8", "surrogatepass"))


class Files:
    """Parsed files of one site root, valid while a file's (mtime, size) is unchanged."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.prefix = os.path.join(root, "")  # + a site-relative path: its path as a str, no Path made
        self.disk = diskcache.for_root(root)
        self.parsed: dict[str, Parsed] = {}
        self.schemas: dict[str, tuple[tuple[int, int], Schema | ContentError]] = {}

    def _stamp(self, rel: str) -> tuple[int, int]:
        try:
            st = os.stat(self.prefix + rel)
        except (FileNotFoundError, NotADirectoryError):
            raise ContentError(rel, None, "does not exist") from None
        return st.st_mtime_ns, st.st_size

    def get(self, rel: str) -> Parsed:
        stamp = self._stamp(rel)
        hit = self.parsed.get(rel)
        if hit is None or hit.stamp != stamp:
            hit = self._cached(rel, stamp)
            if hit is None:
                hit = self._parse(rel, stamp)
                if hit.error is None:
                    self._remember(hit)
            self.parsed[rel] = hit
        if hit.error is not None:
            raise hit.error.again()
        return hit

    def _parse(self, rel: str, stamp: tuple[int, int]) -> Parsed:
        try:
            raw = (self.root / rel).read_bytes()
            data, lines, body, body_line = frontmatter.parse(frontmatter.decode(raw, rel), rel)
        except ContentError as exc:
            return Parsed(rel, stamp, error=exc, root=self.root)
        return Parsed(rel, stamp, data, lines, body, body_line, body_hash=body_digest(body),
                      file_hash=diskcache.digest(raw), root=self.root)

    # -- the disk cache's front matter -------------------------------------------------------

    def _cached(self, rel: str, stamp: tuple[int, int]) -> Parsed | None:
        """The file's front matter from the disk cache, if it holds this version: the same
        (mtime, size) without reading the file, else the same bytes without parsing YAML."""
        record = self.disk.lookup(rel)
        if record is None:
            return None
        try:
            mtime, size, file_hash, body_hash, body_line, data, lines = record
            text: str | None = None
            if mtime != stamp[0] or size != stamp[1]:
                raw = (self.root / rel).read_bytes()
                if diskcache.digest(raw) != file_hash:
                    return None
                # The same bytes with a new mtime (a fresh checkout): note the new stamp.
                record[0], record[1] = stamp
                self.disk.remember(rel, record)
                _, text, body_line = frontmatter.split(frontmatter.decode(raw, rel), rel)
            if type(body_hash) is not str or type(body_line) is not int or type(lines) is not str:
                return None
            found = diskcache.decode_data(data)
            if type(found) is not dict:
                return None
            return Parsed(rel, stamp, found, None, text, body_line, body_hash=body_hash, root=self.root, cached_lines=lines)
        except (OSError, ValueError, TypeError, AttributeError, ContentError):
            return None  # a damaged record, or a file that changed under us: parse it

    def _remember(self, parsed: Parsed) -> None:
        if not diskcache.writing() or not parsed.file_hash:
            return
        try:
            record = [*parsed.stamp, parsed.file_hash, parsed.body_hash, parsed.body_line,
                      diskcache.encode_data(parsed.data), diskcache.encode_lines(parsed.lines)]
        except diskcache.Unencodable:
            return
        self.disk.remember(parsed.rel, record)

    def schema(self, rel: str) -> Schema:
        stamp = self._stamp(rel)
        hit = self.schemas.get(rel)
        if hit is None or hit[0] != stamp:
            try:
                value: Schema | ContentError = schema_mod.parse(frontmatter.decode((self.root / rel).read_bytes(), rel), rel)
            except ContentError as exc:
                value = exc
            hit = self.schemas[rel] = (stamp, value)
        if isinstance(hit[1], ContentError):
            raise hit[1].again()
        return hit[1]


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
    schema: Schema


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
        self._urls: dict[str, str | None] = {}

    @property
    def site(self) -> Site:
        site = self._site()
        if site is None:  # pragma: no cover - a snapshot lives only as long as its site
            raise RuntimeError("the site of this content snapshot is gone")
        return site

    # -- collections ------------------------------------------------------------------------

    def listing(self, name: str) -> Listing:
        return _once(self._listings, name, self._scan)

    def _scan(self, name: str) -> Listing:
        folder = self.root / "content" / name
        if not folder.is_dir():
            content = self.root / "content"
            have = sorted(p.name for p in content.iterdir() if p.is_dir() and not p.name.startswith(".")) if content.is_dir() else []
            raise ContentError(
                f"content/{name}/", None, f"there is no collection {name!r}{schema_mod.did_you_mean(name, tuple(have))}",
                hint=f"Collections are the folders in content/: {', '.join(have) or 'there are none yet'}.",
            )
        schema, route = self.schema(name)
        rels = _markdown_files(folder, f"content/{name}")
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
        files = [f"content/{name}/", *([schema.file] if schema.file else []), *rels]
        self.files.disk.save_index()  # new or changed front matter, for the next process
        return Listing(name, entries, visible, by_slug, files, schema)

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
        rel = f"content/{name}/{SCHEMA_FILE}"
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
        lines = parsed.known_lines if parsed.known_lines is not None else _LazyLines(parsed)
        data = schema_mod.check(schema, parsed.data, lines, rel)
        inside = "/".join(parts[2:]) if name else parts[-1]
        return Entry(self, parsed, slug_of(inside), name, data)

    def url_for(self, rel: str) -> str | None:
        """The URL (base path applied) of the page that renders a content file, or None."""
        if rel in self._urls:
            return self._urls[rel]
        parts = rel.split("/")
        url = None
        if len(parts) > 2:
            route = self.schema(parts[1])[1]
            if route is not None:
                slug = slug_of("/".join(parts[2:]))
                url = self.site.url(route.rid.path_for({"slug": slug}))
        self._urls[rel] = url
        return url

    # -- bodies ---------------------------------------------------------------------------------

    def render(self, parsed: Parsed) -> RenderedBody:
        """The body's HTML, TOC and summary: rendered once per file version, reused while
        the pages it links to keep their URLs. Rendered bodies are shared through the
        disk cache too (by the body's hash), with the same condition."""
        page_url = self.url_for(parsed.rel)
        cached = parsed.rendered
        if cached is not None and cached.page_url == page_url and self._links_hold(cached.links):
            return cached.body
        disk = self.files.disk
        md = engine()
        identity = diskcache.engine_identity(md) if diskcache.reading() or diskcache.writing() else None
        if identity is not None and diskcache.reading():
            found = disk.get_body(disk.body_key(identity, parsed.rel, parsed.body_hash, page_url))
            if found is not None and self._links_hold(found[1]):
                parsed.rendered = Rendered(found[0], page_url, found[1])
                return found[0]
        links: list[tuple[str, str]] = []
        text = parsed.body  # read now if the front matter came from the disk cache
        body = md.render(text, links=self._resolver(parsed, links), page_url=page_url)
        parsed.rendered = Rendered(body, page_url, tuple(links))
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


def _markdown_files(folder: Path, base: str) -> list[str]:
    """The .md files below a folder, as site-relative paths (`base` is the folder's): sorted,
    hidden files and folders skipped, so the listing does not depend on the disk's order."""
    top = str(folder)
    rels: list[str] = []
    for dirpath, dirnames, filenames in os.walk(top):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        below = dirpath[len(top):].replace(os.sep, "/")  # "" for the folder itself, else "/sub/dir"
        rels.extend(f"{base}{below}/{f}" for f in sorted(filenames) if f.endswith(".md") and not f.startswith("."))
    return rels


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
