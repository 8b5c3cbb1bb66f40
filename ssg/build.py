"""`ssg build`, as a recipe: check, seed, crawl, write, swap."""

from __future__ import annotations

import gc
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from . import context, patch, workers
from .config import Config
from .errors import ManifestError, SsgError, UsageError
from .cache import Cache
from .output import Writer, signals_held
from .prerender import Prerender, Result, collector_paused, write_extras
from .problems import Problem
from .site import SOURCE_DIRS, Site
from .report import summary_counts
from .uptodate import Check


@dataclass
class Summary:
    result: Result
    seconds: float
    out: str
    reused: int = 0  # paths replayed from the build cache
    rendered: list[tuple[str, str]] = field(default_factory=list)  # (path, why), for --explain
    counts: dict[str, int] | None = None  # the summary counts, when the build did not replay every path (patch.py)

    @property
    def patched(self) -> bool:
        """Whether the build rendered only the paths an edit touched and wrote them in place (patch.py)."""
        return self.counts is not None

    @property
    def ok(self) -> bool:
        return not self.result.errors


def build(
    config: Config,
    *,
    progress: Callable[[int, int], None] | None = None,
    jobs: int | None = None,
    concurrency: int = 8,
    fresh: bool = False,
    uptodate: Check | None = None,
    shortcut: bool = True,
) -> Summary:
    """Given a validated config, build the site into config.out_dir and return a Summary.

    The output folder is replaced only when the build has no errors; otherwise it is left
    exactly as it was. `jobs` processes render (default: one per core); `concurrency`
    paths are in flight in each, so loads waiting on I/O overlap. Paths whose sources did
    not change since the last build are reused from it (see cache.py) unless `fresh`. A bad routes/ tree fails the build before any user code runs, with
    every problem of the tree in the Summary. Raises UsageError for an output folder that
    would replace the site's own files. `uptodate`, the no-change check made
    before the build, records a build with no problems for the next one to compare with;
    when it found only a few edited files, the build may patch the output in place
    (patch.py) unless `shortcut` is False (the report needs every page's record).
    """
    started = time.perf_counter()
    check_out(config)
    # 1. Read the routes tree and check it: problems stop the build before user code runs.
    try:
        site = Site(config)
    except ManifestError as exc:
        result = Result(problems=[Problem("manifest", text, file=_file_of(text)) for text in exc.problems])
        return Summary(result, time.perf_counter() - started, str(config.out_dir))
    site.jobs = jobs or os.cpu_count() or 1
    context.activate(site)
    from .content import diskcache  # parsed front matter and rendered bodies in .ssg-cache/content/
    diskcache.start_build(site.root, fresh=fresh)
    # 2. Write into a staging folder beside the output: every file, or, when the build
    #    cache lets paths keep their files, only the files that change.
    with collector_paused():  # tens of thousands of records, none of them garbage
        build_cache = Cache(
            site, engine=markdown_engine_name(), enabled=not fresh,
            before=uptodate.before if uptodate is not None else None, started=uptodate.started if uptodate is not None else 0,
            reaches=uptodate.reaches if uptodate is not None else None,
        )
        # They live as long as the build: out of the collector's sight, so that its first
        # collection after the pause does not walk them all (0.1 s at 40,000 posts).
        gc.freeze()
    try:
        if shortcut and uptodate is not None:
            # A few files edited: render just the paths that read them, when nothing else can change.
            rendered = patch.run(site, build_cache, uptodate)
            if rendered is not None:
                return Summary(
                    Result(), time.perf_counter() - started, str(config.out_dir),
                    reused=len(build_cache.previous_deps) - len(rendered), rendered=rendered, counts=uptodate.recorded_counts,
                )
        reuse = not build_cache.blocked
        damaged = uptodate.damaged if uptodate is not None and reuse else None
        writer = Writer(config.out_dir, update=reuse and config.out_dir.is_dir(), damaged=damaged)
        writer.start()
        try:
            # 3. Seed the queue, render every path, crawl what it links to.
            pre = Prerender(site, writer, progress=progress, jobs=site.jobs, concurrency=concurrency, cache=build_cache)
            result = pre.run()
            if build_cache.warning:
                result.problems.append(Problem("cache", build_cache.warning, "warning"))
            # 4. Everything beside the pages: 404.html, sitemap.xml, _redirects, _headers, static/.
            try:
                workers.loop().run_until_complete(write_extras(site, writer, pre))
            except SsgError as exc:
                result.problems.append(Problem("write", str(exc)))
            finally:
                workers.loop().run_until_complete(site.aclose())
            # 5. Swap the new output in only when nothing failed.
            if result.errors:
                writer.abort()
            else:
                # Ctrl-C lands once the output and both records of it are in place: the
                # no-change record (uptodate) must describe the build the cache describes.
                with signals_held():
                    if uptodate is not None:
                        uptodate.forget()  # a build killed before it records itself leaves none to trust
                    if writer.update:
                        build_cache.forget()  # nor one that describes the output before the files moved in
                    writer.commit()
                    with collector_paused():
                        build_cache.check_reads(pre.extra_reads, pre.extra_digests)
                        build_cache.save(rendered=len(pre.rendered), seed_deps=pre.seed_deps, unrecorded=len(pre.failed), imported=pre.imported)
                        # Not when a source changed while the build ran (it may be as it was before).
                        if uptodate is not None and not result.problems and not pre.fetched_urls and not build_cache.unsure:
                            counts = summary_counts(Summary(result, 0.0, str(config.out_dir), pre.reused, pre.rendered))
                            uptodate.record(list(writer.written), counts, read=build_cache.read_files(pre.extra_reads), status_before=build_cache.status_before)  # what a no-change build will say it kept
        except BaseException:
            writer.abort()  # Ctrl-C or a bug: leave the previous output as it was
            raise
    finally:
        gc.unfreeze()  # what the build froze (here and in Prerender.run) is collectable again
    return Summary(result, time.perf_counter() - started, str(config.out_dir), pre.reused, pre.rendered)


def markdown_engine_name() -> str:
    """Which Markdown engine renders bodies: part of the cache key, since it shapes the HTML."""
    from .content.markdown import engine

    return type(engine()).__name__ + "/" + os.environ.get("SSG_MARKDOWN", "")


def check_out(config: Config) -> None:
    """Refuse an output folder whose swap would replace the site's own files.

    The build swaps the whole output folder, so `--out .` would delete routes/ and the config.
    """
    out, root = config.out_dir, config.root.resolve()
    hint = 'Choose a folder of its own, e.g. --out build.'
    if root.is_relative_to(out):
        raise UsageError(f"the output folder {out} holds the site itself; the build replaces the whole output folder", hint=hint)
    for name in SOURCE_DIRS:
        if out.is_relative_to(root / name):
            raise UsageError(f"the output folder {out} is inside the site's {name}/ folder, which the build reads", hint=hint)
    if out.exists() and not out.is_dir():
        raise UsageError(f"the output folder {out} is a file; the build writes a folder there", hint=hint)
    # Every build writes 404.html: a folder with files but none is no build's (lib/, docs/,
    # node_modules/, .git/), and replacing it would lose them. Nor is one with a repository
    # in it (a clone of an earlier deploy's branch).
    keep = "Files the output must keep (CNAME, .nojekyll) go in static/."
    if out.is_dir() and (out / ".git").exists():
        raise UsageError(f"the output folder {out} holds a repository (.git); the build replaces the whole output folder",
                         hint=f"Choose a folder of its own, e.g. --out build. {keep}")
    if out.is_dir() and not (out / "404.html").is_file() and next(os.scandir(out), None) is not None and not _built_here(config):
        raise UsageError(
            f"the output folder {out} has files but no 404.html, which every build writes: it may be no build output, "
            "and the build replaces the whole output folder",
            hint=f"Choose a new or empty folder, e.g. --out build, or delete this one first if nothing in it is needed. {keep}",
        )


def _built_here(config: Config) -> bool:
    """Whether the last build of the site recorded in its build cache wrote into the output
    folder (its 404.html deleted by hand since, say)."""
    from .cache import recorded_out

    return recorded_out(config.root) == str(config.out_dir)


def _file_of(problem: str) -> str | None:
    """The site file a manifest problem starts with: "routes/a/+page.py has no ..." -> routes/a/+page.py."""
    head = problem.split(" ", 1)[0].rstrip(":")
    return head if head.startswith(("routes/", "params/")) else None

