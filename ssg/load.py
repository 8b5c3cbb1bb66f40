"""The load chain: layouts' and the page's `load(event)`, run concurrently, merged root-first."""

from __future__ import annotations

import asyncio
import datetime
import inspect
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .errors import SsgError, exit_called

if TYPE_CHECKING:
    from .manifest import Route
    from .request import Request


class HeaderError(SsgError):
    pass


@dataclass
class RequestState:
    """What the loads of one path declared, shared by every load on its chain."""

    headers: dict[str, str] = field(default_factory=dict)
    depends: list[str] = field(default_factory=list)
    fetched: list[str] = field(default_factory=list)  # in-process endpoint paths, written to the build too
    fetched_failure: bool = False  # an in-process fetch answered a failure (a 500 with its traceback)


@dataclass(frozen=True)
class RouteInfo:
    id: str


class Event:
    """What a `load`, `GET` or `entries`-fed function receives. See SPEC §2."""

    def __init__(
        self,
        *,
        params: dict[str, str],
        url: str,
        route_id: str,
        props: Any,
        state: RequestState,
        fetch: Callable[..., Awaitable[Any]],
        parent: Callable[[], Awaitable[dict[str, Any]]] | None = None,
        request: Request | None = None,
    ) -> None:
        self.params = params
        self.url = url
        self.route = RouteInfo(route_id)
        self.props = props
        self.request = request
        self._state = state
        self._fetch = fetch
        self._parent = parent

    async def parent(self) -> dict[str, Any]:
        """The merged data of every layout load above this one."""
        return await self._parent() if self._parent else {}

    async def fetch(self, url: str, **kwargs: Any):
        """Like httpx's `AsyncClient.request`: `await event.fetch("/api/posts.json")`."""
        return await self._fetch(url, **kwargs)

    def depends(self, *keys: str) -> None:
        for key in keys:
            if key not in self._state.depends:
                self._state.depends.append(key)

    def set_headers(self, headers: Mapping[str, str]) -> None:
        for name, value in headers.items():
            key = name.lower()
            if key in self._state.headers:
                raise HeaderError(f"header {name!r} was already set; set_headers() may set each header once")
            self._state.headers[key] = str(value)


async def call(fn: Callable[..., Any], *args: Any) -> Any:
    """Call a sync or async user function and return its result."""
    try:
        result = fn(*args)
        if inspect.isawaitable(result):
            result = await result
    except SystemExit as exc:
        raise exit_called(exc) from None
    return result


_PLAIN = frozenset({str, int, float, bool, type(None), datetime.date, datetime.datetime})  # never awaitable, hold nothing


async def resolve(value: Any) -> Any:
    """Given data whose dicts and lists may hold awaitables at any depth, await them all
    concurrently and return the data with their results in place."""
    slots: list[tuple[Any, Any]] = []  # (container, key) whose value is an awaitable
    stack = [value]
    while stack:
        container = stack.pop()
        items = container.items() if isinstance(container, dict) else enumerate(container)
        for key, item in items:
            kind = type(item)
            if kind in _PLAIN:
                continue
            if kind is dict or kind is list:
                stack.append(item)
            elif inspect.isawaitable(item):
                slots.append((container, key))
            elif isinstance(item, (dict, list)):
                stack.append(item)
    if not slots:
        return value
    results = await asyncio.gather(*(container[key] for container, key in slots))
    nested = False
    for (container, key), result in zip(slots, results):
        container[key] = result
        nested = nested or inspect.isawaitable(result) or isinstance(result, (dict, list))
    # An awaited value may itself hold awaitables: resolve again until none are left.
    return await resolve(value) if nested else value


class LoadError(SsgError):
    """A load returned something that is not a mapping."""


async def run_chain(
    route: Route,
    load_fns: list[tuple[str, Callable[..., Any] | None]],
    make_event: Callable[[Callable[[], Awaitable[dict[str, Any]]] | None], Event],
) -> list[dict[str, Any]]:
    """Given the chain's (file, load) pairs root-first, run every load concurrently and
    return each node's own data. A load that awaits `parent()` waits for those above it."""
    tasks: list[asyncio.Future[dict[str, Any]]] = []

    def parent_of(i: int) -> Callable[[], Awaitable[dict[str, Any]]]:
        async def parent() -> dict[str, Any]:
            merged: dict[str, Any] = {}
            for own in await asyncio.gather(*tasks[:i]):
                merged.update(own)
            return merged

        return parent

    async def run(file: str, fn: Callable[..., Any] | None, event: Event) -> dict[str, Any]:
        if fn is None:
            return {}
        data = await call(fn, event)
        if data is None:
            return {}
        if not isinstance(data, Mapping):
            raise LoadError(f"{file}: load() must return a dict, not {type(data).__name__}")
        return await resolve(dict(data))

    for i, (file, fn) in enumerate(load_fns):
        tasks.append(asyncio.ensure_future(run(file, fn, make_event(parent_of(i)))))
    results = await asyncio.gather(*tasks, return_exceptions=True)
    # Report the failure nearest the root: a page that awaited a failed parent fails with it.
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return list(results)
