"""`event.fetch`: in-process for the site's own endpoints and static files, httpx for the rest."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import json
import os
from collections.abc import Iterator
from contextvars import ContextVar
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urljoin, urlsplit

from .context import record, record_digests
from .errors import FetchError
from .mediatypes import media_type

if TYPE_CHECKING:
    import httpx

    from .load import RequestState
    from .site import Site


MAX_DEPTH = 16
"""In-process fetches nested deeper than this are a loop that changes its URL each time."""

# What respond() is rendering in this task, outermost first: (method, path), HEAD as GET.
_rendering: ContextVar[tuple[tuple[str, str], ...]] = ContextVar("_rendering", default=())


@contextlib.contextmanager
def rendering(method: str, path: str) -> Iterator[None]:
    """Around one respond(): what an in-process fetch made inside it may not ask for again."""
    token = _rendering.set((*_rendering.get(), _key(method, path)))
    try:
        yield
    finally:
        _rendering.reset(token)


def _key(method: str, path: str) -> tuple[str, str]:
    method = method.upper()
    return ("GET" if method == "HEAD" else method), path.rstrip("/") or "/"


async def fetch(site: Site, state: RequestState, url: str, *, route_id: str, page_path: str, method: str = "GET", **kwargs: Any) -> httpx.Response:
    """Given a URL as a load wrote it, return an httpx.Response.

    A relative URL ("/api/posts.json", "../data.json") is answered in-process: a file from
    static/, else the site's own route (its endpoint's GET, or the page's HTML).
    """
    import httpx  # on first use: a build whose loads fetch nothing never imports it

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
        type_ = media_type(static.name)
        return httpx.Response(200, headers={"content-type": type_ or "application/octet-stream"}, content=static.read_bytes(), request=request)
    from .respond import respond  # respond imports load, which imports this module

    # A load that fetches what it renders for, or whose error page does (a layout load
    # fetching a missing file renders again around the 404), would never end.
    within, this = _rendering.get(), _key(method, path)
    if this in within or len(within) > MAX_DEPTH:
        why = f"renders {path} again" if this in within else f"nests more than {MAX_DEPTH} deep"
        chain = " -> ".join(p if m == "GET" else f"{m} {p}" for m, p in (*within, this))
        raise FetchError(f"event.fetch({url!r}) in route {route_id} {why}: {chain}")
    rendered = await respond(site, path, method=method)
    for dep in rendered.deps:
        record(dep)  # what the endpoint read, this page read too
    record_digests(rendered.digests)
    if rendered.kind == "endpoint" and method == "GET" and rendered.status == 200:
        state.fetched.append(path)  # written to the build too, as SvelteKit does
    if rendered.failure is not None:
        # What it failed on may be no dep of it (a post whose front matter broke the listing
        # before it was recorded): ssg serve renders this page again on any save, as it does
        # a failing one. (The build renders the fetched path too, and reports the failure.)
        state.fetched_failure = True
    headers = {"content-type": rendered.content_type, **rendered.headers}
    if rendered.location:
        headers["location"] = rendered.location
    return httpx.Response(rendered.status, headers=headers, content=rendered.body, request=request)


def _static_file(site: Site, path: str):
    """The file of static/ at `path`, or None. Recorded either way: a page that fetched a
    path static/ did not have reads it once it is there."""
    static_dir = site.config.static_dir
    candidate = (static_dir / path.lstrip("/")).resolve()
    # Don't let a path such as /../pyproject.toml reach outside static/.
    if not candidate.is_relative_to(static_dir.resolve()):
        return None
    with contextlib.suppress(ValueError):  # a static/ outside the site: its files are not deps
        record(candidate.relative_to(site.root.resolve()).as_posix())
    return candidate if candidate.is_file() else None


async def _remote(site: Site, route_id: str, url: str, method: str, **kwargs: Any) -> httpx.Response:
    import httpx

    # A plain GET is cached on disk across builds and revalidated with its ETag /
    # Last-Modified: an unchanged answer costs a 304, not a download.
    cacheable = method == "GET" and not kwargs
    stored = _load(site, url) if cacheable else None
    response = await _request(site, route_id, url, method, _validators(stored), **kwargs)
    if stored is not None and response.status_code == 304:
        # The stored answer, with the headers the 304 sends updated (RFC 9111, 4.3.4).
        headers = {**stored["headers"], **_kept(response.headers)}
        return httpx.Response(stored["status"], headers=headers, content=stored["body"], request=response.request)
    if cacheable and response.status_code == 200 and ("etag" in response.headers or "last-modified" in response.headers):
        _store(site, url, response)
    return response


def _validators(stored: dict | None) -> dict[str, str]:
    if stored is None:
        return {}
    headers = {}
    if "etag" in stored["headers"]:
        headers["if-none-match"] = stored["headers"]["etag"]
    if "last-modified" in stored["headers"]:
        headers["if-modified-since"] = stored["headers"]["last-modified"]
    return headers


def _cache_file(site: Site, url: str) -> Path:
    return site.root / ".ssg-cache" / "http" / (hashlib.sha256(url.encode()).hexdigest()[:32] + ".json")


def _load(site: Site, url: str) -> dict | None:
    """The stored answer to a GET of `url` (its body decoded), or None: none stored, a
    build with --fresh, or one that is not what was stored (sealed with a CRC-32, and
    each field checked), which is then fetched again."""
    from .content import diskcache

    if not diskcache.reading():
        return None
    try:
        stored = json.loads(diskcache.unseal(_cache_file(site, url).read_bytes()).tobytes())
        headers = stored["headers"]
        if (
            stored.get("format") != CACHE_FORMAT or stored["url"] != url or type(stored["status"]) is not int or type(headers) is not dict
            or not all(type(k) is str and type(v) is str for k, v in headers.items())
        ):
            return None
        return {**stored, "body": base64.b64decode(stored["body"], validate=True)}
    except (OSError, ValueError, TypeError, KeyError):
        return None  # missing or damaged: fetch it again


# 2: every header kept (1 had content-type, etag and last-modified alone: a load that read
# another, X-Total-Count say, got nothing from a revalidated answer).
CACHE_FORMAT = 2
# Not replayed: the body is kept decoded, whole, with no connection behind it.
_TRANSFER_HEADERS = frozenset({"connection", "content-encoding", "content-length", "keep-alive", "transfer-encoding"})


def _kept(headers: httpx.Headers) -> dict[str, str]:
    """An answer's headers as the cache replays them (lower-cased names; a repeated one joined)."""
    return {k: v for k, v in headers.items() if k not in _TRANSFER_HEADERS}


def _store(site: Site, url: str, response: httpx.Response) -> None:
    from .content import diskcache

    file = _cache_file(site, url)
    payload = {
        "format": CACHE_FORMAT, "url": url, "status": response.status_code, "headers": _kept(response.headers),
        "body": base64.b64encode(response.content).decode(),
    }
    tmp = file.with_suffix(f".{os.getpid()}.tmp")  # workers may store at once: write, then rename
    try:
        file.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_bytes(diskcache.seal(json.dumps(payload).encode()))
        os.replace(tmp, file)
    except OSError:
        with contextlib.suppress(OSError):
            tmp.unlink()  # a cache that cannot be written only costs a download next time


async def _request(site: Site, route_id: str, url: str, method: str, validators: dict[str, str], **kwargs: Any) -> httpx.Response:
    import httpx

    retries = site.config.fetch.retries if method in ("GET", "HEAD", "OPTIONS") else 0
    if validators:
        kwargs["headers"] = validators
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
