"""The dev server's error page and terminal text: what failed, in which of the user's files
and lines, and the traceback. Everything from the failure is escaped before it is shown."""

from __future__ import annotations

import html
from pathlib import Path

from ..failures import Failure

STYLE = """
body{font:15px/1.5 system-ui,sans-serif;margin:0;background:#1b1b1f;color:#eee}
main{max-width:60rem;margin:2rem auto;padding:0 1.5rem}
h1{font-size:1.3rem;color:#ff6b6b;white-space:pre-wrap;word-break:break-word}
.where{font:600 14px ui-monospace,monospace;color:#ffd166}
pre{background:#111;padding:1rem;overflow:auto;border-radius:6px;font:13px/1.5 ui-monospace,monospace}
.hl{background:#5c1f1f;display:inline-block;min-width:100%}
.frame{color:#9ecbff}.hint{color:#aaa}
"""


def source_excerpt(root: Path, file: str | None, line: int | None, around: int = 3) -> list[tuple[int, str]]:
    """Given a site-relative file and a line, return the numbered lines around it (empty if unreadable)."""
    if not file or not line:
        return []
    path = (root / file).resolve()
    if not path.is_relative_to(root.resolve()):
        return []
    try:
        lines = path.read_text("utf-8", errors="replace").splitlines()
    except OSError:
        return []  # deleted or renamed since the error: show the rest
    start = max(1, line - around)
    return [(n, lines[n - 1]) for n in range(start, min(len(lines), line + around) + 1)]


def where(failure: Failure) -> str:
    if failure.file and failure.line:
        return f"{failure.file}:{failure.line}"
    return failure.file or ""


def error_page(root: Path, status: int, path: str, failure: Failure) -> str:
    """Given a failure from user code, return the dev error page (HTML)."""
    e = html.escape
    parts = [
        f"<!doctype html><html lang=en><meta charset=utf-8><title>{status} · {e(failure.exception or 'Error')}</title>",
        f"<style>{STYLE}</style><main><p class=hint>ssg serve · {e(path)}</p>",
        f"<h1>{e(failure.message)}</h1>",
    ]
    if where(failure):
        parts.append(f'<p class=where id="ssg-error-where">{e(where(failure))}</p>')
    excerpt = source_excerpt(root, failure.file, failure.line)
    if excerpt:
        width = len(str(excerpt[-1][0]))
        rows = []
        for n, text in excerpt:
            row = f"{'>' if n == failure.line else ' '} {n:>{width}} | {e(text)}"
            rows.append(f"<span class=hl>{row}</span>" if n == failure.line else row)
        parts.append("<pre>" + "\n".join(rows) + "</pre>")
    if failure.frames:
        frames = "\n".join(
            f"<span class=frame>{e(f.file)}:{f.line} in {e(f.name)}</span>\n    {e(f.code)}" for f in failure.frames
        )
        parts.append(f"<h2>Traceback</h2><pre>{frames}</pre>")
    parts.append("<p class=hint>The server keeps running: save a fix and this page reloads by itself.</p></main></html>\n")
    return "".join(parts)


def site_error_page(message: str) -> str:
    """The page shown for every path while the site itself is broken (config, routes/ tree)."""
    e = html.escape
    return (
        f"<!doctype html><html lang=en><meta charset=utf-8><title>ssg · site error</title><style>{STYLE}</style>"
        f"<main><p class=hint>ssg serve</p><h1>The site cannot be served as it is</h1><pre>{e(message)}</pre>"
        "<p class=hint>Fix it and save: every open tab reloads.</p></main></html>\n"
    )


def error_text(status: int, path: str, failure: Failure) -> str:
    """The same failure as plain text, for endpoint responses and the terminal."""
    lines = [f"{status} {path}: {failure.message}"]
    if where(failure) and where(failure) not in failure.message:
        lines.append(f"  at {where(failure)}")
    for f in failure.frames:
        lines.append(f"  {f.file}:{f.line} in {f.name}")
        if f.code:
            lines.append(f"    {f.code}")
    return "\n".join(lines)
