"""The `ssg` command: thin commands over library code, and the one place errors are printed."""

from __future__ import annotations

import argparse
import atexit
import os
import signal
import sys
import time
from pathlib import Path

from .errors import ConfigError, InterruptedAfterOutput, SsgError, UsageError
from .interrupts import Terminated, ignore, interrupts_held, stopped_once

_interrupted = False  # a Ctrl-C while this module was imported: main() says so
try:
    with interrupts_held():  # a Ctrl-C inside a class body being made would be a RuntimeError
        from . import __version__, config as config_mod
except KeyboardInterrupt:
    _interrupted = True

STARTER = Path(__file__).parent / "starter"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ssg",
        description="Prerender a site from routes/ (Jinja2 pages, Python loads, +server.py endpoints) "
        "and content/ (Markdown) into static files.",
        epilog="Exit codes: 0 success; 1 the site failed to build; 2 bad usage or config; "
        "130 stopped by Ctrl-C; 143 (ssg build) stopped by SIGTERM.",
    )
    parser.add_argument("--version", action="version", version=f"ssg {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    def add_root(p: argparse.ArgumentParser) -> None:
        p.add_argument("-C", "--root", type=Path, default=Path("."), metavar="DIR",
                       help="the site folder (holding routes/ and the config); default: the current folder")

    build = sub.add_parser("build", help="prerender the site into the output folder",
                           description="Crawl the site from every route and entries(), write HTML, __data.json, "
                           "endpoints, 404.html, sitemap.xml, _redirects, _headers and static/ into a staging "
                           "folder, and swap it in only if nothing failed.")
    add_root(build)
    build.add_argument("--out", metavar="DIR", help="output folder, relative to the site folder (default: build, or config 'out')")
    build.add_argument("--base-path", metavar="PATH", help='serve the site below a path, e.g. "/docs"')
    build.add_argument("--origin", metavar="URL", help='absolute origin, e.g. "https://example.com" (enables sitemap.xml)')
    build.add_argument("--jobs", type=int, metavar="N", help="worker processes rendering pages (default: one per core); output is identical for any N")
    build.add_argument("--drafts", action="store_true", default=None, help="include content marked draft: true")
    build.add_argument("--no-crawl", action="store_true", help="render only the seeded paths; do not follow links")
    build.add_argument("--report", type=Path, metavar="FILE.json",
                       help="write every page, warning and error as JSON (a path from the current folder, not -C's)")
    build.add_argument("--fresh", action="store_true",
                       help="ignore the build cache (.ssg-cache/) and render every page")
    build.add_argument("--explain", action="store_true", help="say why each page was rendered rather than reused")

    routes = sub.add_parser("routes", help="print the route table: id, kind, params, layouts, entries count")
    add_root(routes)

    serve = sub.add_parser("serve", help="preview the site live: render on request, reload open tabs on save",
                           description="Render pages from the sources on request (no build first), watch routes/, "
                           "content/, static/, the config and site modules, and reload the browser tabs whose page changed.")
    add_root(serve)
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine only)")
    serve.add_argument("--port", type=int, metavar="N", help="port (default 5173, or the next free one; 0: any free port)")
    serve.add_argument("--open", action="store_true", help="open the site in the default browser")

    preview = sub.add_parser("preview", help="serve a finished build as a static host would",
                             description="Serve the output folder with trailing-slash redirects, 404.html, "
                             "_headers and _redirects applied, as Netlify or Cloudflare Pages would.")
    add_root(preview)
    preview.add_argument("--out", metavar="DIR", help="the build to serve (default: build, or config 'out')")
    preview.add_argument("--base-path", metavar="PATH", help="the base path the build was made with, if not the config's")
    preview.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    preview.add_argument("--port", type=int, metavar="N", help="port (default 4173, or the next free one; 0: any free port)")

    new = sub.add_parser("new", help="create a starter site that builds as it is")
    new.add_argument("dir", type=Path, metavar="DIR")
    return parser


def main(argv: list[str] | None = None) -> int:
    try:
        if _interrupted:
            raise KeyboardInterrupt
        parser = _parser()
        args = parser.parse_args(argv)
        if args.command is None:
            parser.print_help()
            return 2
        commands = {"build": _build, "routes": _routes, "serve": _serve, "preview": _preview, "new": _new}
        return commands[args.command](args)
    except SsgError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except InterruptedAfterOutput as exc:
        print("interrupted once the new output was in place", file=sys.stderr)
        return 143 if exc.terminated else 130
    except KeyboardInterrupt as exc:  # Ctrl-C, or SIGTERM in ssg build (Terminated)
        building = argv_command(argv) == "build"
        print("interrupted; the previous output is untouched" if building else "interrupted", file=sys.stderr)
        return 143 if isinstance(exc, Terminated) else 130


def argv_command(argv: list[str] | None) -> str | None:
    """The command named on the command line (main() may be stopped before it parsed it)."""
    words = sys.argv[1:] if argv is None else argv
    return next((word for word in words if not word.startswith("-")), None)


def _load_config(args: argparse.Namespace, **overrides) -> config_mod.Config:
    root = args.root
    if not root.is_dir():
        raise UsageError(f"{root}: no such folder")
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch is not None and not epoch.strip().isdigit():
        raise ConfigError("SOURCE_DATE_EPOCH", [f"must be whole seconds since 1970, not {epoch!r}"])
    config = config_mod.load(root)
    return config.replace(**overrides) if overrides else config


def _build(args: argparse.Namespace) -> int:
    with stopped_once():  # Ctrl-C and SIGTERM: one clean stop
        return _build_site(args)


def _build_site(args: argparse.Namespace) -> int:
    with interrupts_held():  # Ctrl-C lands once these are imported
        from . import uptodate
        from .report import Progress, github_annotation, problem_text, summary_text, unchanged_text, write_report

    started = time.perf_counter()

    if args.jobs is not None and args.jobs < 1:
        raise UsageError("--jobs takes a number of 1 or more")
    overrides = {"out": args.out, "base_path": args.base_path, "origin": args.origin, "drafts": args.drafts}
    if args.no_crawl:
        overrides["prerender"] = {"crawl": False}
    config = _load_config(args, **{k: v for k, v in overrides.items() if v is not None})
    made = False  # the report file, made empty to check it can be written
    if args.report is not None:
        from .build import check_out

        check_out(config)  # a refused output folder leaves no report behind
        made = _check_report(Path(args.report))
    summary = None
    try:
        with uptodate.one_build_at_a_time(config.root):
            # The search for damaged output files starts first, on another core: it runs
            # while this one walks the sources, imports the build and loads its cache.
            check = uptodate.Check(config, scan=not args.fresh)
            if check.unchanged and not args.fresh and not args.report:
                check.close(cancel=True)
                out = config.out_dir
                if uptodate.work_folders(out):
                    from .output import remove_leftovers  # of a build killed since, which changed nothing

                    remove_leftovers(out)
                print(unchanged_text(config.out_dir, check.counts, time.perf_counter() - started), file=sys.stderr)
                return 0
            progress = Progress()
            parse = None  # a cold build's parse of its content, begun early
            try:
                # A cold build parses every content file: begun now, on other cores, while
                # this one imports the renderer. Ctrl-C lands once both are under way.
                with interrupts_held():
                    from .content.files import start_prefetch

                    parse = start_prefetch(config.root, list(check.sources), args.jobs or os.cpu_count() or 1, fresh=args.fresh)
                    from .build import build
                summary = build(config, progress=progress, jobs=args.jobs, fresh=args.fresh, uptodate=check, shortcut=not args.report)
            finally:
                progress.clear()  # also on Ctrl-C, so the next message starts on a clean line
                check.close(cancel=True)  # a search the build did not ask for (or a build cut short)
                if parse is not None:
                    parse.cancel()  # one the build did not take (it stopped first); else nothing to do
        for problem in summary.result.warnings + summary.result.errors:
            print(problem_text(problem), file=sys.stderr)
            if os.environ.get("GITHUB_ACTIONS") == "true":
                print(github_annotation(problem))
        if args.explain:
            for path, why in sorted(summary.rendered):
                print(f"rendered {path}: {why}", file=sys.stderr)
        written = True
        if args.report:
            try:
                write_report(summary, args.report)
                made = False  # a report now: kept
            except OSError as exc:
                print(f"error: could not write the report {args.report}: {exc.strerror or exc}", file=sys.stderr)
                written = False
        print(summary_text(summary), file=sys.stderr)
    except BaseException as exc:
        if made:  # opened to check it, and the build stopped before writing it
            Path(args.report).unlink(missing_ok=True)
        if isinstance(exc, KeyboardInterrupt) and not isinstance(exc, InterruptedAfterOutput) and summary is not None and summary.ok:
            # Stopped once the new output was in place: say so.
            raise InterruptedAfterOutput(terminated=isinstance(exc, Terminated)) from None
        raise
    if _held is not None:
        _held.append((check, summary))  # freed by the exit, not one by one (see run())
    return 0 if summary.ok and written else 1


def _check_report(path: Path) -> bool:
    """Before the build: a --report that names a folder, or a path below a file, is a usage
    error. Return whether the file was made here (empty)."""
    hint = "Name a file in a folder that can be written, e.g. --report reports/build.json."
    try:
        if path.is_dir():
            raise UsageError(f"--report {path} is a folder; name a file, e.g. --report build-report.json")
        folder = path.parent
        while not folder.exists() and folder != folder.parent:
            folder = folder.parent  # the folders missing are made
        if not folder.is_dir():
            raise UsageError(f"--report {path}: {folder} is a file, not a folder", hint=hint)
        # Opened now, so a report that cannot be written fails before the output changes.
        made = not path.exists()
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a"):
            pass
        return made
    except OSError as exc:
        raise UsageError(f"--report {path} cannot be written: {exc.strerror or exc}", hint=hint) from None


def _routes(args: argparse.Namespace) -> int:
    from . import context
    from .prerender import Prerender
    from .report import problem_text
    from .site import Site

    site = Site(_load_config(args))
    context.activate(site)
    counter = Prerender(site, writer=None)  # only its entries() reader is used
    rows = [("route", "kind", "params", "layouts", "entries")]
    for route in site.manifest.routes:
        params = ", ".join(
            ("..." if p.rest else "") + p.name + ("?" if p.optional else "") + (f"={p.matcher}" if p.matcher else "")
            for p in route.rid.params
        )
        layouts = " > ".join(layout.dir.removeprefix("routes") or "/" for layout in route.layouts)
        entries = str(len(counter._entries(route))) if route.dynamic else "-"
        rows.append((route.id, route.kind, params or "-", layouts or "-", entries))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip())
    for problem in counter.result.problems:
        print(problem_text(problem), file=sys.stderr)  # as the build shows it: file, line, traceback
    return 1 if counter.result.problems else 0


def _serve(args: argparse.Namespace) -> int:
    with interrupts_held():  # Ctrl-C lands once the server's code is imported (inside an extension's start-up it can crash Python)
        from .server import dev, serve  # noqa: F401 - dev: imported here, held, rather than in serve()

    _check_port(args.port)
    return serve(_load_config(args), host=args.host, port=args.port, open_browser=args.open)


def _preview(args: argparse.Namespace) -> int:
    from .server import preview

    _check_port(args.port)
    overrides = {"out": args.out, "base_path": args.base_path}
    config = _load_config(args, **{k: v for k, v in overrides.items() if v is not None})
    return preview(config, host=args.host, port=args.port)


def _check_port(port: int | None) -> None:
    if port is not None and not 0 <= port <= 65535:
        raise UsageError(f"--port takes 0 to 65535, not {port}")


def _new(args: argparse.Namespace) -> int:
    target: Path = args.dir
    if target.exists() and not target.is_dir():
        raise UsageError(f"{target} is a file; choose a new folder")
    if target.exists() and any(target.iterdir()):
        raise UsageError(f"{target} exists and is not empty; choose a new folder")
    import shutil  # here: the build's path does without it

    try:
        shutil.copytree(STARTER, target, dirs_exist_ok=True, ignore=shutil.ignore_patterns("__pycache__"))
    except OSError as exc:
        raise UsageError(f"cannot make {target}: {exc.strerror or exc}") from None
    print(f"created a starter site in {target}\n  cd {target}\n  ssg serve    # live preview while you edit\n  ssg build    # writes build/", file=sys.stderr)
    return 0


_held: list | None = None  # what the build made, kept alive until run() exits the process


def run() -> None:
    """The `ssg` command: main(), then exit without tearing the interpreter down.

    A build holds hundreds of thousands of objects (the last build's record, every entry
    of the content); freeing them one by one at exit took a sixth of a one-edit build at
    4,000 posts. Output is flushed and exit handlers run first (the content cache saves
    in one); an exception from main() leaves the usual way, with its traceback.
    """
    global _held
    _held = []
    code = main()
    for name in (signal.SIGINT, signal.SIGTERM):
        signal.signal(name, ignore)  # what is left is saving and exiting: not to be cut short
    if sys.getprofile() is not None or sys.gettrace() is not None:
        sys.exit(code)  # a profiler or debugger writes its results once the program returns
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except OSError:
        pass  # a closed pipe (ssg build | head): nothing left to say
    atexit._run_exitfuncs()
    os._exit(code)


if __name__ == "__main__":
    run()
