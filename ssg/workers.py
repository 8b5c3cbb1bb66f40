"""Worker processes: render batches of paths on every core.

Jinja and Markdown are CPU-bound and the GIL rules out threads, so the build forks
`jobs` processes after seeding. Forked workers inherit the parsed site (route modules,
templates, content front matter) instead of re-reading it. Inside each worker an event
loop renders a batch concurrently, so loads waiting on I/O overlap. With one job,
batches run in this process through the same function. A batch whose routes have no
`async def` function runs without an event loop (see aio.py).
"""

from __future__ import annotations

import inspect
import os
import signal
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from . import aio
from .output import Writer, libc_function
from .render import Done, render
from .site import Site

if TYPE_CHECKING:
    from concurrent.futures import Future


@dataclass
class Job:
    """What every worker needs, set in the parent before it forks."""

    site: Site
    writer: Writer
    props: dict[str, Any]  # path -> props from entries(), looked up rather than pickled
    crawl_links: bool
    concurrency: int


PR_SET_PDEATHSIG = 1
_job: Job | None = None


def render_many(
    site: Site, writer: Writer, paths: list[str], props: dict[str, Any], *, crawl_links: bool = True, concurrency: int = 8,
) -> list[Done]:
    """Render paths in this process: in turn when none of their routes has an `async def`
    function, else `concurrency` at a time in an event loop, so loads waiting on I/O
    overlap. The Markdown bodies they render go to the content cache together, at the end."""
    from .content import diskcache

    with diskcache.for_root(site.root).held():
        if not any(_waits(site, path) for path in paths):
            return [aio.run(render(site, writer, path, props.get(path), crawl_links=crawl_links)) for path in paths]
        return aio.loop().run_until_complete(_concurrently(site, writer, paths, props, crawl_links, concurrency))


async def _concurrently(site: Site, writer: Writer, paths: list[str], props: dict[str, Any], crawl_links: bool, concurrency: int) -> list[Done]:
    import asyncio

    gate = asyncio.Semaphore(concurrency)

    async def one(path: str) -> Done:
        async with gate:
            return await render(site, writer, path, props.get(path), crawl_links=crawl_links)

    return await asyncio.gather(*(one(p) for p in paths))


def _waits(site: Site, path: str) -> bool:
    """Whether the route of a path has an `async def` load or GET (a matcher or module
    that fails says no: the render reports it)."""
    try:
        found = site.match(path)
    except Exception:
        return False
    if found is None:
        return False
    route = found[0]
    hooks = [(layout.module, "load") for layout in route.layouts] + [(route.module, "load"), (route.server, "GET")]
    try:
        return site.remembered(
            ("waits", route.id),
            lambda: any(inspect.iscoroutinefunction(getattr(site.modules.get(file), name, None)) for file, name in hooks if file),
        )
    except Exception:
        return False


def render_batch(paths: list[str]) -> list[Done]:
    job = _job
    assert job is not None, "render_batch runs only inside a Pool"
    return render_many(job.site, job.writer, paths, job.props, crawl_links=job.crawl_links, concurrency=job.concurrency)


def _worker_init(parent: int) -> None:
    # Ctrl-C is handled by the parent, which stops the pool and removes the staging folder.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # A killed build must not leave workers writing into its staging folder: on Linux,
    # ask to be killed with the parent.
    prctl = libc_function("prctl")
    if prctl is not None:
        prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)


class Pool:
    """Runs `render_batch` in `jobs` forked processes, or in this process when jobs is 1."""

    def __init__(self, job: Job, jobs: int) -> None:
        global _job
        _job = job
        self.jobs = jobs
        self.executor: Any = None
        if jobs > 1:
            from .content.diskcache import process_pool

            self.executor = process_pool(jobs, initializer=_worker_init, initargs=(os.getpid(),))

    def submit(self, paths: list[str]) -> Future:
        if self.executor is not None:
            return self.executor.submit(render_batch, paths)
        from concurrent.futures import Future  # here: an edit build makes no pool

        future: Future = Future()
        try:
            future.set_result(render_batch(paths))
        except BaseException as exc:  # noqa: BLE001 - handed to the caller through the future
            future.set_exception(exc)
        return future

    def close(self, *, cancel: bool = False) -> None:
        """Stop the workers: after the last batch, or at once (`cancel`, on Ctrl-C or a crash)."""
        if self.executor is None:
            return
        if cancel:
            # A batch may be stuck in a slow load: don't wait for it. The executor has no
            # public way to stop running work, so terminate its processes.
            for process in list(getattr(self.executor, "_processes", {}).values()):
                process.terminate()
        self.executor.shutdown(wait=not cancel, cancel_futures=cancel)
        self.executor = None
