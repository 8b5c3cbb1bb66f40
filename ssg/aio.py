"""Coroutines run with an event loop only when something waits.

A page whose loads are plain functions waits on nothing: rendering it is a coroutine that
never suspends, and `run()` takes it to the end by hand. Such a build never imports
asyncio (35 ms of an edit build's start) nor makes a task per load. What does wait (an
`async def` load, a fetch, an awaitable in a load's data) goes through `wait()`: awaited
in the running loop (ssg serve; a batch whose routes have async loads), else run to the
end in this process's own loop.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Awaitable, Coroutine
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    import asyncio

T = TypeVar("T")

_loops: dict[int, asyncio.AbstractEventLoop] = {}


def loop() -> asyncio.AbstractEventLoop:
    """This process's event loop, kept across batches so its HTTP client keeps its connections."""
    import asyncio

    pid = os.getpid()
    if pid not in _loops:
        _loops[pid] = asyncio.new_event_loop()
    return _loops[pid]


def running() -> bool:
    """Whether this thread is inside a running event loop (never, until asyncio is imported)."""
    asyncio = sys.modules.get("asyncio")
    return asyncio is not None and asyncio._get_running_loop() is not None


def run(coro: Coroutine[Any, Any, T]) -> T:
    """Run one of ssg's coroutines to its end, here: it waits only through `wait()`."""
    try:
        coro.send(None)
    except StopIteration as stop:
        return stop.value
    coro.close()
    raise RuntimeError("a coroutine waited outside an event loop without going through aio.wait()")


async def wait(awaitable: Awaitable[T]) -> T:
    """Await something that may wait: in the running loop, else in this process's loop."""
    if running():
        return await awaitable
    return loop().run_until_complete(_awaited(awaitable))


async def gather(awaitables: list[Awaitable[Any]]) -> list[Any]:
    """Every awaitable's result, concurrently, in order."""
    import asyncio

    if running():
        return await asyncio.gather(*awaitables)
    return loop().run_until_complete(_gathered(awaitables))


async def _awaited(awaitable: Awaitable[T]) -> T:
    return await awaitable


async def _gathered(awaitables: list[Awaitable[Any]]) -> list[Any]:
    import asyncio

    return await asyncio.gather(*awaitables)
