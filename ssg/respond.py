"""`respond(site, path)`: the one render path shared by `ssg build` and `ssg serve`.

Match the route, run the load chain, render the page or call the endpoint, write nothing.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from . import failures
from .context import tracking
from .errors import HttpError, Redirect
from .failures import Failure
from .fetch import fetch, rendering
from .http import Response
from .load import Event, RequestState, call, run_chain
from .manifest import Route
from .mediatypes import media_type
from .modules import METHODS
from .serialize import encode_bytes, to_jsonable
from .site import Site


@dataclass
class Rendered:
    """What one path answers: enough for the writer (build) or an HTTP response (serve)."""

    path: str
    kind: str  # "page", "endpoint", "redirect" or "error"
    status: int
    body: bytes
    content_type: str
    route: Route | None = None
    params: dict[str, str] = field(default_factory=dict)
    envelope_json: bytes = b""  # the page's __data.json, encoded once for the page and the file
    headers: dict[str, str] = field(default_factory=dict)  # from set_headers() or the endpoint
    location: str | None = None  # for redirects, with the base path applied
    failure: Failure | None = None  # set when user code raised (status 500)
    fetched: list[str] = field(default_factory=list)  # own endpoints fetched in-process
    deps: list[str] = field(default_factory=list)  # every source it read, sorted (see context.py)
    digests: dict[str, tuple[int, int, str]] = field(default_factory=dict)  # dep -> (mtime_ns, size, hash) known from reading it
    fetched_failure: bool = False  # an in-process fetch of its got a failure (see fetch.py)

    @property
    def envelope(self) -> dict[str, Any] | None:
        """The page's __data.json, parsed (kept only as bytes: a listing's is megabytes)."""
        return json.loads(self.envelope_json) if self.envelope_json else None


async def respond(site: Site, path: str, *, method: str = "GET", request: Any = None, props: Any = None) -> Rendered:
    """Given a decoded path without the base path, return what the site answers."""
    deps: set[str] = set()
    digests: dict[str, tuple[int, int, str]] = {}
    with tracking(deps, digests), rendering(method, path):
        rendered = await _respond(site, path, method, request, props)
    # Sorted: the record must not depend on the order loads happened to run in.
    rendered.deps = sorted(deps)
    rendered.digests = digests
    return rendered


async def _respond(site: Site, path: str, method: str, request: Any, props: Any) -> Rendered:
    try:
        found = site.match(path)
    except Exception as exc:  # a matcher that fails to import or raises
        return await _error_page(site, path, None, {}, 500, exc)
    if found is None:
        return await _error_page(site, path, None, {}, 404, HttpError(404, "Not found"))
    route, params = found
    if route.is_page and method in ("GET", "HEAD"):
        return await _page(site, path, route, params, request, props)
    if route.server:
        return await _endpoint(site, path, route, params, method, request, props)
    return Rendered(path, "error", 405, b"Method Not Allowed", "text/plain; charset=utf-8", route, params, headers={"allow": "GET, HEAD"})


def _event_factory(site: Site, path: str, route: Route, params: dict[str, str], state: RequestState, request: Any, props: Any):
    canonical = site.canonical(path, route)
    url = site.absolute(canonical)
    fetcher = partial(fetch, site, state, route_id=route.id, page_path=canonical)

    def make_event(parent=None) -> Event:
        return Event(params=params, url=url, route_id=route.id, props=props, state=state, fetch=fetcher, parent=parent, request=request)

    return make_event, url


async def _page(site: Site, path: str, route: Route, params: dict[str, str], request: Any, props: Any) -> Rendered:
    state = RequestState()
    try:
        make_event, url = _event_factory(site, path, route, params, state, request, props)
        files = [layout.module for layout in route.layouts] + [route.module]
        loads = [(f, getattr(site.modules.get(f), "load", None) if f else None) for f in files]
        cumulative = _merged(await run_chain(route, loads, make_event))
        merged = cumulative[-1]
        # Encoded at once: the plain-JSON copy of the data lives no longer than this line.
        envelope_json = encode_bytes({
            "type": "data",
            "route": route.id,
            "params": params,
            "generated_at": site.generated_at,
            "depends": list(state.depends),
            "data": to_jsonable(merged, "data"),
        })
        page = {"url": url, "params": params, "route": {"id": route.id}, "status": 200, "error": None, "data": merged}
        chain = _template_chain(route.template, route.layouts, cumulative)
        body = site.templates.render_chain(chain, page, envelope_json).encode("utf-8")  # a lone surrogate fails here, as this page's error
    except Redirect as exc:
        return _redirect(site, path, route, params, exc, state)
    except Exception as exc:
        status = exc.status if isinstance(exc, HttpError) else 500
        rendered = await _error_page(site, path, route, params, status, exc)
        rendered.fetched = state.fetched
        return rendered
    return Rendered(
        path, "page", 200, body, "text/html; charset=utf-8", route, params,
        envelope_json=envelope_json, headers=dict(state.headers), fetched=state.fetched, fetched_failure=state.fetched_failure,
    )


async def _endpoint(site: Site, path: str, route: Route, params: dict[str, str], method: str, request: Any, props: Any) -> Rendered:
    state = RequestState()
    try:
        make_event, _ = _event_factory(site, path, route, params, state, request, props)
        module = site.modules.get(route.server)
        handler = getattr(module, method, None) or (getattr(module, "GET", None) if method == "HEAD" else None)
        if handler is None:
            allow = ", ".join(m for m in METHODS if hasattr(module, m))
            return Rendered(path, "error", 405, b"Method Not Allowed", "text/plain; charset=utf-8", route, params, headers={"allow": allow})
        result = await call(handler, make_event())
        if not isinstance(result, Response):
            raise TypeError(f"{route.server}: {method}() must return a Response (use json(...) or text(...)), not {type(result).__name__}")
    except Redirect as exc:
        return _redirect(site, path, route, params, exc, state)
    except HttpError as exc:
        return Rendered(path, "error", exc.status, exc.message.encode(), "text/plain; charset=utf-8", route, params)
    except Exception as exc:
        failure = failures.from_exception(exc, site.root)
        return Rendered(path, "error", 500, failure.message.encode(), "text/plain; charset=utf-8", route, params, failure=failure)
    headers = {**state.headers, **result.headers}
    content_type = headers.pop("content-type", None) or media_type(path) or "application/octet-stream"
    return Rendered(path, "endpoint", result.status, result.body, content_type, route, params, headers=headers, fetched=state.fetched,
                    fetched_failure=state.fetched_failure)


async def error_page(site: Site, path: str, status: int, message: str) -> Rendered:
    """Given a status, return the root error page for it (404.html at build)."""
    return await _error_page(site, path, None, {}, status, HttpError(status, message))


def _redirect(site: Site, path: str, route: Route, params: dict[str, str], exc: Redirect, state: RequestState) -> Rendered:
    location = exc.location
    if location.startswith("/") and not location.startswith("//"):
        location = site.config.base_path + location
    safe = html.escape(location, quote=True)
    body = (
        f'<!doctype html><meta charset="utf-8"><title>Redirecting</title>'
        f'<meta http-equiv="refresh" content="0; url={safe}"><link rel="canonical" href="{safe}">'
        f'<p>This page has moved to <a href="{safe}">{safe}</a>.</p>\n'
    )
    return Rendered(path, "redirect", exc.status, body.encode(), "text/html; charset=utf-8", route, params, location=location, fetched=state.fetched)


async def _error_page(site: Site, path: str, route: Route | None, params: dict[str, str], status: int, exc: BaseException) -> Rendered:
    """Render the nearest +error.html inside the layouts above it; fall back to plain HTML."""
    failure = None if isinstance(exc, HttpError) else failures.from_exception(exc, site.root)
    message = exc.message if isinstance(exc, HttpError) else failure.message
    root_error = site.manifest.root_error
    template = route.error_pages[0] if route and route.error_pages else root_error
    body = None
    if template is not None:
        body = await _render_error_template(site, path, route, template, status, message)
    if body is None:
        body = _fallback_error(status, message)
    return Rendered(path, "error", status, body.encode("utf-8"), "text/html; charset=utf-8", route, params, failure=failure)


async def _render_error_template(site: Site, path: str, route: Route | None, template: str, status: int, message: str) -> str | None:
    folder = template.rsplit("/", 1)[0]
    layouts = site.manifest.root_layout and (site.manifest.root_layout,) or ()
    if route is not None:
        layouts = tuple(layout for layout in route.layouts if folder == layout.dir or folder.startswith(layout.dir + "/"))
    state = RequestState()
    url = site.absolute(path)

    def make_event(parent=None) -> Event:
        return Event(params={}, url=url, route_id=route.id if route else "", props=None, state=state,
                     fetch=partial(fetch, site, state, route_id="(error page)", page_path=path), parent=parent)

    for use_layouts in (layouts, ()):  # if a layout's load fails, render the error template bare
        try:
            loads = [(layout.module, getattr(site.modules.get(layout.module), "load", None) if layout.module else None) for layout in use_layouts]
            cumulative = _merged(await run_chain(route, loads, make_event) if loads else [])
            merged = cumulative[-1]
            page = {"url": url, "params": {}, "route": {"id": route.id if route else None}, "status": status,
                    "error": {"message": message}, "data": merged}
            return site.templates.render_chain(_template_chain(template, use_layouts, cumulative), page, "{}")
        except Exception:
            continue
    return None


def _merged(own: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Given each node's own data root-first (layouts, then maybe the page), return the data
    each node sees: its own merged over its parents'; a later key wins. The last item is
    the page's full data ({} when there are no nodes)."""
    cumulative: list[dict[str, Any]] = []
    merged: dict[str, Any] = {}
    for data in own:
        merged = {**merged, **data}
        cumulative.append(merged)
    return cumulative or [{}]


def _template_chain(template: str, layouts: tuple, cumulative: list[dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    """Innermost first: the template with the full data, then each layout from the nearest
    up to the root with the data it sees."""
    return [(template, cumulative[-1])] + [
        (layout.template, cumulative[i]) for i, layout in reversed(list(enumerate(layouts))) if layout.template
    ]


def _fallback_error(status: int, message: str) -> str:
    return f'<!doctype html><meta charset="utf-8"><title>{status}</title><h1>{status}</h1><p>{html.escape(message)}</p>\n'
