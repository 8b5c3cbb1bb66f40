"""`event.fetch`: in-process for the site's own endpoints and static files, httpx for the rest."""

from __future__ import annotations

import asyncio
import mimetypes
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urljoin, urlsplit

import httpx

from .context import record
from .errors import FetchError

if TYPE_CHECKING:
    from .load import RequestState
    from .site import Site


async def fetch(site: Site, state: RequestState, url: str, *, route_id: str, page_path: str, method: str = "GET", **kwargs: Any) -> httpx.Response:
    """Given a URL as a load wrote it, return an httpx.Response.

    A relative URL ("/api/posts.json", "../data.json") is answered in-process: a file from
    static/, else the site's own route (its endpoint's GET, or the page's HTML).
    """
    method = method.upper()
    parts = urlsplit(url)
    if parts.scheme or parts.netloc:
        record(url)
        return await _remote(site, route_id, url, method, **kwargs)
    path = unquote(urlsplit(urljoin(page_path, url)).path)
    base = site.config.base_path
    if base and (path == base or path.startswith(base + "/")):
        path = path[len(base) :] or "/"
    request = httpx.Request(method, site.absolute(path))
    static = _static_file(site, path)
    if static is not None and method in ("GET", "HEAD"):
        record(static.relative_to(site.root.resolve()).as_posix())
        type_, _ = mimetypes.guess_type(static.name)
        return httpx.Response(200, headers={"content-type": type_ or "application/octet-stream"}, content=static.read_bytes(), request=request)
    from .respond import respond  # respond imports load, which imports this module

    rendered = await respond(site, path, method=method)
    for dep in rendered.deps:
        record(dep)  # what the endpoint read, this page read too
    if rendered.kind == "endpoint" and method == "GET" and rendered.status == 200:
        state.fetched.append(path)  # written to the build too, as SvelteKit does
    headers = {"content-type": rendered.content_type, **rendered.headers}
    if rendered.location:
        headers["location"] = rendered.location
    return httpx.Response(rendered.status, headers=headers, content=rendered.body, request=request)


def _static_file(site: Site, path: str):
    static_dir = site.config.static_dir
    candidate = (static_dir / path.lstrip("/")).resolve()
    # Don't let a path such as /../pyproject.toml reach outside static/.
    if not candidate.is_relative_to(static_dir.resolve()) or not candidate.is_file():
        return None
    return candidate


async def _remote(site: Site, route_id: str, url: str, method: str, **kwargs: Any) -> httpx.Response:
    retries = site.config.fetch.retries if method in ("GET", "HEAD", "OPTIONS") else 0
    for attempt in range(retries + 1):
        try:
            response = await site.client().request(method, url, **kwargs)
        except httpx.HTTPError as exc:
            if attempt < retries:
                await asyncio.sleep(0.2 * 2**attempt)
                continue
            raise FetchError(
                f"{method} {url} failed after {attempt + 1} attempt(s): {type(exc).__name__}: {exc or 'no response'}"
                f" (fetched by route {route_id})"
            ) from None
        if response.status_code >= 500 and attempt < retries:
            await asyncio.sleep(0.2 * 2**attempt)
            continue
        return response
    raise AssertionError("unreachable")  # the loop always returns or raises
