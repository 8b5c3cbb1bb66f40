"""The prerender queue: seed paths, call `respond()` for each, write, crawl, judge by policy."""

from __future__ import annotations

import asyncio
import mimetypes
import reprlib
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit

from . import crawl, output
from .entries import Entry, EntryError, to_entry
from .failures import from_exception
from .manifest import Route
from .output import Writer
from .problems import Problem
from .respond import Rendered, error_page, respond
from .site import Site
from .templates import CLIENT_DEP, CLIENT_FILE, CLIENT_SOURCE

# Files the build writes itself; links to them are not routes.
GENERATED = frozenset({"/404.html", "/sitemap.xml", "/_headers", "/_redirects", "/" + CLIENT_FILE})


@dataclass
class Written:
    path: str
    kind: str  # "page", "endpoint" or "redirect"
    status: int
    route: str | None
    file: str


@dataclass
class Result:
    written: list[Written] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    static_files: int = 0
    data_files: int = 0

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]

    def count(self, kind: str) -> int:
        return sum(1 for w in self.written if w.kind == kind)


def key(path: str) -> str:
    """The queue's key for a path: /about and /about/ are one page."""
    return path.rstrip("/") or "/"


class Prerender:
    """Given a site and a writer, crawl and write the whole site (`run()`)."""

    def __init__(self, site: Site, writer: Writer, *, progress: Callable[[int, int], None] | None = None, concurrency: int = 8) -> None:
        self.site = site
        self.config = site.config
        self.writer = writer
        self.progress = progress or (lambda done, total: None)
        self.concurrency = concurrency
        self.result = Result()
        self.queue: deque[tuple[str, Any]] = deque()
        self.seen: dict[str, str | None] = {}  # key -> the key of the page that first linked it
        self.seeded_by: dict[str, str] = {}  # key -> what seeded it, e.g. "entries() in routes/x/+page.py"
        self.urls: dict[str, str] = {}  # page key -> the URL it is linked as (/about -> /about/), for messages
        self.ids: dict[str, frozenset[str]] = {}  # page key -> ids on it
        self.anchors: list[tuple[str, str, str]] = []  # (target key, id, referrer key)
        self.rendered_routes: set[str] = set()
        self.prerendered: dict[str, bool] = {}  # route id -> its `prerender` option, read once
        self.broken_routes: set[str] = set()  # routes whose module failed to import (reported once)
        self.headers: dict[str, dict[str, str]] = {}  # URL -> headers for _headers
        self.redirects: dict[str, tuple[str, int]] = {}  # URL -> (location, status)
        self.sitemap: list[str] = []
        self.done = 0
        self.needs_client = False  # a template called client_script()

    # -- 1. seed -------------------------------------------------------------------------------

    def seed(self) -> None:
        for entry in self.config.prerender.entries:
            if entry != "*":
                self._seed_path(unquote(entry))
                continue
            for route in self.site.manifest.routes:
                if not self._prerendered(route):
                    continue
                if not route.dynamic:
                    self.enqueue(route.rid.path_for({}), None, None)
                for item in self._entries(route):
                    self.enqueue(item.path, None, item.props, source=f"entries() in {route.module or route.server}")

    def _seed_path(self, path: str) -> None:
        """Queue a path listed in config prerender.entries, unless its route is not built."""
        source = "prerender.entries in the config"
        try:
            found = self.site.match(path)
        except Exception:
            found = None  # a matcher that raises: respond() reports it
        if found is not None and not self._prerendered(found[0]):
            if found[0].id not in self.broken_routes:
                self.result.problems.append(Problem(
                    "http", f"{path} is not prerendered (prerender = False in {found[0].dir}) (from {source})",
                    path=path, route=found[0].id,
                ))
            return
        self.enqueue(path, None, None, source=source)

    def _prerendered(self, route: Route) -> bool:
        """Whether a route is built; read once per route, so a module that fails to import is reported once."""
        if route.id not in self.prerendered:
            try:
                self.prerendered[route.id] = bool(self.site.option(route, "prerender"))
            except Exception as exc:
                self._failed("route", route, None, exc)
                self.prerendered[route.id] = False
                self.broken_routes.add(route.id)
        return self.prerendered[route.id]

    def _entries(self, route: Route) -> list[Entry]:
        file = route.module or route.server
        try:
            fn = getattr(self.site.modules.get(file), "entries", None) if file else None
            items = list(fn() or []) if fn else []
        except Exception as exc:
            self._failed("entries", route, None, exc, prefix=f"{file}: entries() failed: ")
            return []
        out = []
        for i, item in enumerate(items):
            try:
                entry = to_entry(route, item)
                found = self.site.match(entry.path)
                if found is None or found[0] is not route:
                    other = f"route {found[0].dir} serves it instead" if found else "no route matches it (a matcher refused it?)"
                    raise EntryError(f"gives {entry.path}, but {other}")
            except EntryError as exc:
                self.result.problems.append(Problem(
                    "entries", f"{file}: entries() item {i} {reprlib.repr(item)} of route {route.id}: {exc}",
                    route=route.id, file=file, path=None,
                ))
                continue
            except Exception as exc:  # a matcher that raises on this value
                self._failed("entries", route, None, exc, prefix=f"{file}: entries() item {i} {reprlib.repr(item)}: matching its path failed: ")
                continue
            out.append(entry)
        return out

    def enqueue(self, path: str, referrer: str | None, props: Any, *, source: str | None = None) -> None:
        """Queue a path once; `referrer` is the key of the page that linked it, `source` what seeded it."""
        k = key(path)
        if k in self.seen:
            return
        self.seen[k] = referrer
        if source:
            self.seeded_by[k] = source
        reason = output.unsafe_reason(path)
        if reason:
            # Refused before any load sees the value: it could never be written inside the output.
            severity = self._policy("on_http_error") if referrer else "error"
            if severity:
                self.result.problems.append(Problem(
                    "http", f"{path!r} cannot be built: it {reason}{self._linked(k)}", severity, path=path, chain=self.chain(k),
                ))
            return
        self.queue.append((k, props))

    # -- 2. render, write and crawl each path ----------------------------------------------------

    async def run(self) -> Result:
        self.seed()
        running: set[asyncio.Task[Rendered]] = set()
        while self.queue or running:
            while self.queue and len(running) < self.concurrency:
                path, props = self.queue.popleft()
                running.add(asyncio.ensure_future(self._respond(path, props)))
            finished, running = await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
            # Handle finished pages in path order so the run does not depend on timing more than it must.
            for task in sorted(finished, key=lambda t: t.result().path):
                self.handle(task.result())
                self.done += 1
            self.progress(self.done, self.done + len(self.queue) + len(running))
        await self.site.aclose()
        self.finish()
        return self.result

    async def _respond(self, path: str, props: Any) -> Rendered:
        """respond(), with anything that escapes it turned into this path's failure: one
        path's problem must not stop the build (all errors, then fail)."""
        try:
            return await respond(self.site, path, props=props)
        except Exception as exc:
            try:
                found = self.site.match(path)
            except Exception:
                found = None
            route, params = found if found else (None, {})
            failure = from_exception(exc, self.site.root)
            return Rendered(path, "error", 500, failure.message.encode(), "text/plain; charset=utf-8", route, params, failure=failure)

    def handle(self, r: Rendered) -> None:
        if r.route is not None:
            self.rendered_routes.add(r.route.id)
        if CLIENT_DEP in r.deps:
            self.needs_client = True
        for fetched in r.fetched:
            self.enqueue(fetched, key(r.path), None)
        if r.kind == "page":
            page_file = output.page_file(r.path, self.site.option(r.route, "trailing_slash"))
            if self._write(r, page_file, r.body) and self._write(r, output.data_file(r.path), self._envelope(r), count=False):
                self.result.data_files += 1
            url = self.config.base_path + self.site.canonical(r.path, r.route)
            if r.headers:
                self.headers[url] = r.headers
            self.sitemap.append(url)
            self._crawl(r)
        elif r.kind == "endpoint":
            rel = output.endpoint_file(r.path)
            self._write(r, rel, r.body)
            headers = dict(r.headers)
            implied = mimetypes.guess_type(rel)[0]
            if implied is None or implied != r.content_type.split(";")[0].strip():
                headers["content-type"] = r.content_type
            if headers:
                self.headers[self.config.base_path + r.path] = headers
        elif r.kind == "redirect":
            # A redirect is written as a page (with a meta refresh) unless its path names a file.
            as_page = r.route.is_page or "." not in r.path.rsplit("/", 1)[-1]
            rel = output.page_file(r.path, self.site.option(r.route, "trailing_slash")) if as_page else output.endpoint_file(r.path)
            self._write(r, rel, r.body)
            self.redirects[self.config.base_path + self.site.canonical(r.path, r.route)] = (r.location, r.status)
            self._crawl(r)
        else:
            self._error(r)

    def _envelope(self, r: Rendered) -> bytes:
        import json

        return json.dumps(r.envelope, ensure_ascii=False, indent=None, separators=(",", ":")).encode()

    def _write(self, r: Rendered, rel: str, body: bytes, *, count: bool = True) -> bool:
        try:
            self.writer.write(rel, body)
        except output.UnsafePath as exc:
            self.result.problems.append(Problem("write", str(exc), path=r.path, route=r.route.id if r.route else None, params=r.params, chain=self.chain(key(r.path))))
            return False
        if count:
            self.result.written.append(Written(r.path, r.kind, r.status, r.route.id if r.route else None, rel))
        return True

    def _error(self, r: Rendered) -> None:
        k = key(r.path)
        chain = self.chain(k)
        route = r.route.id if r.route else None
        if r.failure is not None:
            f = r.failure
            self.result.problems.append(Problem(
                "load", f"{r.status} {r.path}: {f.message}", path=r.path, route=route, params=r.params,
                file=f.file, line=f.line, chain=chain, frames=f.frames,
            ))
            return
        # A seeded path (entries(), the config) must build; a crawled link is judged by policy.
        severity = "error" if self.seen.get(k) is None else self._policy("on_http_error")
        if severity:
            message = f"{r.status} {r.path}{self._linked(k)}"
            self.result.problems.append(Problem("http", message, severity, path=r.path, route=route, params=r.params, chain=chain))

    def _crawl(self, r: Rendered) -> None:
        found = crawl.find(r.body.decode("utf-8", "replace"))
        here = key(r.path)
        self.ids[here] = found.ids
        self.urls[here] = self.site.canonical(r.path, r.route)
        if not self.config.prerender.crawl:
            return
        base_url = self.site.absolute(self.site.canonical(r.path, r.route))
        origin = urlsplit(base_url)
        for link in found.links:
            target = urlsplit(urljoin(base_url, link))
            if target.scheme not in ("http", "https") or target.netloc != origin.netloc:
                continue  # mailto:, data:, javascript: and other hosts are not ours to check
            path = unquote(target.path)
            base = self.config.base_path
            if base:
                if not (path == base or path.startswith(base + "/")):
                    self._report_link(f"{path} is outside the base path {base}", here)
                    continue
                path = path[len(base):] or "/"
            if output.unsafe_reason(path):
                self.enqueue(path, here, None)  # reports it; never reaches a load or the writer
                continue
            if path in GENERATED or self._is_static(path):
                continue
            if target.fragment:
                self.anchors.append((key(path), unquote(target.fragment), here))
            if key(path) in self.seen:
                continue
            try:
                found_route = self.site.match(path)
            except Exception:
                found_route = None  # a matcher that raises: respond() reports it with its traceback
            if found_route is not None and not self._prerendered(found_route[0]):
                if found_route[0].id in self.broken_routes:
                    self.seen[key(path)] = here  # its import error is already reported
                else:
                    self._report_link(f"{path} is not prerendered (prerender = False in {found_route[0].dir})", here, key(path))
                continue
            self.enqueue(path, here, None)

    def _is_static(self, path: str) -> bool:
        static_dir = self.config.static_dir
        candidate = (static_dir / path.lstrip("/")).resolve()
        return candidate.is_relative_to(static_dir.resolve()) and candidate.is_file()

    def _report_link(self, message: str, referrer: str, target: str | None = None) -> None:
        severity = self._policy("on_http_error")
        if severity:
            self.result.problems.append(Problem(
                "http", f"{message} (linked from {self.url_of(referrer)})", severity, path=target, chain=(self.url_of(referrer),),
            ))
        if target is not None:
            self.seen.setdefault(target, referrer)

    def _policy(self, name: str) -> str | None:
        """Given a policy name, return the severity to report with ("error", "warning") or None."""
        return {"fail": "error", "warn": "warning", "ignore": None}[getattr(self.config.prerender, name)]

    def url_of(self, k: str) -> str:
        """Given a page's queue key, return it as it is linked (/blog -> /blog/), for messages."""
        return self.urls.get(k, k)

    def chain(self, k: str) -> tuple[str, ...]:
        """What led to a path, nearest first (bounded, for messages): the pages that linked
        to it, then what seeded the first of them, e.g. ("/blog/", "entries() in routes/...")."""
        out: list[str] = []
        node, referrer = k, self.seen.get(k)
        while referrer is not None and len(out) < 8 and referrer not in out:
            out.append(referrer)
            node, referrer = referrer, self.seen.get(referrer)
        labels = [self.url_of(r) for r in out]
        if node in self.seeded_by and referrer is None:
            labels.append(self.seeded_by[node])
        return tuple(labels)

    def _linked(self, k: str) -> str:
        """" (linked from /blog/)" for a crawled path, " (from entries() in …)" for a seeded one."""
        referrer = self.seen.get(k)
        if referrer is not None:
            return f" (linked from {self.url_of(referrer)})"
        return f" (from {self.seeded_by[k]})" if k in self.seeded_by else ""

    def _failed(self, kind: str, route: Route, path: str | None, exc: BaseException, prefix: str = "") -> None:
        f = from_exception(exc, self.site.root)
        self.result.problems.append(Problem(kind, f"{prefix}{f.message}", route=route.id, path=path, file=f.file, line=f.line, frames=f.frames))

    # -- 3. what the whole crawl tells ------------------------------------------------------------

    def finish(self) -> None:
        severity = self._policy("on_missing_id")
        if severity:
            for target, anchor, referrer in sorted(set(self.anchors)):
                ids = self.ids.get(target)
                if ids is not None and anchor not in ids and anchor != "top":
                    self.result.problems.append(Problem(
                        "missing_id", f"#{anchor} is not an id on {self.url_of(target)} (linked from {self.url_of(referrer)})",
                        severity, path=target, chain=(self.url_of(referrer),),
                    ))
        severity = self._policy("on_unseen_routes")
        if severity:
            for route in self.site.manifest.routes:
                if route.dynamic and route.id not in self.rendered_routes and self._prerendered(route):
                    example = {p.name: "hello" for p in route.rid.params if not p.optional}
                    # entries() lives in +page.py (or +server.py); name that file even when it does not exist yet.
                    module = route.module or route.server or f"{route.dir}/+page.py"
                    self.result.problems.append(Problem(
                        "unseen_route",
                        f"{module}: dynamic route {route.id} has no entries() and was not reached by the crawl. "
                        f"Return e.g. [{example!r}] from entries() in {module}, link to it, or set prerender = False.",
                        severity, route=route.id, file=route.module or route.server or route.template,
                    ))
        # Problems sorted so the report reads the same on every run.
        self.result.problems.sort(key=lambda p: (p.severity, p.kind, p.path or "", p.message))
        self.result.written.sort(key=lambda w: w.path)


async def write_extras(site: Site, writer: Writer, pre: Prerender) -> None:
    """404.html, sitemap.xml, _redirects, _headers and static/: everything beside the pages."""
    config = site.config
    not_found = await error_page(site, "/404", 404, "Not found")
    writer.write("404.html", not_found.body)
    if config.origin:
        # Sorted: the sitemap must be byte-identical whatever order the crawl took.
        urls = "".join(
            f"  <url><loc>{_xml(config.origin.rstrip('/') + u)}</loc><lastmod>{site.generated_at[:10]}</lastmod></url>\n"
            for u in sorted(set(pre.sitemap))
        )
        writer.write("sitemap.xml", (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n' + urls + "</urlset>\n"
        ).encode())
    if pre.redirects:
        lines = "".join(f"{src} {loc} {status}\n" for src, (loc, status) in sorted(pre.redirects.items()))
        writer.write("_redirects", lines.encode())
    if pre.headers:
        blocks = "".join(
            url + "\n" + "".join(f"  {_title(k)}: {v}\n" for k, v in sorted(h.items()))
            for url, h in sorted(pre.headers.items())
        )
        writer.write("_headers", blocks.encode())
    if pre.needs_client:
        writer.write(CLIENT_FILE, CLIENT_SOURCE.read_bytes())
    pre.result.static_files = len(writer.copy_tree(config.static_dir))


def _xml(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _title(name: str) -> str:
    return "-".join(part.capitalize() for part in name.split("-"))
