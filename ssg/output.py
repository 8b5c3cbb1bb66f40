"""The only writer: URL -> file name, a safe join, a staging folder and the atomic swap."""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import signal
from collections.abc import Collection, Iterator
from pathlib import Path
from typing import Any

from .errors import InterruptedAfterOutput, SsgError
from .interrupts import Terminated
from .uptodate import work_folder, work_folders


class UnsafePath(SsgError):
    pass


def page_file(path: str, trailing_slash: str) -> str:
    """Given a page path, return its file inside the output folder.

    >>> page_file("/about", "always"), page_file("/about", "never"), page_file("/", "never")
    ('about/index.html', 'about.html', 'index.html')
    """
    bare = path.strip("/")
    if not bare:
        return "index.html"
    return f"{bare}/index.html" if trailing_slash == "always" else f"{bare}.html"


def data_file(path: str) -> str:
    """Given a page path, return its __data.json file: /about -> about/__data.json."""
    bare = path.strip("/")
    return f"{bare}/__data.json" if bare else "__data.json"


def endpoint_file(path: str) -> str:
    """Given an endpoint path, return its file: /api/posts.json -> api/posts.json."""
    bare = path.strip("/")
    return bare if bare and not path.endswith("/") else f"{bare}/index.html".lstrip("/")


def unsafe_reason(path: str) -> str | None:
    """Given a decoded URL path, say why it cannot become a file inside the output, or None.

    >>> unsafe_reason("/blog/a"), unsafe_reason("/files/../x"), unsafe_reason("/a//b")
    (None, "has a '..' segment", 'has an empty segment')
    """
    if "\x00" in path:
        return "contains NUL"
    if "\\" in path:
        return "contains a backslash"
    segments = path.strip("/").split("/")
    if path.strip("/") and "" in segments:
        return "has an empty segment"
    for segment in (".", ".."):
        if segment in segments:
            return f"has a {segment!r} segment"
    return None


def check_relative(rel: str) -> None:
    """Refuse a file name that could land outside the output folder."""
    parts = rel.split("/")
    if not rel or "\\" in rel or "\x00" in rel or "" in parts or ".." in parts or "." in parts:
        raise UnsafePath(f"refusing to write {rel!r}: it would land outside the output folder")


class Writer:
    """Writes one build into a staging folder beside `out`, then puts it in place.

    A full build swaps the whole staging folder in, atomically. An `update` (an
    incremental build whose unchanged paths keep their files) stages only the files it
    wrote, then moves each into the output and deletes what the build no longer writes.
    Either way nothing in `out` changes before `commit()`.
    """

    def __init__(self, out: Path, *, update: bool = False, damaged: set[str] | None = None) -> None:
        self.out = out
        self.update = update
        # Files of the previous output changed or deleted since it was written (never
        # kept), or None when unknown: then each kept file is checked to exist.
        self.damaged = damaged
        self.staging = work_folder(out, "staging", os.getpid())
        self._prefix = os.path.join(self.staging, "")  # + a checked relative name: its path, no Path made
        self.written: dict[str, int] = {}  # rel -> size, every file this build wrote
        self._folders: set[str] = set()  # every folder that holds a written file
        self._dirs: set[str] = set()  # folders this process already created

    def start(self) -> None:
        self.out.parent.mkdir(parents=True, exist_ok=True)
        remove_leftovers(self.out, own=self.staging)
        self.staging.mkdir()

    def write(self, rel: str, body: bytes) -> None:
        """Claim and write one file (single process: the build's extras)."""
        check_relative(rel)
        self.claim(rel)
        self.put(rel, body)

    def put(self, rel: str, body: bytes) -> None:
        """Write one file below the staging folder. Safe to call from worker processes;
        the build's main process `claim()`s every file so collisions are still found."""
        check_relative(rel)
        # The staging folder is ours and fresh: it holds no symlinks, so a checked
        # relative name cannot resolve outside it.
        parent = rel.rpartition("/")[0]
        if parent and parent not in self._dirs:
            try:
                os.mkdir(self._prefix + parent)  # most often the folder above is there: one call
            except FileExistsError:
                if not os.path.isdir(self._prefix + parent):
                    raise
            except FileNotFoundError:
                os.makedirs(self._prefix + parent, exist_ok=True)
            self._dirs.add(parent)
        _write_file(self._prefix + rel, body)

    def link_from(self, previous: Path, rels: list[str]) -> bool:
        """Keep files of a previous build: hard-link them into the staging folder (copy
        where links are refused), or in an update leave them where they are; False, with
        nothing left half-done, when one of them is missing or was changed since."""
        base = f"{previous}/"
        if self.damaged is not None and not self.damaged.isdisjoint(rels):
            return False
        # The search for damage vouches for the files of an output that stays in place;
        # files copied from elsewhere are looked at (the output may be gone).
        if (self.damaged is None or not self.update) and not all(os.path.isfile(base + rel) for rel in rels):
            return False
        if self.update:
            return True
        for rel in rels:
            check_relative(rel)
            parent = rel.rpartition("/")[0]
            if parent and parent not in self._dirs:
                (self.staging / parent).mkdir(parents=True, exist_ok=True)
                self._dirs.add(parent)
            try:
                os.link(previous / rel, self.staging / rel)
            except OSError:
                shutil.copyfile(previous / rel, self.staging / rel)
        return True

    def claim(self, rel: str) -> None:
        """Record that the build wrote `rel`; refuse a second writer or a file/folder clash."""
        if rel in self.written:
            raise UnsafePath(f"{rel} would be written twice; two paths map to the same file")
        self._check_room(rel)
        self.written[rel] = 0
        parts = rel.split("/")
        for i in range(1, len(parts)):
            self._folders.add("/".join(parts[:i]))

    def _check_room(self, rel: str, what: str | None = None) -> None:
        """Refuse a file where the build wrote a folder, or below a file it wrote
        (an endpoint /feed and a page /feed/x): report it instead of crashing."""
        what = what or rel
        if rel in self._folders:
            raise UnsafePath(f"{what} would be written as a file where the build already wrote a folder; rename one of the routes")
        parts = rel.split("/")
        for i in range(1, len(parts)):
            parent = "/".join(parts[:i])
            if parent in self.written:
                raise UnsafePath(f"{what} would be written inside {parent}, which the build already wrote as a file; rename one of the routes")

    def exists(self, rel: str) -> bool:
        return rel in self.written

    def copy_tree(self, source: Path, *, skip: Collection[str] = ()) -> list[str]:
        """Copy a folder (static/) into the output verbatim, but for the files named in `skip`
        (written already, merged with the build's); return the files copied, sorted."""
        copied = []
        if not source.is_dir():
            return copied
        for dirpath, dirnames, filenames in os.walk(source):
            dirnames.sort()  # sorted so the copy order (and the report) is the same everywhere
            for name in sorted(filenames):
                src = Path(dirpath) / name
                rel = src.relative_to(source).as_posix()
                check_relative(rel)
                if rel in skip:
                    continue
                if rel in self.written:
                    raise UnsafePath(f"static/{rel} collides with {rel} that the build wrote; rename one of them")
                self._check_room(rel, f"static/{rel}")
                self.claim(rel)
                target = self.staging / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                try:
                    shutil.copyfile(src, target)
                except OSError as exc:  # a link to nothing, or a file moved away since the walk (an editor's save)
                    raise SsgError(f"static/{rel} could not be copied: {exc.strerror or exc} (a link to nothing, "
                                   "or a file moved or deleted while the build ran)") from None
                copied.append(rel)
        return copied

    def commit(self, *, prune: bool = True) -> None:
        """Put the build in place: the staging folder swapped in as `out` (the previous
        output removed afterwards), or in an update its files moved into `out` and, unless
        the caller knows the output holds only files this build keeps (`prune=False`),
        what it did not write deleted."""
        if self.update:
            self._apply(prune)
            return
        if not self.out.exists():
            try:
                os.rename(self.staging, self.out)
                return
            except OSError as exc:
                if exc.errno not in (errno.ENOTEMPTY, errno.EEXIST):
                    raise
                # Another build (of a site with no cache yet: no lock) put its output there first.
        if _exchange(self.staging, self.out):
            shutil.rmtree(self.staging)  # it now holds the previous output
            return
        old = work_folder(self.out, "old", os.getpid())
        os.rename(self.out, old)
        os.rename(self.staging, self.out)
        shutil.rmtree(old, ignore_errors=True)

    def _apply(self, prune: bool) -> None:
        """Move every staged file into `out`, then delete what this build did not write."""
        for dirpath, _, filenames in os.walk(self.staging):
            rel_dir = os.path.relpath(dirpath, self.staging)
            for name in filenames:
                rel = name if rel_dir == "." else f"{rel_dir}/{name}"
                _place(os.path.join(dirpath, name), self.out, rel)
        if not prune:
            shutil.rmtree(self.staging)
            return
        for dirpath, dirnames, filenames in os.walk(self.out, topdown=False):
            rel_dir = os.path.relpath(dirpath, self.out)
            prefix = "" if rel_dir == "." else rel_dir + "/"
            for name in dirnames:  # a symlink to a folder: never one the build wrote
                if os.path.islink(os.path.join(dirpath, name)):
                    os.unlink(os.path.join(dirpath, name))
            for name in filenames:
                if prefix + name not in self.written:
                    os.unlink(os.path.join(dirpath, name))
            if prefix and not os.listdir(dirpath):
                os.rmdir(dirpath)
        shutil.rmtree(self.staging)

    def abort(self) -> None:
        shutil.rmtree(self.staging, ignore_errors=True)


@contextlib.contextmanager
def signals_held() -> Iterator[None]:
    """Hold Ctrl-C and SIGTERM while the output is put in place; they land right after,
    Ctrl-C as InterruptedAfterOutput when the block finished (the output is the new one)."""
    held = {signal.SIGINT, signal.SIGTERM}
    signal.pthread_sigmask(signal.SIG_BLOCK, held)
    finished = False
    try:
        yield
        finished = True
    finally:
        try:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, held)  # a held signal's handler runs in this call
        except KeyboardInterrupt as exc:
            if not finished:
                raise
            raise InterruptedAfterOutput(terminated=isinstance(exc, Terminated)) from None


def _place(source: str, out: Path, rel: str) -> None:
    """Move one staged file to out/rel, making room where the previous build had a
    folder at that name, or a file where this one needs a folder."""
    target = out / rel
    for ancestor in reversed(target.relative_to(out).parents[:-1]):
        folder = out / ancestor
        if folder.is_file() or folder.is_symlink():
            folder.unlink()
        if not folder.is_dir():
            folder.mkdir()
    if target.is_dir() and not target.is_symlink():
        shutil.rmtree(target)
    os.replace(source, target)


def _write_file(path: str, body: bytes) -> None:
    """Write a new file: plain os calls, since the build writes tens of thousands."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o666)
    try:
        view = memoryview(body)
        while view:
            view = view[os.write(fd, view):]
    finally:
        os.close(fd)


def remove_leftovers(out: Path, *, own: Path | None = None) -> None:
    """Remove the staging and old folders a killed earlier build left beside `out` (and
    `own`, a staging folder of this process's); a build still running keeps its own."""
    for stale, pid in work_folders(out):
        if stale == own or not _running(pid):
            shutil.rmtree(stale, ignore_errors=True)


def _running(pid: str) -> bool:
    """Whether a process id (from a staging folder's name) is a live process."""
    if not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # alive, but another user's
    return True


def libc_function(name: str) -> Any:
    """A function of the C library (renameat2, prctl), or None where there is none."""
    import ctypes.util  # here: most builds call none

    try:
        return getattr(ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True), name)
    except (OSError, AttributeError):
        return None


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two folders with renameat2(RENAME_EXCHANGE) where Linux offers it."""
    renameat2 = libc_function("renameat2")
    if renameat2 is None:
        return False
    at_fdcwd, rename_exchange = -100, 2
    result = renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange)
    return result == 0
