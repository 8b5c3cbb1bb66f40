"""The `ssg` command: thin commands over library code, and the one place errors are printed."""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path

from . import __version__, config as config_mod
from .errors import ConfigError, SsgError, UsageError

STARTER = Path(__file__).parent / "starter"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ssg",
        description="Prerender a site from routes/ (Jinja2 pages, Python loads, +server.py endpoints) "
        "and content/ (Markdown) into static files.",
        epilog="Exit codes: 0 success; 1 the site failed to build; 2 bad usage or config.",
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
    build.add_argument("--out", metavar="DIR", help="output folder (default: build, or config 'out')")
    build.add_argument("--base-path", metavar="PATH", help='serve the site below a path, e.g. "/docs"')
    build.add_argument("--origin", metavar="URL", help='absolute origin, e.g. "https://example.com" (enables sitemap.xml)')
    build.add_argument("--jobs", type=int, metavar="N", help="paths rendered concurrently (loads' I/O overlaps); default 8")
    build.add_argument("--drafts", action="store_true", default=None, help="include content marked draft: true")
    build.add_argument("--no-crawl", action="store_true", help="render only the seeded paths; do not follow links")
    build.add_argument("--report", type=Path, metavar="FILE.json", help="write every page, warning and error as JSON")

    routes = sub.add_parser("routes", help="print the route table: id, kind, params, layouts, entries count")
    add_root(routes)

    new = sub.add_parser("new", help="create a starter site that builds as it is")
    new.add_argument("dir", type=Path, metavar="DIR")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    try:
        return {"build": _build, "routes": _routes, "new": _new}[args.command](args)
    except SsgError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted; the previous output is untouched", file=sys.stderr)
        return 130


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
    from .build import build
    from .report import Progress, github_annotation, problem_text, summary_text, write_report

    if args.jobs is not None and args.jobs < 1:
        raise UsageError("--jobs takes a number of 1 or more")
    overrides = {"out": args.out, "base_path": args.base_path, "origin": args.origin, "drafts": args.drafts}
    if args.no_crawl:
        overrides["prerender"] = {"crawl": False}
    config = _load_config(args, **{k: v for k, v in overrides.items() if v is not None})
    progress = Progress()
    try:
        summary = build(config, progress=progress, concurrency=args.jobs or 8)
    finally:
        progress.clear()  # also on Ctrl-C, so the next message starts on a clean line
    for problem in summary.result.warnings + summary.result.errors:
        print(problem_text(problem), file=sys.stderr)
        if os.environ.get("GITHUB_ACTIONS") == "true":
            print(github_annotation(problem))
    if args.report:
        write_report(summary, args.report)
    print(summary_text(summary), file=sys.stderr)
    return 0 if summary.ok else 1


def _routes(args: argparse.Namespace) -> int:
    from . import context
    from .prerender import Prerender
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
        print(f"error: {problem.message}", file=sys.stderr)
    return 1 if counter.result.problems else 0


def _new(args: argparse.Namespace) -> int:
    target: Path = args.dir
    if target.exists() and any(target.iterdir()):
        raise UsageError(f"{target} exists and is not empty; choose a new folder")
    shutil.copytree(STARTER, target, dirs_exist_ok=True, ignore=shutil.ignore_patterns("__pycache__"))
    print(f"created a starter site in {target}\n  cd {target} && ssg build", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
