"""Ctrl-C, the processes a build forks, and site code that calls sys.exit().

The build's main thread handles Ctrl-C: it stops the workers, removes the staging folder
and says so in one line. Forked processes leave Ctrl-C to it and die with it. A site's
code (a load, an endpoint, entries(), a matcher, a module) that calls sys.exit() fails
what ran it, like any exception: it does not decide the build's exit code.
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


@contextlib.contextmanager
def interrupts_held() -> Iterator[None]:
    """Hold Ctrl-C in the block, and raise it once the block ends. For imports (a
    KeyboardInterrupt inside an extension module's start-up can crash Python, one inside a
    class body becomes a RuntimeError) and for forks (a SIGINT that lands in a fork's
    hooks is only printed: the build would go on as if never interrupted). Threads and
    processes started in the block keep it held: Ctrl-C is this thread's to handle."""
    held = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, held)


def die_with_parent(parent: int) -> None:
    """In a forked process: on Linux, ask to be killed with the parent (pid `parent`)."""
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
