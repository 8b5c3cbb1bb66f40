"""The prerender queue: seed paths, call `respond()` for each, write, crawl, judge by policy."""

from __future__ import annotations

import contextlib
import gc
import itertools
import reprlib
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple
from urllib.parse import unquote

from . import context, output
from .content.files import end_prefetch
from .entries import Entry, EntryError, to_entry
from .errors import exit_called
from .failures import from_exception
from .manifest import Route
from .output import Writer
from .problems import Problem
from .render import GENERATED, Done, has_id
from .respond import error_page
from .site import Site
from .templates import CLIENT_FILE, CLIENT_SOURCE
from .workers import Job, Pool

if TYPE_CHECKING:
    from concurrent.futures import Future

    from .cache import Cache

BATCH = 16  # paths per round trip to a worker process
HOST_RULE_FILES = ("_redirects", "_headers")
"""Files a static host reads its rules from, under these names only: the site's own, in
static/, are written first in the build's (see write_extras)."""


@dataclass(slots=True)
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


class Claim(NamedTuple):
    """What the end of the build needs of a path that wrote files (not its whole Done): one
    per path, so kept small (a dict of params per path was a tenth of it)."""

    path: str
    files: list[str]
    write_errors: list[tuple[str, str]]
    route: str | None
    param_items: tuple[tuple[str, str], ...]

    @property
    def params(self) -> dict[str, str]:
        return dict(self.param_items)


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """No garbage collection while a phase builds many long-lived objects: each full
    collection walks every object the build holds, which made the cache's load and save
    grow faster than the site (40,000 posts: 2.6 s to load, 0.8 s without collections)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def key(path: str) -> str:
    """The queue's key for a path: /about and /about/ are one page."""
    return path.rstrip("/") or "/"


class Prerender:
    """Given a site and a writer, crawl and write the whole site (`run()`)."""

    def __init__(
        self,
        site: Site,
        writer: Writer,
        *,
        progress: Callable[[int, int], None] | None = None,
        jobs: int = 1,
        concurrency: int = 8,
        cache: Cache | None = None,
    ) -> None:
        self.site = site
        self.config = site.config
        self.writer = writer
        self.progress = progress or (lambda done, total: None)
        self.jobs = jobs
        self.cache = cache
        self.rendered: list[tuple[str, str]] = []  # (path, why it was rendered), for --explain
        self.reused = 0
        self.concurrency = concurrency
        self.result = Result()
        self.queue: deque[str] = deque()
        self.props: dict[str, Any] = {}  # key -> props from an entries() (params, props) pair
        self.seen: dict[str, str | None] = {}  # key -> the key of the first page, in path order, that links it (None: seeded)
        self.failed: list[Done] = []  # error answers, reported at the end, once every link to them is known
        self.unlinkable: dict[str, str] = {}  # key -> why a link to it cannot be followed, reported at the end
        self.seeded_by: dict[str, str] = {}  # key -> what seeded it, e.g. "entries() in routes/x/+page.py"
        self.urls: dict[str, str] = {}  # page key -> the URL it is linked as (/about -> /about/), for messages
        self.ids: dict[str, str] = {}  # page key -> ids on it (render.pack_ids)
        self.anchors: list[tuple[str, str, str]] = []  # (target key, id, referrer key)
        self.rendered_routes: set[str] = set()
        self.prerendered: dict[str, bool] = {}  # route id -> its `prerender` option, read once
        self.broken_routes: set[str] = set()  # routes whose module or entries() failed (reported once)
        self.headers: dict[str, dict[str, str]] = {}  # URL -> headers for _headers
        self.redirects: dict[str, tuple[str, int]] = {}  # URL -> (location, status)
        self.sitemap: list[str] = []
        self.outputs: list[Claim] = []  # every path that wrote (or failed to write) files
        self.done = 0
        self.needs_client = False  # a template called client_script()
        self.fetched_urls = False  # a page read an absolute URL: its answer may change
        self.seed_deps: set[str] = set()  # what entries() read: when it changes, the paths to build may too
        self.imported: set[str] = set()  # files of the modules the workers imported (see cache.site_modules)
        self.extra_reads: set[str] = set()  # what 404.html read (see not_found_page)
        self.extra_digests: dict[str, tuple[int, int, str]] = {}  # and the versions it read (see context.record_digest)

    # -- 1. seed -------------------------------------------------------------------------------

    def seed(self) -> None:
        for entry in self.config.prerender.entries:
            if entry != "*":
                self._seed_path(unquote(entry))
                continue
            routes = [route for route in self.site.manifest.routes if self._prerendered(route)]
            listed = [[(route, item) for item in self._entries(route)] for route in routes]
            # Routes without params are often listings (/, /blog) that show every entry's
            # summary. In a full build they go last: the workers have rendered those bodies
            # by then. When only a few sources changed they go first: their summaries come
            # from the cache, and the longest renders start while the rest is replayed.
            listings_first = self.cache is not None and self.cache.few_changes()
            if listings_first:
                self._seed_static(routes)
            # Round robin over the routes: /posts/a and /api/posts/a.json, listed from the
            # same collection, go to the same worker one after the other and share its
            # rendering of a.md while it is still in memory.
            sources = {route.id: f"entries() in {route.module or route.server}" for route in routes}  # one string per route
            for row in itertools.zip_longest(*listed):
                for route, item in filter(None, row):
                    self.enqueue(item.path, None, item.props, source=sources[route.id])
            if not listings_first:
                self._seed_static(routes)

    def _seed_static(self, routes: list[Route]) -> None:
        for route in routes:
            if not route.dynamic:
                self.enqueue(route.rid.path_for({}), None, None)

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
            try:
                items = list(fn() or []) if fn else []
            except SystemExit as exc:
                raise exit_called(exc) from None
        except Exception as exc:
            self._failed("entries", route, None, exc, prefix=f"{file}: entries() failed: ")
            self.broken_routes.add(route.id)  # reported once: not again as a route no entries() listed
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
        if props is not None:
            self.props[k] = props
        self.queue.append(k)

    # -- 2. render, write and crawl each path ----------------------------------------------------

    def run(self) -> Result:
        """Seed the queue, render every path on `jobs` processes, and judge what the crawl found."""
        from concurrent.futures import FIRST_COMPLETED, wait  # here: an edit build renders none

        with collector_paused(), context.tracking(self.seed_deps):  # the seed reads every entry: long-lived objects, no garbage
            self.seed()
        end_prefetch()
        # What exists now (the parsed site, the previous build's record) lives for the whole
        # build: out of the collector's sight, full collections stay short, and forked
        # workers do not copy the pages a collection would touch.
        gc.freeze()
        job = Job(self.site, self.writer, self.props, self.config.prerender.crawl, self.concurrency)
        pool = Pool(job, self.jobs)
        pending: dict[Future, list[str]] = {}
        try:
            while self.queue or pending:
                while self.queue and len(pending) < 2 * self.jobs:
                    # Batches amortise the cost of a round trip to a worker; small when the queue is short.
                    size = max(1, min(BATCH, len(self.queue) // (2 * self.jobs)))
                    batch = []
                    examined = 0
                    # Sent when full, or once it has looked at a few batches' worth of paths
                    # (most of them replayed): an edit's few paths start rendering at once.
                    while self.queue and len(batch) < size and examined < 4 * BATCH:
                        k = self.queue.popleft()
                        examined += 1
                        if not self._reuse(k):
                            batch.append(k)
                    if batch:
                        pending[pool.submit(batch)] = batch
                if not pending:
                    continue
                finished, _ = wait(pending, return_when=FIRST_COMPLETED)
                # Handled in path order so the run depends on timing no more than it must.
                for future in sorted(finished, key=lambda f: pending[f][0]):
                    batch = pending.pop(future)
                    try:
                        dones, imported = future.result()
                    except Exception as exc:  # a worker died (killed, out of memory)
                        self.result.problems.append(Problem(
                            "worker", f"a worker process failed while rendering {', '.join(batch)}: {exc!r}",
                            path=batch[0], chain=self.chain(batch[0]),
                        ))
                        continue
                    self.imported.update(imported)
                    for done in dones:
                        self.handle(done)
                        self.done += 1
                        if self.cache is not None and done.failure is None and done.kind != "error" and not done.write_errors:
                            self.cache.record(key(done.path), done, self.props.get(key(done.path)))
                self.progress(self.done, self.done + len(self.queue) + sum(map(len, pending.values())))
        except BaseException:
            pool.close(cancel=True)
            raise
        pool.close()
        self.finish()
        return self.result

    def _reuse(self, k: str) -> bool:
        """Replay a path from the previous build when nothing it read changed: link its
        files from the previous output and feed its links to the crawl."""
        if self.cache is None:
            self.rendered.append((k, "--fresh"))
            return False
        entry, why = self.cache.reusable(k, self.props.get(k))
        if entry is None or not self.writer.link_from(self.config.out_dir, entry.done.files):
            self.rendered.append((k, why or "its files in the output were changed or deleted"))
            return False
        self.handle(entry.done)
        self.cache.keep(k)
        self.done += 1
        self.reused += 1
        return True

    def handle(self, d: Done) -> None:
        if d.route is not None:
            self.rendered_routes.add(d.route)
        self.needs_client = self.needs_client or d.needs_client
        self.fetched_urls = self.fetched_urls or any("://" in dep for dep in d.deps)
        for fetched in d.fetched:
            self.enqueue(fetched, key(d.path), None)
        if d.files or d.write_errors:
            self.outputs.append(Claim(d.path, d.files, d.write_errors, d.route, tuple(d.params.items())))  # claimed at the end, in path order
        failed = {rel for rel, _ in d.write_errors}
        written = [rel for rel in d.files if rel not in failed]
        if d.kind in ("page", "endpoint", "redirect") and written:
            self.result.written.append(Written(d.path, d.kind, d.status, d.route, written[0]))
        if d.kind == "page":
            self.result.data_files += len(written) == 2
            self.sitemap.append(d.url)
        if d.kind in ("page", "endpoint") and d.headers:
            self.headers[d.url] = d.headers
        if d.kind == "redirect":
            self.redirects[d.url] = (d.location, d.status)
        if d.kind == "error":
            self.failed.append(d)
        if d.ids is not None:
            here = key(d.path)
            self.ids[here] = d.ids
            self.urls[here] = d.url.removeprefix(self.config.base_path) or "/"
            self._follow(d, here)

    def _write_problem(self, d: Done | Claim, message: str) -> None:
        self.result.problems.append(Problem("write", message, path=d.path, route=d.route, params=d.params, chain=self.chain(key(d.path))))

    def _error(self, d: Done) -> None:
        k = key(d.path)
        chain = self.chain(k)
        if d.failure is not None:
            f = d.failure
            self.result.problems.append(Problem(
                "load", f"{d.status} {d.path}: {f.message}", path=d.path, route=d.route, params=d.params,
                file=f.file, line=f.line, chain=chain, frames=f.frames,
            ))
            return
        # A seeded path (entries(), the config) must build; a crawled link is judged by policy.
        severity = "error" if self.seen.get(k) is None else self._policy("on_http_error")
        if severity:
            message = f"{d.status} {d.path}{self._linked(k)}"
            self.result.problems.append(Problem("http", message, severity, path=d.path, route=d.route, params=d.params, chain=chain))

    def _follow(self, d: Done, here: str) -> None:
        """Queue the same-site paths a page links to; note its #id links for the end."""
        base = self.config.base_path
        for path in d.outside_base:
            self._report_link(f"{path} is outside the base path {base}", here)
        static = self.site.static_files
        for path, fragment in d.links:
            if path in GENERATED or path in static:
                continue  # not a route's: its file is there, or the build writes it
            if output.unsafe_reason(path):
                self.enqueue(path, here, None)  # reports it; never reaches a load or the writer
                continue
            if fragment:
                self.anchors.append((key(path), fragment, here))
            if key(path) in self.seen:
                first = self.seen[key(path)]
                if first is not None and here < first:
                    self.seen[key(path)] = here  # messages name the first page in path order, not in time
                continue
            try:
                found_route = self.site.match(path)
            except Exception:
                found_route = None  # a matcher that raises: respond() reports it with its traceback
            if found_route is not None and not self._prerendered(found_route[0]):
                if found_route[0].id in self.broken_routes:
                    self.seen[key(path)] = here  # its import error is already reported
                else:
                    self.unlinkable[key(path)] = f"{path} is not prerendered (prerender = False in {found_route[0].dir})"
                    self.seen[key(path)] = here
                continue
            self.enqueue(path, here, None)

    def _report_link(self, message: str, referrer: str | None, target: str | None = None) -> None:
        severity = self._policy("on_http_error")
        if severity and referrer is not None:
            self.result.problems.append(Problem(
                "http", f"{message} (linked from {self.url_of(referrer)})", severity, path=target, chain=(self.url_of(referrer),),
            ))

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

    def _claim_outputs(self) -> None:
        """Claim every file in path order, as if one process had written them all, so a clash
        between two paths (/feed and /feed/x) reads the same whatever order the workers
        wrote in. A write that failed is explained by such a clash; else its error is reported."""
        unexplained = []
        for d in sorted(self.outputs, key=lambda d: d.path):
            failed = dict(d.write_errors)
            for rel in d.files:
                try:
                    self.writer.claim(rel)
                except output.UnsafePath as exc:
                    self._write_problem(d, str(exc))
                    break
                if rel in failed:
                    unexplained.append((d, rel, failed[rel]))
        if unexplained:
            planned = {rel for d in self.outputs for rel in d.files}
            folders = {rel.rsplit("/", i)[0] for rel in planned for i in range(1, rel.count("/") + 1)}
            for d, rel, why in unexplained:
                clash = rel in folders or any(p in planned for p in (rel.rsplit("/", i)[0] for i in range(1, rel.count("/") + 1)))
                if not clash:  # not a clash with another path (reported above): say what the OS said
                    self._write_problem(d, f"{rel}: {why}")

    def finish(self) -> None:
        for d in sorted(self.failed, key=lambda d: d.path):
            self._error(d)
        for k, message in sorted(self.unlinkable.items()):
            self._report_link(message, self.seen.get(k), k)
        self._claim_outputs()
        severity = self._policy("on_missing_id")
        if severity:
            for target, anchor, referrer in sorted(set(self.anchors)):
                ids = self.ids.get(target)
                if ids is not None and not has_id(ids, anchor) and anchor != "top":
                    self.result.problems.append(Problem(
                        "missing_id", f"#{anchor} is not an id on {self.url_of(target)} (linked from {self.url_of(referrer)})",
                        severity, path=target, chain=(self.url_of(referrer),),
                    ))
        severity = self._policy("on_unseen_routes")
        # A page that failed, or was never listed, links to nothing: it may be the one that
        # would have reached the route.
        failed = any(d.status != 404 for d in self.failed) or self.broken_routes
        maybe = " (a link to it may be on a page that failed or was not built)" if failed else ""
        if severity:
            for route in self.site.manifest.routes:
                if route.dynamic and route.id not in self.rendered_routes and route.id not in self.broken_routes and self._prerendered(route):
                    example = {p.name: "hello" for p in route.rid.params if not p.optional}
                    # entries() lives in +page.py (or +server.py); name that file even when it does not exist yet.
                    module = route.module or route.server or f"{route.dir}/+page.py"
                    self.result.problems.append(Problem(
                        "unseen_route",
                        f"{module}: dynamic route {route.id} has no entries() and was not reached by the crawl{maybe}. "
                        f"Return e.g. [{example!r}] from entries() in {module}, link to it, or set prerender = False.",
                        severity, route=route.id, file=route.module or route.server or route.template,
                    ))
        # Problems sorted so the report reads the same on every run.
        self.result.problems.sort(key=lambda p: (p.severity, p.kind, p.path or "", p.message))
        self.result.written.sort(key=lambda w: w.path)


async def write_extras(site: Site, writer: Writer, pre: Prerender) -> None:
    """404.html, sitemap.xml, _redirects, _headers and static/: everything beside the pages."""
    config = site.config
    writer.write("404.html", await not_found_page(site, pre.extra_reads, pre.extra_digests))
    if config.origin:
        writer.write("sitemap.xml", sitemap_xml(site, pre.sitemap))
    # A host reads its rules from _redirects and _headers alone: the site's own, in static/,
    # come first (the first rule that matches wins), then those the loads asked for.
    own = {name: (config.static_dir / name).read_bytes() for name in HOST_RULE_FILES if (config.static_dir / name).is_file()}
    redirects = "".join(f"{src} {loc} {status}\n" for src, (loc, status) in sorted(pre.redirects.items()))
    headers = "".join(
        url + "\n" + "".join(f"  {_title(k)}: {v}\n" for k, v in sorted(h.items()))
        for url, h in sorted(pre.headers.items())
    )
    for name, generated in (("_redirects", redirects), ("_headers", headers)):
        if generated or name in own:
            writer.write(name, _joined(own.get(name, b""), generated.encode()))
    if pre.needs_client:
        writer.write(CLIENT_FILE, CLIENT_SOURCE.read_bytes())
    pre.result.static_files = len(writer.copy_tree(config.static_dir, skip=own.keys()))


def _joined(own: bytes, generated: bytes) -> bytes:
    """The site's own rules, then the build's, each on lines of their own."""
    if own and generated and not own.endswith(b"\n"):
        own += b"\n"
    return own + generated


async def not_found_page(site: Site, read: set[str], digests: dict[str, tuple[int, int, str]]) -> bytes:
    """404.html: the root +error.html with status 404. What it read goes into `read`, and
    the versions it read into `digests` (no path's record holds them, yet the no-change
    check must know a file it read outside the walk, or one that came and went)."""
    with context.tracking(read, digests):
        return (await error_page(site, "/404", 404, "Not found")).body


def sitemap_xml(site: Site, urls: list[str]) -> bytes:
    """sitemap.xml for the pages' URLs (with the base path), dated by the build's time stamp."""
    origin = site.config.origin.rstrip("/")
    # Sorted: the sitemap must be byte-identical whatever order the crawl took.
    items = "".join(
        f"  <url><loc>{_xml(origin + u)}</loc><lastmod>{site.generated_at[:10]}</lastmod></url>\n" for u in sorted(set(urls))
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n' + items + "</urlset>\n"
    ).encode()


def _xml(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _title(name: str) -> str:
    return "-".join(part.capitalize() for part in name.split("-"))
