"""`ssg build`, as a recipe: check, seed, crawl, write, swap."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass

from . import context
from .config import Config
from .errors import SsgError
from .output import Writer
from .prerender import Prerender, Result, write_extras
from .problems import Problem
from .site import Site


@dataclass
class Summary:
    result: Result
    seconds: float
    out: str

    @property
    def ok(self) -> bool:
        return not self.result.errors


def build(config: Config, *, progress: Callable[[int, int], None] | None = None, concurrency: int = 8) -> Summary:
    """Given a validated config, build the site into config.out_dir and return a Summary.

    The output folder is replaced only when the build has no errors; otherwise it is left
    exactly as it was. Raises ManifestError before any user code runs if routes/ is bad.
    """
    started = time.perf_counter()
    # 1. Read the routes tree and check it: problems stop the build before user code runs.
    site = Site(config)
    context.activate(site)
    # 2. Write into a staging folder beside the output.
    writer = Writer(config.out_dir)
    writer.start()
    try:
        # 3. Seed the queue, render every path, crawl what it links to.
        pre = Prerender(site, writer, progress=progress, concurrency=concurrency)
        result = asyncio.run(_run(site, writer, pre))
        # 4. Swap the new output in only when nothing failed.
        if result.errors:
            writer.abort()
        else:
            writer.commit()
    except BaseException:
        writer.abort()  # Ctrl-C or a bug: leave the previous output as it was
        raise
    return Summary(result, time.perf_counter() - started, str(config.out_dir))


async def _run(site: Site, writer: Writer, pre: Prerender) -> Result:
    result = await pre.run()
    try:
        await write_extras(site, writer, pre)
    except SsgError as exc:
        result.problems.append(Problem("write", str(exc)))
    return result
