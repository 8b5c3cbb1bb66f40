"""Turn an exception from user code into a Failure: message, user file and line, trimmed frames."""

from __future__ import annotations

import linecache
import traceback
from dataclasses import dataclass, field
from pathlib import Path

from .errors import SsgError

_SSG_DIR = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Frame:
    file: str
    line: int
    name: str
    code: str


@dataclass(frozen=True)
class Failure:
    """What went wrong, where in the user's files, and the user's frames (ssg's trimmed)."""

    message: str
    file: str | None = None
    line: int | None = None
    frames: tuple[Frame, ...] = field(default_factory=tuple)
    exception: str = ""  # the exception's class name


def from_exception(exc: BaseException, root: Path) -> Failure:
    """Given an exception raised while responding, return a Failure pointing at user code."""
    frames = tuple(_user_frames(exc, root))
    file = getattr(exc, "file", None)
    line = getattr(exc, "line", None)
    if file is None and frames:
        file, line = frames[-1].file, frames[-1].line
    if isinstance(exc, SsgError):
        message = str(exc)
    else:
        message = f"{type(exc).__name__}: {exc}"
    cause = getattr(exc, "cause", None)
    if cause is not None and not frames:
        frames = tuple(_user_frames(cause, root))
        if file is not None and line is None and frames:
            line = frames[-1].line
    return Failure(message, file, line, frames, type(exc).__name__)


def _user_frames(exc: BaseException, root: Path):
    """The frames of the traceback that are in the site's own files, outermost first."""
    for summary in traceback.extract_tb(exc.__traceback__):
        path = Path(summary.filename)
        if not path.is_absolute():
            continue
        path = path.resolve()
        if path.is_relative_to(_SSG_DIR) or "site-packages" in path.parts or not path.is_relative_to(root):
            continue
        rel = path.relative_to(root).as_posix()
        code = summary.line or linecache.getline(str(path), summary.lineno or 0).strip()
        yield Frame(rel, summary.lineno or 0, summary.name, code)
