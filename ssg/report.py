"""The only place that formats for humans (and for CI): problems, progress, the summary."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from .build import Summary
    from .problems import Problem


def problem_text(p: Problem) -> str:
    """Given a problem, return its multi-line message as a terminal shows it."""
    label = "error" if p.severity == "error" else "warning"
    lines = [f"{label}: {p.message}"]
    if p.route and (p.params or f"route {p.route}" not in p.message):
        params = f" {json.dumps(p.params, ensure_ascii=False)}" if p.params else ""
        lines.append(f"  route {p.route}{params}")
    if p.file and p.file not in p.message:
        lines.append(f"  at {p.file}" + (f":{p.line}" if p.line else ""))
    if p.chain and "linked from" not in p.message:
        lines.append("  reached via " + " <- ".join(p.chain))
    if p.frames:
        lines.append("  Traceback (ssg's own frames trimmed):")
        for f in p.frames:
            lines.append(f'    File "{f.file}", line {f.line}, in {f.name}')
            if f.code:
                lines.append(f"      {f.code}")
    return "\n".join(lines)


def github_annotation(p: Problem) -> str:
    """Given a problem, return a GitHub Actions `::error file=…,line=…::` workflow command."""
    level = "error" if p.severity == "error" else "warning"
    props = []
    if p.file:
        props.append(f"file={_escape_property(p.file)}")
        if p.line:
            props.append(f"line={p.line}")
    head = f"::{level} {','.join(props)}::" if props else f"::{level}::"
    return head + _escape_data(p.message)


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def summary_text(s: Summary) -> str:
    r = s.result
    verdict = f"built {s.out}" if s.ok else f"build failed with {len(r.errors)} error(s); {s.out} left as it was"
    if s.patched:
        n = len(s.rendered)
        again = (f"{n} read the edited files and {'was' if n == 1 else 'were'} rendered again in place (--explain lists {'it' if n == 1 else 'them'})"
                 if n else "none of them read what changed in the edited files")
        cache = f"\n  {s.reused} of {s.reused + len(s.rendered)} paths kept as they were; {again}"
    elif s.reused and s.rendered:
        cache = f"\n  {s.reused} of {s.reused + len(s.rendered)} paths reused from the build cache (--explain says why the rest were rendered)"
    elif s.reused:
        cache = f"\n  {s.reused} of {s.reused} paths reused from the build cache"  # output files put back, say
    else:
        cache = ""
    return f"{verdict}\n  {counts_text(summary_counts(s), len(r.warnings), len(r.errors), s.seconds)}{cache}"


def unchanged_text(out: Path, counts: dict[str, int], seconds: float) -> str:
    """The summary of a build that found nothing changed since the last one (uptodate.py)."""
    return (
        f"built {out}\n  {counts_text(counts, 0, 0, seconds)}\n"
        f"  nothing changed since the last build: its {counts['paths']} paths are up to date (--fresh renders them again)"
    )


def summary_counts(s: Summary) -> dict[str, int]:
    if s.counts is not None:
        return dict(s.counts)
    r = s.result
    return {
        "pages": r.count("page"), "data_files": r.data_files, "endpoints": r.count("endpoint"),
        "redirects": r.count("redirect"), "static_files": r.static_files, "paths": s.reused + len(s.rendered),
    }


def counts_text(c: dict[str, int], warnings: int, errors: int, seconds: float) -> str:
    return (
        f"{c['pages']} pages, {c['data_files']} data files, {c['endpoints']} endpoints, {c['redirects']} redirects, "
        f"{c['static_files']} static files, {warnings} warnings, {errors} errors in {seconds:.2f}s"
    )


def report_json(s: Summary) -> dict:
    r = s.result
    return {
        "ok": s.ok,
        "out": s.out,
        "seconds": round(s.seconds, 3),
        "pages": [
            {"path": w.path, "kind": w.kind, "status": w.status, "route": w.route, "file": w.file} for w in r.written
        ],
        "warnings": [p.as_json() for p in r.warnings],
        "errors": [p.as_json() for p in r.errors],
    }


def write_report(s: Summary, file: Path) -> None:
    file.parent.mkdir(parents=True, exist_ok=True)
    file.write_text(json.dumps(report_json(s), indent=2, ensure_ascii=False) + "\n", "utf-8")


class Progress:
    """A one-line progress display on a terminal (pages done / queued, rate); silent otherwise."""

    def __init__(self, stream: TextIO = sys.stderr) -> None:
        self.stream = stream
        self.enabled = stream.isatty()
        self.started = time.perf_counter()
        self.last = 0.0

    def __call__(self, done: int, total: int) -> None:
        now = time.perf_counter()
        if not self.enabled or (now - self.last < 0.1 and done != total):
            return
        self.last = now
        rate = done / max(now - self.started, 1e-6)
        self.stream.write(f"\r  rendering {done}/{total} paths  {rate:,.0f}/s ")
        self.stream.flush()

    def clear(self) -> None:
        if self.enabled:
            self.stream.write("\r\033[K")
            self.stream.flush()
