"""Render one path to files: (site snapshot, path, props) -> written files + what the crawl needs.

This is the unit of work the build hands to worker processes: it calls `respond()`,
writes the outputs through `Writer.put`, and parses the HTML for links and ids, then
returns a small picklable `Done` (no bodies) for the queue in `prerender`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit

from . import crawl, output
from .context import tracking
from .failures import Failure, from_exception
from .mediatypes import media_type
from .respond import Rendered, respond
from .site import Site
from .templates import CLIENT_DEP, CLIENT_FILE

# Files the build writes itself; links to them are not routes.
GENERATED = frozenset({"/404.html", "/sitemap.xml", "/_headers", "/_redirects", "/" + CLIENT_FILE})


@dataclass
class Done:
    """What rendering one path produced, for the queue (small and picklable: no bodies)."""

    path: str
    kind: str  # "page", "endpoint", "redirect" or "error"
    status: int
    route: str | None = None
    params: dict[str, str] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)  # below the staging folder, in the order written (or tried)
    url: str | None = None  # as it is linked, with the base path: /docs/about/
    headers: dict[str, str] = field(default_factory=dict)  # for _headers
    location: str | None = None
    links: list[tuple[str, str]] = field(default_factory=list)  # (site path, fragment), same-site only
    outside_base: list[str] = field(default_factory=list)  # same-host paths outside the base path
    ids: str | None = None  # the page's ids, packed (see pack_ids)
    fetched: list[str] = field(default_factory=list)
    deps: list[str] = field(default_factory=list)
    failure: Failure | None = None
    write_errors: list[tuple[str, str]] = field(default_factory=list)  # (file, why it failed)
    digests: dict[str, tuple[int, int, str]] = field(default_factory=dict)  # deps hashed while reading them (summaries)

    @property
    def needs_client(self) -> bool:
        return CLIENT_DEP in self.deps


async def render(site: Site, writer: output.Writer, path: str, props: Any = None, *, crawl_links: bool = True) -> Done:
    """Given a path, render it, write its files and return what the queue needs to know."""
    r = await _respond(site, path, props)
    done = Done(
        r.path, r.kind, r.status, r.route.id if r.route else None, r.params,
        location=r.location, fetched=r.fetched, deps=r.deps, failure=r.failure, digests=r.digests,
    )
    read: set[str] = set()
    with tracking(read):  # the file names and URLs read the route's options (and its layouts')
        _write_files(site, writer, r, done, crawl_links)
    if new := read.difference(done.deps):
        done.deps = sorted({*done.deps, *new})
    return done


def _write_files(site: Site, writer: output.Writer, r: Rendered, done: Done, crawl_links: bool) -> None:
    base = site.config.base_path
    if r.kind == "page":
        canonical = site.canonical(r.path, r.route)
        done.url = base + canonical
        done.headers = dict(r.headers)
        envelope = r.envelope_json
        _put(writer, done, output.page_file(r.path, site.option(r.route, "trailing_slash")), r.body)
        _put(writer, done, output.data_file(r.path), envelope)
        _crawl(site, done, r, canonical, crawl_links)
    elif r.kind == "endpoint":
        rel = output.endpoint_file(r.path)
        done.url = base + r.path
        done.headers = dict(r.headers)
        implied = media_type(rel)
        if implied is None or implied != r.content_type.split(";")[0].strip():
            done.headers["content-type"] = r.content_type
        _put(writer, done, rel, r.body)
    elif r.kind == "redirect":
        # A redirect is written as a page (with a meta refresh) unless its path names a file.
        as_page = r.route.is_page or "." not in r.path.rsplit("/", 1)[-1]
        rel = output.page_file(r.path, site.option(r.route, "trailing_slash")) if as_page else output.endpoint_file(r.path)
        canonical = site.canonical(r.path, r.route)
        done.url = base + canonical
        _put(writer, done, rel, r.body)
        _crawl(site, done, r, canonical, crawl_links)


async def _respond(site: Site, path: str, props: Any) -> Rendered:
    """respond(), with anything that escapes it turned into this path's failure: one
    path's problem must not stop the build (all errors, then fail)."""
    try:
        return await respond(site, path, props=props)
    except Exception as exc:
        try:
            found = site.match(path)
        except Exception:
            found = None
        route, params = found if found else (None, {})
        failure = from_exception(exc, site.root)
        return Rendered(path, "error", 500, failure.message.encode(), "text/plain; charset=utf-8", route, params, failure=failure)


def _put(writer: output.Writer, done: Done, rel: str, body: bytes) -> None:
    done.files.append(rel)
    try:
        writer.put(rel, body)
    except (output.UnsafePath, OSError) as exc:
        done.write_errors.append((rel, str(exc)))


def _crawl(site: Site, done: Done, r: Rendered, canonical: str, crawl_links: bool) -> None:
    """Parse the HTML just written: its ids, and the same-site paths it links to."""
    found = crawl.find(r.body.decode("utf-8", "replace"))
    done.ids = pack_ids(found.ids)
    if not crawl_links:
        return
    base_url = site.absolute(canonical)
    origin = urlsplit(base_url).netloc
    base = site.config.base_path
    for link in found.links:
        if _plain(link):  # most links: a root-relative path, where urljoin would change nothing
            bare, _, fragment = link.partition("#")
            path, fragment = unquote(bare.partition("?")[0]), unquote(fragment)
        elif _elsewhere(link, origin):
            continue
        else:
            target = urlsplit(urljoin(base_url, link))
            if target.scheme not in ("http", "https") or target.netloc != origin:
                continue  # mailto:, data:, javascript: and other hosts are not ours to check
            path, fragment = unquote(target.path), unquote(target.fragment)
        if base:
            if not (path == base or path.startswith(base + "/")):
                done.outside_base.append(path)
                continue
            path = path[len(base):] or "/"
        # Links to static/ and to the files the build writes itself stay in: the crawl
        # skips them (prerender), also when it replays this record after static/ changed.
        done.links.append((path, fragment))


def pack_ids(ids: Iterable[str]) -> str:
    """A page's ids as one string, sorted, each ended by NUL: the queue and the cache keep
    them for every page (40,000 posts: 800,000 ids), and one string is a third of a tuple
    of strings. A NUL inside an id is U+FFFD, as a browser reads it."""
    return "".join(sorted(i.replace("\0", "\ufffd") + "\0" for i in ids))


def has_id(packed: str, anchor: str) -> bool:
    """Whether `#anchor` names an id of a page whose ids pack_ids() packed."""
    anchor = anchor.replace("\0", "\ufffd") + "\0"
    return packed.startswith(anchor) or "\0" + anchor in packed


def _elsewhere(link: str, origin: str) -> bool:
    """Whether a link is plainly to another host (https://example.com/x), read without
    urljoin; anything urlsplit would clean up first is left to it."""
    if not link.startswith(("http://", "https://")) or not link.isprintable() or " " in link or "\\" in link:
        return False
    rest = link.partition("://")[2]
    end = min((i for i in (rest.find("/"), rest.find("?"), rest.find("#")) if i >= 0), default=len(rest))
    host = rest[:end]
    return bool(host) and "[" not in host and "]" not in host and host != origin


def _plain(link: str) -> bool:
    """Whether a link is a root-relative path that joins to itself: /a/b?q#f, but not
    //host, /a/../b, /a;params, or text urlsplit would clean up (whitespace, control characters)."""
    return (
        link[:1] == "/" and link[1:2] != "/" and "/." not in link and "\\" not in link and ";" not in link
        and link.isprintable() and not link[-1:].isspace()
    )
