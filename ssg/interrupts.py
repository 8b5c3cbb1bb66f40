"""Ctrl-C, SIGTERM, the processes a build forks, and site code that calls sys.exit().

The build's main thread handles Ctrl-C and SIGTERM (a cancelled CI job) alike: it stops
the workers, removes the staging folder and says so in one line; a second one while it
cleans up is ignored. Forked processes leave both to it and die with it. A site's code
(a load, an endpoint, entries(), a matcher, a module) that calls sys.exit() fails what
ran it, like any exception: it does not decide the build's exit code.
"""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Coroutine, Iterator
from typing import TYPE_CHECKING, Any

from .errors import exit_called

if TYPE_CHECKING:
    import asyncio  # imported by what makes a loop: the early parse before it should not wait for it

PR_SET_PDEATHSIG = 1
STOPS = {signal.SIGINT, signal.SIGTERM}


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where Ctrl-C would be, so that it cleans up the same way."""


def ignore(signum: int, frame: Any) -> None:
    """A signal handler that does nothing."""


@contextlib.contextmanager
def stopped_once() -> Iterator[None]:
    """In the block (`ssg build`): Ctrl-C raises KeyboardInterrupt and SIGTERM Terminated,
    the first time; later ones are ignored, so they cannot cut the clean-up short (a
    staging folder left behind). The handlers before are put back after."""
    def stop(signum: int, frame: Any) -> None:
        for name in STOPS:
            signal.signal(name, ignore)  # a Python handler: SIG_IGN would make a pending one an OSError
        raise Terminated() if signum == signal.SIGTERM else KeyboardInterrupt()

    before = {name: signal.signal(name, stop) for name in STOPS}
    try:
        yield
    finally:
        for name, handler in before.items():
            signal.signal(name, handler)


@contextlib.contextmanager
def interrupts_held() -> Iterator[None]:
    """Hold Ctrl-C (and SIGTERM) in the block; it lands once the block ends. For imports (a
    KeyboardInterrupt inside an extension module's start-up can crash Python, one inside a
    class body becomes a RuntimeError) and for forks (a SIGINT that lands in a fork's
    hooks is only printed: the build would go on as if never interrupted). Threads and
    processes started in the block keep it held: Ctrl-C is this thread's to handle."""
    held = signal.pthread_sigmask(signal.SIG_BLOCK, STOPS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, held)


def leave_stops_to(parent: int) -> None:
    """In a forked process: Ctrl-C is the parent's to handle (it ends the processes),
    SIGTERM (held while the fork ran) ends this one as it would any process, and a parent
    killed outright takes the process along (on Linux)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM})
    from .output import libc_function  # ctypes: only in the processes that ask

    prctl = libc_function("prctl")
    if prctl is not None:
        prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)


def exits_fail_tasks(loop: asyncio.AbstractEventLoop) -> None:
    """Make sys.exit() in any task of `loop` fail that task with ExitCalled. asyncio lets
    a SystemExit out of the loop from whichever task raised it (a load's gather() of its
    fetches), past the page that awaited it, where ssg.load.call() catches a direct one."""
    from asyncio import Task

    def task(loop: asyncio.AbstractEventLoop, coro: Coroutine[Any, Any, Any], **options: Any) -> Task:
        return Task(_exit_is_an_error(coro), loop=loop, **options)

    loop.set_task_factory(task)


async def _exit_is_an_error(coro: Coroutine[Any, Any, Any]) -> Any:
    try:
        return await coro
    except SystemExit as exc:
        raise exit_called(exc) from None
