"""Worker processes: render batches of paths on every core.

Jinja and Markdown are CPU-bound and the GIL rules out threads, so the build forks
`jobs` processes after seeding. Forked workers inherit the parsed site (route modules,
templates, content front matter) instead of re-reading it. Inside each worker an event
loop renders a batch concurrently, so loads waiting on I/O overlap. With one job,
batches run in this process through the same function.
"""

from __future__ import annotations

import asyncio
import os
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .interrupts import exits_fail_tasks, interrupts_held, leave_stops_to
from .output import Writer
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


_job: Job | None = None
_loops: dict[int, asyncio.AbstractEventLoop] = {}
_told: set[str] = set()  # the modules whose files render_batch has told the parent of


def loop() -> asyncio.AbstractEventLoop:
    """This process's event loop, kept across batches so its HTTP client keeps its connections."""
    pid = os.getpid()
    if pid not in _loops:
        _loops[pid] = asyncio.new_event_loop()
        exits_fail_tasks(_loops[pid])
    return _loops[pid]


async def render_many(
    site: Site, writer: Writer, paths: list[str], props: dict[str, Any], *, crawl_links: bool = True, concurrency: int = 8,
) -> list[Done]:
    """Render paths in this process, `concurrency` at a time, so loads waiting on I/O overlap.
    The Markdown bodies they render go to the content cache together, at the end."""
    from .content import diskcache

    gate = asyncio.Semaphore(concurrency)

    async def one(path: str) -> Done:
        async with gate:
            return await render(site, writer, path, props.get(path), crawl_links=crawl_links)

    with diskcache.for_root(site.root).held():
        return await asyncio.gather(*(one(p) for p in paths))


def render_batch(paths: list[str]) -> tuple[list[Done], list[str]]:
    """Render paths; return their Dones and the files of the modules this process
    imported since it last said (the build cache keys the site on the site's own modules,
    which a worker may be the only one to import: a layout's load, say)."""
    job = _job
    assert job is not None, "render_batch runs only inside a Pool"
    dones = loop().run_until_complete(
        render_many(job.site, job.writer, paths, job.props, crawl_links=job.crawl_links, concurrency=job.concurrency)
    )
    new = sys.modules.keys() - _told
    _told.update(new)
    return dones, [file for name in new if (file := getattr(sys.modules.get(name), "__file__", None))]


def _worker_init(parent: int) -> None:
    # Ctrl-C is handled by the parent, which stops the pool and removes the staging folder;
    # a killed build must not leave workers writing into its staging folder.
    leave_stops_to(parent)


class Pool:
    """Runs `render_batch` in `jobs` forked processes, or in this process when jobs is 1."""

    def __init__(self, job: Job, jobs: int) -> None:
        global _job
        _job = job
        _told.update(sys.modules)  # the parent's own: it knows them
        self.jobs = jobs
        self.executor: Any = None
        if jobs > 1:
            from .content.diskcache import process_pool

            self.executor = process_pool(jobs, initializer=_worker_init, initargs=(os.getpid(),))

    def submit(self, paths: list[str]) -> Future:
        if self.executor is not None:
            with interrupts_held():  # the first submit forks the workers
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
            from .content.diskcache import stop_pool

            stop_pool(self.executor)  # a batch may be stuck in a slow load: not waited for
        else:
            self.executor.shutdown()
        self.executor = None
