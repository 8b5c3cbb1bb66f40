"""Pure helpers shared by `ssg serve` and `ssg preview`: request targets, safe file lookup.

Every request path goes through `decode_target()` exactly once, so an encoded `..`, a NUL
or a backslash is refused before any file name is built from it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

MAX_TARGET = 4096  # bytes; longer request targets answer 414


class BadTarget(Exception):
    """A request target that cannot name a file or route: the status says why (400, 414)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class Target:
    path: str  # decoded, starts with "/"
    query: str  # raw, without the "?"


def decode_target(raw: bytes) -> Target:
    """Given a raw request target, return its decoded path and raw query, or raise BadTarget.

    >>> decode_target(b"/blog/caf%C3%A9?x=1")
    Target(path='/blog/café', query='x=1')

    Refused (400): anything but an origin-form target, bad or overlong percent-encoding,
    bytes that are not UTF-8, control characters (NUL included), backslashes, and empty,
    "." or ".." segments. The path is decoded once: "%252e" stays the text "%2e".
    """
    if len(raw) > MAX_TARGET:
        raise BadTarget(414, f"the request target is longer than {MAX_TARGET} bytes")
    try:
        text = raw.decode("ascii")
    except UnicodeDecodeError:
        raise BadTarget(400, "the request target has bytes that are not percent-encoded") from None
    if not text.startswith("/"):
        raise BadTarget(400, "the request target must be a path starting with /")
    raw_path, _, query = text.partition("?")
    if "#" in raw_path:
        raise BadTarget(400, "the request target must not hold a fragment")
    path = _percent_decode(raw_path)
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in path):
        raise BadTarget(400, "the path holds a control character")
    if "\\" in path:
        raise BadTarget(400, "the path holds a backslash")
    segments = path.split("/")[1:]
    inner = segments[:-1]  # the last one may be "" (a trailing slash)
    if any(s in ("", ".", "..") for s in inner) or segments[-1] in (".", ".."):
        raise BadTarget(400, "the path holds an empty, '.' or '..' segment")
    return Target(path, query)


def _percent_decode(raw: str) -> str:
    out = bytearray()
    i = 0
    while i < len(raw):
        c = raw[i]
        if c == "%":
            pair = raw[i + 1 : i + 3]
            if len(pair) != 2 or not all(ch in "0123456789abcdefABCDEF" for ch in pair):
                raise BadTarget(400, "the path has a malformed percent-encoding")
            out.append(int(pair, 16))
            i += 3
        else:
            out.append(ord(c))
            i += 1
    try:
        # Strict UTF-8 refuses overlong forms such as %C0%AE (a disguised ".").
        return out.decode("utf-8")
    except UnicodeDecodeError:
        raise BadTarget(400, "the path is not valid UTF-8 once decoded") from None


def hidden(path: str) -> bool:
    """Given a decoded path, return whether any segment is a dotfile (".git", ".env").
    /.well-known/ is the one exception: hosts serve it and standards put files there."""
    segments = [s for s in path.split("/") if s]
    if segments and segments[0] == ".well-known":
        segments = segments[1:]
    return any(s.startswith(".") for s in segments)


def safe_file(folder: Path, path: str) -> Path | None:
    """Given a folder and a decoded request path, return the regular file it names inside
    the folder, or None. Dotfiles, and anything a symlink leads outside the folder, are None."""
    if hidden(path):
        return None
    base = folder.resolve()
    candidate = base.joinpath(*[s for s in path.split("/") if s])
    try:
        resolved = candidate.resolve()
    except (OSError, RuntimeError):  # a symlink loop
        return None
    # Don't let a symlink inside the folder break out of it.
    if not resolved.is_relative_to(base) or not resolved.is_file():
        return None
    return resolved

