"""`ssg serve`'s app: answer each request through `respond()`, the function the build uses,
remember what each render read, and after each batch of saved files drop exactly the
renders that read a changed file and reload only the tabs that show them.

What a path answers is what `ssg build` would write for it, plus the live-reload script:
prerendered paths render with no request (as at build) and are kept until a file they
read changes; `prerender = False` routes and methods other than GET/HEAD render live,
with `event.request`, every time.
"""

from __future__ import annotations

import asyncio
import json
import os
import stat
import sys
import time
import traceback
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote

from .. import config as config_mod
from .. import context
from .. import manifest as manifest_mod
from .. import templates as templates_mod
from ..context import dep_file
from ..errors import SsgError
from ..manifest import Route
from ..mediatypes import content_type
from ..request import Request
from ..respond import Rendered, error_page, respond
from ..site import Site
from ..watch import Change, Watcher
from . import overlay, sitecode
from .graph import CONFIG_FILES, DepGraph, is_css, plan
from .hub import Hub
from .paths import hidden, safe_file
from .props import Props
from .protocol import Incoming, Reply, Upgrade, location_header, text_reply

LIVE_PREFIX = "/__ssg/"
SCRIPT_URL = "/__ssg/livereload.js"
SCRIPT_SOURCE = Path(__file__).with_name("livereload.js")
NO_STORE = {"cache-control": "no-store"}  # the dev server's answers change on every save


@dataclass(frozen=True)
class Page:
    rendered: Rendered
    version: int  # the batch of changes it was rendered after


def render_key(path: str) -> str:
    """Given a path without the base path, return the key its render is kept under.

    >>> render_key("/blog/hello/"), render_key("/")
    ('/blog/hello', '/')
    """
    return path.rstrip("/") or "/"


class DevApp:
    """Given a validated config, serve its site from the sources (see the module docstring)."""

    def __init__(self, config: config_mod.Config, *, log: Callable[[str], None] | None = None) -> None:
        self.root = config.root
        self.log = log or (lambda message: print(message, file=sys.stderr, flush=True))
        self.hub = Hub()
        self.graph = DepGraph()
        self.props = Props(self.root)
        self.watcher: Watcher | None = None
        self.batch = 0  # counts the batches of changes applied
        self.site: Site | None = None
        self.broken: SsgError | None = None  # a config or routes/ tree that cannot be served
        self.cache: dict[str, Page] = {}  # render key -> its current render (prerendered GETs)
        self.inflight: dict[str, asyncio.Future[Page]] = {}
        self.printed: set[tuple[Any, ...]] = set()  # failures already printed since the last save
        # A dep reached through a symlink (content/a.md -> _src/a.md), by the name the
        # watcher reports an edit under: its real path in the site.
        self.aliases: dict[str, set[str]] = {}
        self._resolved: dict[str, str | None] = {}  # dep -> its real path when that differs, per batch
        self._module_count = 0
        self._code_folders: set[str] = set()  # top folders of the site modules imported (lib)
        self._logs = _log_files()
        self._watched_tops: set[str] = set()  # top folders _watch_folders_read() asked to watch
        self._script = SCRIPT_SOURCE.read_bytes()
        self._open(config)

    # -- lifecycle --------------------------------------------------------------------------------

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        self.watcher = Watcher(self.root, loop, self.apply)
        self.watcher.start()
        self._watch_site_modules()

    async def close(self) -> None:
        if self.watcher is not None:
            self.watcher.stop()
        self.hub.close()
        if self.site is not None:
            await self.site.aclose()

    def _open(self, config: config_mod.Config) -> None:
        """Open the site; a routes/ problem is shown in every tab, not raised."""
        old = self.site
        try:
            self.site, self.broken = Site(config), None
            context.activate(self.site)
        except SsgError as exc:
            self.site, self.broken = None, exc
            self.log(f"error: {exc}")
        if old is not None and old is not self.site:
            asyncio.ensure_future(old.aclose())  # its httpx client, if a load fetched anything

    # -- requests ---------------------------------------------------------------------------------

    async def handle(self, req: Incoming) -> Reply | Upgrade:
        path = req.target.path
        if path.startswith(LIVE_PREFIX):
            return self._internal(req)
        if req.method not in ("GET", "HEAD", "OPTIONS") and not _same_origin(req):
            # A page on another site may not make this server run a +server.py handler (CSRF).
            return text_reply(403, f"Forbidden: a {req.method} from {req.header('origin')} to this dev server")
        if self.site is None or self.broken is not None:
            body = overlay.site_error_page(str(self.broken)).encode("utf-8")
            return Reply(500, self._inject(body, self.batch), "text/html; charset=utf-8", dict(NO_STORE))
        site = self.site
        context.activate(site)
        base = site.config.base_path
        if base:
            if path in ("/", base):
                return _redirect(base + "/", req.target.query)
            if not path.startswith(base + "/"):
                return await self._not_found(path)
            path = path[len(base):]
        if hidden(path):
            return await self._not_found(path)  # never a dotfile, wherever it is asked for
        if req.method in ("GET", "HEAD"):
            static = safe_file(site.config.static_dir, path)
            if static is not None:
                return self._static(static, path)
            index = self._static_index(path)  # as a static host serves it
            if index is not None:
                return self._static(index, path) if path.endswith("/") else _redirect(base + path + "/", req.target.query)
            client_file = getattr(templates_mod, "CLIENT_FILE", None)  # the client runtime the build writes
            if client_file and path == "/" + client_file:
                return Reply(200, templates_mod.CLIENT_SOURCE.read_bytes(), content_type(client_file), dict(NO_STORE))
        if path == "/__data.json" or path.endswith("/__data.json"):
            return await self._data(req, path[: -len("/__data.json")] or "/")
        return await self._route(req, path)

    async def _route(self, req: Incoming, path: str) -> Reply:
        key = render_key(path)
        route, live = self._route_of(key, req.method)
        if route is not None:
            try:
                canonical = self.site.canonical(key, route)
            except Exception:
                canonical = path  # the route's module fails to import: respond() shows why
            if path != canonical:
                return _redirect(self.site.config.base_path + canonical, req.target.query)
        if live:
            page = await self._render_now(key, self._request(req), req.method, keep=False)
        else:
            self._freshen(req, key, route)
            page = await self._render(key)
        return self._reply(page, key)

    async def _data(self, req: Incoming, page_path: str) -> Reply:
        """/x/__data.json: the envelope the build writes beside /x's HTML."""
        if req.method not in ("GET", "HEAD"):
            return text_reply(405, "Method Not Allowed", {"allow": "GET, HEAD"})
        key = render_key(page_path)
        route, live = self._route_of(key, "GET")
        if route is None or not route.is_page:
            return _json_reply(404, {"type": "error", "status": 404, "message": f"no page at {page_path}"})
        if live:
            page = await self._render_now(key, self._request(req), "GET", keep=False)
        else:
            self._freshen(req, key, route)
            page = await self._render(key)
        r = page.rendered
        if r.kind == "page":
            body = r.envelope_json
            return Reply(200, body, "application/json", {**r.headers, **NO_STORE})
        if r.kind == "redirect":
            message = f"{page_path} redirects to {r.location}; the build writes no __data.json for it"
            return _json_reply(404, {"type": "error", "status": 404, "message": message})
        error: dict[str, Any] = {"type": "error", "status": r.status}
        if r.failure is not None:
            error.update(message=r.failure.message, file=r.failure.file, line=r.failure.line)
        else:
            error["message"] = r.body.decode("utf-8", "replace")
        return _json_reply(r.status, error)

    def _static_index(self, path: str) -> Path | None:
        """static/guide/index.html for /guide/ or /guide, unless a route of that very path
        answers (the build fails on the two files: the route's page is shown meanwhile). A
        dynamic route gives way, as in the build, where only the params it lists are pages."""
        index = safe_file(self.site.config.static_dir, path.rstrip("/") + "/index.html")
        route = self._route_of(render_key(path), "GET")[0] if index is not None else None
        return index if route is None or route.dynamic else None

    def _route_of(self, key: str, method: str) -> tuple[Route | None, bool]:
        """Given a render key, return (its route or None, whether it renders live with a request)."""
        live = method not in ("GET", "HEAD")
        try:
            found = self.site.match(key)
            if found is None:
                return None, live
            return found[0], live or not self.site.option(found[0], "prerender")
        except Exception:
            return None, live  # a matcher or module that fails: respond() renders the error

    def _freshen(self, req: Incoming, key: str, route: Route | None) -> None:
        """The browser's reload button re-renders the page (a load may read a file ssg cannot
        see); a hard reload (Ctrl-Shift-R, "no-cache") runs its route's entries() again too."""
        asked = f"{req.header('cache-control') or ''} {req.header('pragma') or ''}".lower()
        if "no-cache" in asked or "max-age=0" in asked:
            self.cache.pop(key, None)
            if "no-cache" in asked and route is not None:
                self.props.drop(route.id)

    def _request(self, req: Incoming) -> Request:
        return Request(method=req.method, url=req.url, headers=req.headers, body=req.body)

    async def _not_found(self, path: str) -> Reply:
        rendered = await error_page(self.site, path, 404, "Not found")
        return Reply(404, self._inject(rendered.body, self.batch), rendered.content_type, dict(NO_STORE))

    def _static(self, file: Path, path: str) -> Reply:
        try:
            body = file.read_bytes()
        except OSError:  # deleted between the lookup and the read
            return text_reply(404, "Not found")
        kind = content_type(file.name)
        if kind.startswith("text/html"):
            rel = file.relative_to(self.site.config.static_dir.resolve()).as_posix()
            self.graph.record(render_key(path), frozenset({f"static/{rel}"}), failed=False)
            body = self._inject(body, self.batch)
        return Reply(200, body, kind, dict(NO_STORE))

    def _internal(self, req: Incoming) -> Reply | Upgrade:
        path = req.target.path
        if path == SCRIPT_URL and req.method in ("GET", "HEAD"):
            return Reply(200, self._script, "text/javascript; charset=utf-8", dict(NO_STORE))
        if path != "/__ssg/live":
            return text_reply(404, "Not found")
        if not _same_origin(req):
            return text_reply(403, "Forbidden: the live-reload socket only talks to pages of this server")
        if (req.header("upgrade") or "").lower() != "websocket":
            return text_reply(400, "Bad Request: /__ssg/live is the live-reload WebSocket")
        query = parse_qs(req.target.query)
        pathname = query.get("path", ["/"])[0]
        base = self.site.config.base_path if self.site is not None else ""
        if base and (pathname == base or pathname.startswith(base + "/")):
            pathname = pathname[len(base):]
        key = render_key(pathname)
        try:
            version = int(query.get("version", ["0"])[0])
        except ValueError:
            version = 0
        stale = self.graph.stale(key, version, self.batch)
        return Upgrade(lambda socket: self.hub.attach(socket, key, stale=stale))

    # -- rendering --------------------------------------------------------------------------------

    async def _render(self, key: str) -> Page:
        """The prerendered page at key: kept from before, joined while it renders, or rendered."""
        hit = self.cache.get(key)
        if hit is not None:
            return hit
        task = self.inflight.get(key)
        if task is None:
            # Requests for the same page while it renders share one render (a tab and its __data.json).
            task = self.inflight[key] = asyncio.ensure_future(self._render_now(key, None, "GET", keep=True))
            task.add_done_callback(lambda done, key=key: self.inflight.pop(key, None) if self.inflight.get(key) is done else None)
        # Shielded: a client that hangs up does not cancel a render others wait for.
        return await asyncio.shield(task)

    async def _render_now(self, key: str, request: Request | None, method: str, *, keep: bool) -> Page:
        site, version = self.site, self.batch
        context.activate(site)
        rendered = None
        props = None
        if keep:
            route, _ = self._route_of(key, "GET")
            if route is not None:
                props, failure = self.props.get(site, route, key)
                if failure is not None:
                    rendered = Rendered(key, "error", 500, b"", "text/html; charset=utf-8", route, failure=failure)
        if rendered is None:
            rendered = await respond(site, key, method=method, request=request, props=props)
        page = Page(rendered, version)
        if method in ("GET", "HEAD"):
            # What entries() read is not recorded here: it decides only the props, and a change
            # there reloads just the pages whose props changed (Props.refresh).
            self._note_aliases(rendered.deps)
            failed = rendered.kind == "error" or rendered.fetched_failure
            if self.graph.record(key, frozenset(rendered.deps), failed=failed) and rendered.status < 400:
                self.log(f"ok: {key} renders again")
            # A file changed while this rendered: serve it, but do not keep it.
            if keep and version == self.batch and site is self.site:
                self.cache[key] = page
        self._report(key, rendered)
        self._watch_site_modules()
        self._watch_folders_read(rendered.deps)
        return page

    def _reply(self, page: Page, key: str) -> Reply:
        r = page.rendered
        headers = {**r.headers, **NO_STORE}
        if r.kind == "redirect":
            headers["location"] = _redirect_location(r.location or "/")
            return Reply(r.status, r.body, r.content_type, headers)
        if r.failure is not None:
            if r.route is not None and not r.route.is_page:
                return text_reply(r.status, overlay.error_text(r.status, key, r.failure), NO_STORE)
            body = overlay.error_page(self.root, r.status, key, r.failure).encode("utf-8")
            return Reply(r.status, self._inject(body, page.version), "text/html; charset=utf-8", headers)
        allow = headers.get("allow", "").split(", ")
        if "GET" in allow and "HEAD" not in allow:
            headers["allow"] = ", ".join(sorted(allow + ["HEAD"]))  # HEAD is answered by GET
        body = r.body
        if r.content_type.startswith("text/html") and r.kind in ("page", "error"):
            body = self._inject(body, page.version)
        return Reply(r.status, body, r.content_type, headers)

    def _inject(self, body: bytes, version: int) -> bytes:
        tag = f'<script src="{SCRIPT_URL}" data-version="{version}"></script>'.encode()
        at = body.lower().rfind(b"</body>")
        return body[:at] + tag + body[at:] if at >= 0 else body + tag

    def _report(self, key: str, rendered: Rendered) -> None:
        """Print a failure once until the next save, however many requests or pages hit it."""
        f = rendered.failure
        if f is None:
            return
        signature = (f.message, f.file, f.line)
        if signature not in self.printed:
            self.printed.add(signature)
            self.log("error: " + overlay.error_text(rendered.status, key, f))

    # -- changes ----------------------------------------------------------------------------------

    def apply(self, changes: list[Change]) -> None:
        """Given one debounced batch of changed files, drop what depended on them and tell the tabs."""
        try:
            self._apply(changes)
        except Exception:  # a bug in ssg: say so, and keep serving and watching
            self.log("error: ssg failed while applying changes\n" + traceback.format_exc())

    def _apply(self, changes: list[Change]) -> None:
        started = time.perf_counter()
        if self._logs:  # `ssg serve > serve.log` inside the site: its own lines are no change
            changes = [c for c in changes if _identity(self.root / c.path) not in self._logs]
        # A file at the top of the site that no page read, no config and no module (a log,
        # `ssg serve | tee serve.log`; notes): no change, and no line in the log either;
        # unless a page is failing, which may have read it unseen (open("data.json")).
        if not self.graph.errors:
            changes = [c for c in changes if not _unread_top_file(c, self.graph.readers)]
        # An edit to a file some page read through a symlink is an edit to that name too.
        changes = changes + [
            Change(alias, c.kind, c.is_dir) for c in changes for alias in sorted(self.aliases.get(c.path, ())) if alias != c.path
        ]
        self._resolved.clear()
        out = Path(self.site.config.out).parts[0] if self.site is not None else "build"
        todo = plan(changes, out=out, watched=self.watcher.trees() if self.watcher is not None else (), code=self._code_folders)
        if not todo.changes:
            return
        changes = todo.changes
        self.batch += 1
        if self.site is not None:
            self.site.forget_remembered()
        self.printed.clear()
        for c in todo.python:
            sitecode.drop_bytecode(self.root / c.path)
            if self.site is not None and c.path.startswith("routes/"):
                self.site.modules.forget(c.path)
        everything = todo.site_code or self.broken is not None
        reopened = False  # a new Site, with its routes read afresh
        if todo.config or self.broken is not None:
            reopened = self._reopen()
            everything = reopened or everything
        if todo.site_code and not reopened:  # a config saved unchanged reopens nothing
            self._purge_site_code()
        if self.site is not None and (todo.templates or self.site.templates.read_any(c.path for c in changes)):
            self.site.templates.forget()
        if self.site is not None and todo.content:
            _forget_content(self.site)
        if todo.structural and not reopened and self.site is not None:
            # Also when everything reloads anyway (lib/ saved in the same batch): the
            # routes must still be read again, or a new route's pages are not found.
            everything = self._rescan() or everything
        non_css = any(not is_css(c) for c in changes)
        if everything:
            affected = set(self.graph.deps)
            self.cache.clear()
            self.props.clear()
        else:
            affected = self.graph.touched(changes) | self.props.refresh(self.site, changes)
            if non_css:
                affected |= self.graph.errors  # a failing page may be fixed by any save
        for key in affected:
            self.cache.pop(key, None)
            self.inflight.pop(key, None)  # a render begun before the save: the next request starts anew
        # A script or image in static/ a page links to (not one it read): the page's HTML is
        # the same, so its render stays, but the browser holds the old file. Every tab
        # reloads, as Vite does; also one that loaded its page just before the save.
        asset = any(c.path.startswith("static/") and not is_css(c) for c in changes)
        stale = set(self.graph.deps) if asset else affected
        self.graph.mark_stale(stale, self.batch)

        def tab_affected(key: str) -> bool:
            # A tab whose page this server never rendered (it restarted since) reloads to be safe.
            return everything or key in stale or (non_css and key not in self.graph.deps)

        base = self.site.config.base_path if self.site is not None else ""
        reloaded = self.hub.notify(self.batch, tab_affected, [base + css for css in todo.css])
        self._prewarm({tab.key for tab in self.hub.tabs if tab_affected(tab.key)})
        names = ", ".join(c.path for c in changes[:3]) + (f" and {len(changes) - 3} more" if len(changes) > 3 else "")
        done = f"{reloaded} tab{'s' if reloaded != 1 else ''} reloaded" + (f", {len(todo.css)} stylesheet(s) swapped" if todo.css else "")
        self.log(f"changed {names}: {done} ({(time.perf_counter() - started) * 1000:.0f} ms)")

    def _reopen(self) -> bool:
        """Re-read the config; return whether anything changed (a new Site, or a new problem)."""
        try:
            config = config_mod.load(self.root)
        except SsgError as exc:
            if str(exc) != str(self.broken):
                self.log(f"error: {exc}")
            self.site, self.broken = None, exc
            return True
        if self.site is not None and self.broken is None and config == self.site.config:
            return False  # e.g. pyproject.toml edited outside [tool.ssg]
        self._purge_site_code()
        self._open(config)
        return True

    def _rescan(self) -> bool:
        """A route file or folder came or went: re-read the manifest. Return whether
        everything must reload: the tree is broken, or a route came, went, or gained or lost
        a module or a layout. Any page that links to such a route may read an option it sets
        now (trailing_slash), and none recorded a file it lacked; the build's cache key holds
        the routes table for the same reason. (The same routes match every path as before.)"""
        try:
            manifest = manifest_mod.scan(self.root)
        except SsgError as exc:
            self.broken = exc
            self.log(f"error: {exc}")
            return True
        old, self.site.manifest = self.site.manifest, manifest
        return old.routes != manifest.routes

    def _purge_site_code(self) -> None:
        sitecode.purge(self.root)
        if self.site is not None:
            self.site.modules.forget()
        self._module_count = 0

    def _note_aliases(self, deps: Iterable[str]) -> None:
        """Map the real path of each dep read through a symlink back to the dep."""
        root = os.path.realpath(self.root)
        for dep in deps:
            real = self._resolved.get(dep, "")
            if real == "":
                real = None
                if "://" not in dep and not dep.endswith("/"):
                    path = os.path.join(root, dep_file(dep))
                    resolved = os.path.realpath(path)
                    if resolved != path and resolved.startswith(root + os.sep):
                        real = resolved[len(root) + 1 :].replace(os.sep, "/")
                self._resolved[dep] = real
            if real is not None:
                self.aliases.setdefault(real, set()).add(dep_file(dep))
                self._watch_folders_read([real])  # the watcher hears of an edit by this name

    def _watch_folders_read(self, deps: list[str]) -> None:
        """Watch the top folders of what a page read outside the usual ones: an include
        from the site root (`partials/note.html`), also one that does not exist yet."""
        if self.watcher is None:
            return
        tops = {dep.partition("/")[0] for dep in deps if "/" in dep and "://" not in dep} - self._watched_tops
        for top in sorted(tops):
            self.watcher.watch_tree(top)  # a missing one is watched once it appears
        self._watched_tops |= tops

    def _watch_site_modules(self) -> None:
        """Watch the folders of the site modules loads imported (lib/ ...), once each."""
        if self.watcher is None or len(sys.modules) == self._module_count:
            return
        self._module_count = len(sys.modules)
        self._code_folders = sitecode.folders(self.root)
        for folder in sorted(self._code_folders):
            self.watcher.watch_tree(folder)

    def _prewarm(self, keys: set[str]) -> None:
        """Start rendering the pages open tabs are about to ask for, while the reload message
        travels; their requests join the render in flight instead of starting their own."""
        if self.site is None or self.broken is not None:
            return
        for key in sorted(keys):
            route, live = self._route_of(key, "GET")
            if route is None or live or key in self.cache:
                continue
            task = asyncio.ensure_future(self._render(key))
            task.add_done_callback(lambda t: t.cancelled() or t.exception())  # reported when served


def _forget_content(site: Site) -> None:
    """Drop the content layer's snapshot of content/ (unchanged files are not parsed again)."""
    try:
        from ..content import forget
    except ImportError:  # an ssg without the content layer
        return
    forget(site)


def _same_origin(req: Incoming) -> bool:
    """Whether a browser request comes from a page of this server (or from no page at all)."""
    origin = req.header("origin")
    return origin is None or origin == f"http://{req.header('host')}"


def _redirect_location(location: str) -> str:
    """A redirect()'s target as a Location header: as the build writes it, but never
    leaving the origin when it names a path ("//host" is kept on this one)."""
    if not location.startswith("/"):
        return quote(location, safe=":/?#[]@!$&'()*+,;=%~")
    path, hash_, fragment = location.partition("#")
    path, _, query = path.partition("?")
    return location_header(path, query) + hash_ + quote(fragment, safe=":/?#[]@!$&'()*+,;=%~")


def _redirect(path: str, query: str) -> Reply:
    return Reply(308, b"", None, {"location": location_header(path, query), **NO_STORE})


def _json_reply(status: int, data: dict[str, Any]) -> Reply:
    return Reply(status, json.dumps(data, ensure_ascii=False).encode(), "application/json", dict(NO_STORE))


def _log_files() -> set[tuple[int, int]]:
    """The files this process's output goes to, when they are files (device, inode). Not
    through a pipe (`ssg serve | tee serve.log`): keep such a log outside the site."""
    found = set()
    for stream in (sys.stdout, sys.stderr):
        try:
            st = os.fstat(stream.fileno())
        except (AttributeError, OSError, ValueError):
            continue
        if stat.S_ISREG(st.st_mode):
            found.add((st.st_dev, st.st_ino))
    return found


def _identity(path: Path) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_dev, st.st_ino


def _unread_top_file(c: Change, read: Collection[str]) -> bool:
    return "/" not in c.path and not c.is_dir and c.path not in CONFIG_FILES and not c.path.endswith(".py") and c.path not in read
