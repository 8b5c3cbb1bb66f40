"""The no-change shortcut: when no file the build could read and no file it wrote has
changed since the last successful build, the output is already what a build would write.

After a build with no errors and no warnings, `record()` writes `.ssg-cache/uptodate`:
the build's key (the ssg and Python versions, ssg's own files, the config, the
environment variables a build reads), the status (mtime in ns, size, inode) of every
file and folder below the site folder, and the status of every file and folder in the
output and of the build cache.
`Check` compares the same things with a walk and a stat per source and per output
folder: no site module is imported and no file is read, so a build with nothing to do
takes a few tens of milliseconds beyond Python's start-up. Any difference means a
normal (incremental) build, which also renders again the paths whose output files were
changed or deleted by hand (`Check.damaged`).

The walk skips what ssg never reads: the output folder and its staging folders, the
cache, hidden folders at the top of the site (.git, .venv, ...), virtual environments,
`__pycache__` and `node_modules` (but below static/, which is copied as it is). A file
the build read there all the same (a template may include node_modules/icons/star.svg)
is recorded too, and the next check stats each such file. A build is not recorded when
its pages fetched an absolute URL (the remote answer may have changed). The record holds
the sources as the walk before the build saw them: one changed while the build ran
differs from it, so the next build runs. A source changed in the second before the walk is hashed as well (see
RACY_NS).
"""

from __future__ import annotations

import bisect
import contextlib
import functools
import marshal
import os
import signal
import stat
import sys
import time
from array import array
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from . import __version__

FORMAT = 7  # 5: the output files as a table apart (names, statuses packed), decoded only when asked for; 6: inode numbers in 63 bits; 7: files read outside the walk
FILE = "uptodate"
CACHE = ("build.cache", "build.journal")  # the build cache (cache.py)
ENVIRONMENT = ("SOURCE_DATE_EPOCH", "SSG_MARKDOWN")  # what a build reads besides its files
SKIP = frozenset({"__pycache__", "node_modules"})
VERBATIM = "static/"  # copied whole into the output: nothing below it is skipped
UNSEEN: Status = (-1, -1, -1)  # a file first read outside the walk: its status before the build is unknown
MISSING: Status = (0, -1, 0)  # a file read outside the walk that is not there (an include's other candidate)


def left_aside(name: str) -> bool:
    """Whether a file or folder name below a folder of sources is none of the site's: what
    Python writes (__pycache__), node_modules, hidden names. Collections list no Markdown
    below them, and folders of code count no file there (see cache.is_code_file)."""
    return name in SKIP or name.startswith(".")


Status = tuple[int, int, int]  # (changed_at(st), st_size, st_ino); of an output file, st_mtime_ns

# A source changed this close to the walk could change again within the same tick of the
# file system's clock, leaving its status as it was: its contents are hashed as well.
RACY_NS = 1_000_000_000


def work_folder(out: Path, kind: str, pid: int) -> Path:
    """A build's own folder beside its output: `.<out>.staging-<pid>` holds what it
    writes, `.<out>.old-<pid>` the output it swaps out."""
    return out.with_name(f".{out.name}.{kind}-{pid}")


def work_folder_pid(out: Path, name: str) -> str | None:
    """The process id a name beside `out` gives, if it is a build's work folder."""
    kind, dash, pid = name.removeprefix(f".{out.name}.").partition("-")
    return pid if name.startswith(f".{out.name}.") and kind in ("staging", "old") and dash else None


def work_folders(out: Path) -> list[tuple[Path, str]]:
    """The work folders beside `out`, of builds running or killed, each with its process id."""
    try:
        names = sorted(os.listdir(out.parent))
    except OSError:  # write-only, gone
        return []
    return [(out.parent / name, pid) for name in names if (pid := work_folder_pid(out, name)) is not None]


def changed_at(st: os.stat_result) -> int:
    """When a source last changed: its ctime, unless its mtime is later (a clock set back).
    An edit that keeps the size and sets the old mtime back (touch -d, a tool restoring
    time stamps) still moves the ctime, which no program can set."""
    return max(st.st_mtime_ns, st.st_ctime_ns)


# The kernel stamps a change with a clock that may lag the build's own by a tick (a few
# ms): a change made just after a build started can look older than the build.
TICK_NS = 20_000_000


def changed_since(st: os.stat_result, started: int) -> bool:
    """Whether a file or folder changed since `started` (time.time_ns()), or just before it
    (TICK_NS): counting a change in that moment as new costs a build, missing one a stale page."""
    return changed_at(st) >= started - TICK_NS


def key(config: Any) -> str:
    """Everything besides the site's files that shapes the output. The output folder by
    where it is: `--out build` and `--out /site/build` are the same build."""
    return repr((
        FORMAT, __version__, sys.version, _package_status(), repr(config.replace(out=str(config.out_dir))),
        [os.environ.get(name) for name in ENVIRONMENT],
    ))


def walked(rel: str) -> bool:
    """Whether the walk of `sources` lists a file of this site-relative name when it is
    there (a folder the walk passes over aside; a second name of a symlinked folder it
    has seen is not told apart).

    >>> walked("content/a.md"), walked("node_modules/x/a.svg"), walked("static/node_modules/a.js"), walked(".shared/a.html")
    (True, False, True, False)
    """
    if rel.startswith("."):
        return False
    return rel.startswith(VERBATIM) or SKIP.isdisjoint(rel.split("/"))


def sources(root: Path, out: Path) -> dict[str, Status]:
    """The status of every file and folder below the site folder that a build could read."""
    found: dict[str, Status] = {}
    out_parent = str(out.parent)
    seen: set[tuple[int, int]] = set()

    def walk(folder: str, rel: str) -> None:
        with os.scandir(folder) as it:
            for e in it:
                if e.name in SKIP and not rel.startswith(VERBATIM):
                    continue
                try:
                    st = e.stat()
                    is_dir = e.is_dir()
                except OSError:
                    continue  # a dangling symlink: nothing a build can read
                if not is_dir:
                    found[rel + e.name] = (changed_at(st), st.st_size, st.st_ino)
                    continue
                if e.path == out_path or (st.st_dev, st.st_ino) == out_id or (folder == out_parent and work_folder_pid(out, e.name) is not None) or (st.st_dev, st.st_ino) in seen:
                    continue  # the output (also by a symlink to it), a build's work folder, a folder seen
                if not rel and (e.name.startswith(".") or os.path.exists(os.path.join(e.path, "pyvenv.cfg"))):
                    continue
                seen.add((st.st_dev, st.st_ino))
                # A folder by its place alone: the walk lists every file in it, so one
                # added or removed shows; its mtime would also move for __pycache__.
                found[rel + e.name + "/"] = (0, 0, st.st_ino)
                walk(e.path, rel + e.name + "/")

    out_path = str(out)
    try:
        out_st = os.stat(out)
        out_id: tuple[int, int] | None = (out_st.st_dev, out_st.st_ino)
    except OSError:
        out_id = None
    walk(str(root), "")
    return found


def folders_of(files: list[str]) -> list[str]:
    """Every folder holding a file the build wrote ("" is the output folder itself)."""
    folders = {""}
    for rel in files:
        parent = rel.rpartition("/")[0]
        while parent and parent + "/" not in folders:
            folders.add(parent + "/")
            parent = parent.rpartition("/")[0]
    return sorted(folders)


_INO = (1 << 63) - 1  # inode numbers are kept to 63 bits: the file table packs them as signed 64-bit


def outputs(out: Path, rels: list[str]) -> dict[str, Status]:
    """The status of each file or folder of the output (a missing one left out)."""
    found: dict[str, Status] = {}
    base = str(out) + "/"
    for rel in rels:
        try:
            st = os.stat(base + rel)
        except OSError:
            continue
        found[rel] = (st.st_mtime_ns, st.st_size, st.st_ino & _INO)
    return found


def _close_inherited(*, keep: int) -> None:
    """Close every descriptor above stderr but `keep`. Linux lists the open ones in
    /proc/self/fd. Elsewhere, os.closerange up to the limit: one close_range() call where
    the C library has it, a close() per number where it does not (glibc before 2.34, as
    in Debian 11: 0.18 s at Docker's limit of 1,048,576 descriptors, which the no-change
    check would wait for)."""
    try:
        numbers = [int(name) for name in os.listdir("/proc/self/fd")]
    except (OSError, ValueError):
        os.closerange(3, keep)
        os.closerange(keep + 1, max(os.sysconf("SC_OPEN_MAX"), 65536))
        return
    for fd in numbers:
        if fd > 2 and fd != keep:
            with contextlib.suppress(OSError):  # the listing's own, closed already
                os.close(fd)


def _any_differ(out: Path, recorded: Iterable[tuple[str, Sequence[int]]]) -> bool:
    """Whether any of `recorded` differs (any() of _differing would miss the output folder
    itself, whose name is "")."""
    return next(_differing(out, recorded), None) is not None


def _differing(out: Path, recorded: Iterable[tuple[str, Sequence[int]]]) -> Iterator[str]:
    """Given (file or folder of the output, its recorded status) pairs, yield each whose
    status changed, or that is gone (a stat each, as asked for: a plain loop). One that is
    now a symlink differs; the output folder itself ("") may be one."""
    base, stat, lstat = str(out) + "/", os.stat, os.lstat
    for rel, status in recorded:
        try:
            # A folder by its name without the "/", which would follow a link.
            st = lstat(base + rel.removesuffix("/")) if rel else stat(base)
        except OSError:
            yield rel
            continue
        if st.st_mtime_ns != status[0] or st.st_size != status[1] or st.st_ino & _INO != status[2]:
            yield rel


def _damaged_files(out: Path, files: tuple[list[str], array], folders: Iterable[str]) -> list[str]:
    """The output files that changed or vanished since they were recorded, and every file
    below one of `folders` (recorded folders that may have become a symlink: those whose
    status changed, where that is known) that is now a symlink: the files are where the
    link points, and the build would write into, or replace, a folder not its own."""
    found = list(_differing(out, _rows(*files)))
    base = str(out) + "/"
    linked = tuple(rel for rel in folders if rel and os.path.islink(base + rel[:-1]))
    if linked:
        found.extend(name for name in files[0] if name.startswith(linked))
    return found


def _file_statuses(out: Path, rels: list[str]) -> array | None:
    """Given output files, their statuses packed in one array, three numbers each (as
    outputs() makes them); None when one of them is missing, or has a time stamp the
    array cannot hold (past the year 2262)."""
    base, stat, packed = str(out) + "/", os.stat, array("q")
    for rel in rels:
        try:
            st = stat(base + rel)
            packed.extend((st.st_mtime_ns, st.st_size, st.st_ino & _INO))
        except (OSError, OverflowError):
            return None
    return packed


def _rows(names: list[str], statuses: array) -> Iterator[tuple[str, tuple[int, int, int]]]:
    """The file table as (name, status) pairs."""
    numbers = iter(statuses)
    return zip(names, zip(numbers, numbers, numbers))


def _cache_status(root: Path) -> list[Status | None]:
    """The build cache's status: a damaged cache must be reported by a build, not skipped."""
    found: list[Status | None] = []
    for name in CACHE:
        try:
            st = os.stat(root / ".ssg-cache" / name)
        except OSError:
            found.append(None)
            continue
        found.append((st.st_mtime_ns, st.st_size, st.st_ino))
    return found


class Check:
    """Compares the site with the last recorded build (`unchanged`), and keeps the source
    walk it made, so the build that follows can record itself against it."""

    def __init__(self, config: Any, *, scan: bool = False) -> None:
        """Compare the site with the record; with `scan`, start the search for damaged output
        files first (scan_for_damage), so that it runs beside the walk of the sources."""
        self.config = config
        self.file = config.root / ".ssg-cache" / FILE
        self.key = key(config)
        self.started = time.time_ns()
        self._files_blob: tuple[bytes, bytes] | None = None  # the output files of the last recorded build (see _files)
        self._folders: dict[str, Status] = {}  # and their folders
        self.recorded_counts: dict[str, int] | None = None  # the last recorded build's summary counts
        self._scan: tuple[int, int] | None = None  # (pid, pipe) of the child looking for damage
        self._recorded_folders: dict[str, Status] | None = None  # the record's, for that child
        self._verdict: bytes | None = None  # the child's first answer, once read (see _folders_differ)
        # The sources whose status changed since the last recorded build, when that build
        # can vouch for everything else (same key, output and file list), else None.
        self.changed: set[str] | None = None
        record = self._read()
        try:
            if scan:
                self.scan_for_damage()
            self.sources = sources(config.root.resolve(), config.out_dir)
            self.root = config.root.resolve()
            self._venvs: dict[str, bool] = {}  # top folder -> whether it is a virtual environment
            self.outside = self._stat_outside(record)
            # Sources changed just now could change again within the same clock tick, keeping
            # their status: their contents are hashed too, as git does.
            self.racy = {rel: _digest(self.root, rel) for rel, st in (*self.sources.items(), *self.outside.items()) if st[0] >= self.started - RACY_NS}
            self.counts: dict[str, int] | None = self._compare(record)
        except BaseException:
            self.close(cancel=True)
            raise

    def _stat_outside(self, record: tuple | None) -> dict[str, Status]:
        """The status now of each file the last recorded build read outside the walk
        (below node_modules/ or a hidden folder): MISSING for one that is not there."""
        try:
            recorded = record[8]  # type: ignore[index]
        except (TypeError, IndexError):
            return {}
        if type(recorded) is not dict:
            return {}
        found = {}
        for rel in recorded:
            try:
                st = os.stat(os.path.join(self.root, rel))
            except (OSError, ValueError, TypeError):
                found[rel] = MISSING
                continue
            found[rel] = MISSING if stat.S_ISDIR(st.st_mode) else (changed_at(st), st.st_size, st.st_ino)
        return found

    @property
    def before(self) -> dict[str, Status]:
        """Every source's status before the build: the walk's, and those of the files the
        last build read outside it (MISSING for one not there)."""
        return {**self.sources, **self.outside} if self.outside else self.sources

    def reaches(self, rel: str) -> bool:
        """Whether the walk lists this file when it is there: see walked(); a top folder
        that is a virtual environment (it holds pyvenv.cfg) is passed over too."""
        if not walked(rel):
            return False
        top, slash, _ = rel.partition("/")
        if not slash:
            return True
        if top not in self._venvs:
            self._venvs[top] = os.path.exists(os.path.join(self.root, top, "pyvenv.cfg"))
        return not self._venvs[top]

    def _outside(self, read: Iterable[str], status_before: Callable[[str], Status | None] = lambda rel: None) -> dict[str, Status]:
        """The files a build read (`read`, site-relative) that the walk does not reach,
        with their status before it. Of one first read now, the build may know it (see
        Cache.status_before); else it gets a status no file has (the next build runs, and
        states it before it starts)."""
        unwalked = set(read).difference(self.sources)  # mostly files looked for and not there (an include's other candidates)
        return {
            rel: self.outside[rel] if rel in self.outside else status_before(rel) or UNSEEN
            for rel in sorted(unwalked)
            if not rel.endswith("/") and "://" not in rel and not rel.startswith("ssg:") and not self.reaches(rel)
        }

    @property
    def unchanged(self) -> bool:
        return self.counts is not None

    def _read(self) -> tuple | None:
        """The last record, its output files kept apart (see _files); None when there is
        none, or it is unreadable (a normal build writes a new one)."""
        try:
            record = marshal.loads(self.file.read_bytes())
            files = record[6]
        except (OSError, ValueError, EOFError, TypeError, IndexError, KeyError):
            return None
        if type(files) is tuple and len(files) == 2 and all(type(part) is bytes for part in files):
            self._files_blob = files
            if type(record[5]) is dict:
                self._recorded_folders = record[5]
        return record

    def _compare(self, record: tuple | None) -> dict[str, int] | None:
        try:
            fmt, key_, sources_, racy, cache, folders, _, counts, outside = record  # type: ignore[misc]
        except (ValueError, TypeError):
            return None  # none yet, or unreadable: a normal build writes a new one
        if fmt != FORMAT or key_ != self.key or cache != _cache_status(self.config.root):
            return None
        if not (type(sources_) is type(racy) is type(folders) is type(outside) is dict):
            return None  # a damaged record
        # The output's folders, not its files: a file added, deleted or replaced changes
        # its folder's mtime. A file edited in place is found by the next build that has
        # something to do (`damaged`): a stat per folder keeps this check cheap.
        if self._folders_differ(folders):
            return None
        differs = sources_ != self.sources
        if differs and sources_.keys() != self.sources.keys():
            return None  # a file added or removed: the listing of a folder changed
        self._folders, self.recorded_counts = folders, counts
        changed = {rel for rel, digest in racy.items() if _digest(self.root, rel) != digest}
        if differs:
            changed.update(rel for rel, status in self.sources.items() if sources_[rel] != status)
        changed.update(rel for rel, status in outside.items() if self.outside.get(rel) != status)
        self.changed = changed
        return counts if not changed else None

    def _folders_differ(self, folders: dict[str, Status]) -> bool:
        """Whether a recorded folder of the output changed: the searching child's first
        answer when it runs (it stats them while this process walks the sources: 40,000
        folders took 120 ms here), else a stat of each here."""
        if self._scan is not None and self._verdict is None and folders is self._recorded_folders:
            try:
                self._verdict = os.read(self._scan[1], 1)
            except OSError:
                self._verdict = b""
            if self._verdict in (b"0", b"1"):
                return self._verdict == b"1"
        return _any_differ(self.config.out_dir, folders.items())

    @functools.cached_property
    def _files(self) -> tuple[list[str], array] | None:
        """The output files of the last recorded build, sorted, and their statuses (see
        _file_statuses), decoded when first asked for: the no-change check needs only their
        folders. A list of names and an array decode in a sixth of the time a dict of
        statuses took (9 against 52 ms at 40,000 posts, 120,000 files), and the edit
        shortcut updates a few statuses in place. None when there are none to trust."""
        if self._files_blob is None:
            return None
        try:
            names, statuses = marshal.loads(self._files_blob[0]), array("q", self._files_blob[1])
        except (ValueError, EOFError, TypeError):
            return None
        if type(names) is not list or len(statuses) != 3 * len(names) or not all(type(name) is str for name in names):
            return None
        return names, statuses

    @functools.cached_property
    def damaged(self) -> set[str] | None:
        """Output files of the last recorded build that changed or vanished since, or
        None when no build was recorded."""
        if self._files_blob is None:
            return None
        found = self._scanned()
        if found is None and self._files is not None:
            found = set(_damaged_files(self.config.out_dir, self._files, self._recorded_folders or ()))
        return found

    def scan_for_damage(self) -> None:
        """Start the search for `damaged` files in a child process: a stat per output file
        (0.4 s at 40,000 posts) made on another core while this one walks the sources,
        imports the build and loads its cache. Without fork (or a pipe, or a process to be
        had), `damaged` searches when asked."""
        if self._files_blob is None or self._scan is not None or not hasattr(os, "fork"):
            return
        try:
            read, write = os.pipe()
        except OSError:
            return
        # Ctrl-C is held until the child ignores it: the parent is the one that cleans up.
        held = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        try:
            pid = os.fork()
        except OSError:
            signal.pthread_sigmask(signal.SIG_SETMASK, held)
            os.close(read)
            os.close(write)
            return
        if pid == 0:
            self._answer(read, write)  # does not return
        try:
            self._scan = (pid, read)  # before a Ctrl-C held meanwhile is raised: close() reaps
            os.close(write)
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, held)

    def _answer(self, read: int, write: int) -> None:
        """The child of scan_for_damage: answer through the pipe, holding nothing else of
        the parent's (its end of the pipe, its lock on the cache), and leave without
        cleaning up."""
        code = 1
        try:
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
            os.close(read)
            _close_inherited(keep=write)
            # First whether a folder of the output changed (one byte: the no-change check
            # waits for it), then the files that did.
            folders = self._recorded_folders
            moved = list(_differing(self.config.out_dir, folders.items())) if folders is not None else []
            os.write(write, b"?" if folders is None else b"1" if moved else b"0")
            if self._files is None:
                return  # an unreadable list: the parent finds it so too
            data = marshal.dumps(_damaged_files(self.config.out_dir, self._files, moved))
            with os.fdopen(write, "wb") as pipe:
                pipe.write(data)
            code = 0
        finally:
            os._exit(code)

    def close(self, *, cancel: bool = False) -> None:
        """Reap the child of a scan nobody asked for (a build that reused no path), having
        stopped it first with `cancel` (nothing changed: no build to use its answer)."""
        if self._scan is not None:
            if cancel:
                with contextlib.suppress(OSError):
                    os.kill(self._scan[0], signal.SIGKILL)
            self._scanned()

    def _scanned(self) -> set[str] | None:
        """The child's answer (see scan_for_damage), or None when there is none to trust."""
        if self._scan is None:
            return None
        pid, read = self._scan
        try:
            with os.fdopen(read, "rb") as pipe:
                if self._verdict is None:
                    self._verdict = pipe.read(1)
                data = pipe.read()
        finally:
            self._scan = None
            try:
                _, status = os.waitpid(pid, 0)
            except ChildProcessError:  # reaped already (SIGCHLD ignored): no status to trust
                status = -1
        if status != 0:
            return None
        try:
            found = marshal.loads(data)
        except (ValueError, EOFError, TypeError):
            return None
        return set(found) if type(found) is list else None

    def record(self, written: list[str], counts: dict[str, int], read: Iterable[str] = (),
               status_before: Callable[[str], Status | None] = lambda rel: None) -> None:
        """After a successful build: remember it against the sources as the walk before it
        saw them, so a source changed while it ran differs from the record next time, and
        the files it read (`read`, site-relative) that the walk does not reach (see _outside)."""
        written = sorted(written)
        folders, statuses = outputs(self.config.out_dir, folders_of(written)), _file_statuses(self.config.out_dir, written)
        if statuses is None:
            self.forget()
            return
        files = (marshal.dumps(written), statuses.tobytes())
        self._write((FORMAT, self.key, self.sources, self.racy, _cache_status(self.config.root), folders, files, counts, self._outside(read, status_before)))

    def _write(self, record: tuple) -> None:
        tmp = self.file.with_name(f".{FILE}.{os.getpid()}")
        try:
            self.file.parent.mkdir(exist_ok=True)
            tmp.write_bytes(marshal.dumps(record))
            os.replace(tmp, self.file)
        except OSError:
            pass  # a read-only site folder: every build runs, which is only slower

    def record_patch(self, rewritten: list[str], read: Iterable[str] = ()) -> None:
        """After a build that rewrote only some files of the recorded output (patch.py):
        the last record with those files, their folders and the sources brought up to date
        (as the walk before the build saw them: no second walk of the site), and the files
        its paths read (`read`) that the walk does not reach."""
        assert self.recorded_counts is not None, "the shortcut runs after a check that matched a record"
        recorded, rewritten = self._files, sorted(rewritten)
        statuses = _file_statuses(self.config.out_dir, rewritten)
        folders = {**self._folders, **outputs(self.config.out_dir, folders_of(rewritten))}
        if recorded is None or self._files_blob is None or statuses is None or len(folders) != len(self._folders):
            self.forget()  # record it with a full build
            return
        names, table = recorded
        for i, rel in enumerate(rewritten):
            at = bisect.bisect_left(names, rel)
            if at == len(names) or names[at] != rel:
                self.forget()  # a file the last build did not write
                return
            table[3 * at : 3 * at + 3] = statuses[3 * i : 3 * i + 3]
        files = (self._files_blob[0], table.tobytes())  # the names as they were
        self._write((FORMAT, self.key, self.sources, self.racy, _cache_status(self.config.root), folders, files, self.recorded_counts,
                     self._outside({*self.outside, *read})))

    def forget(self) -> None:
        """The last build cannot vouch for the output (it failed, or fetched a URL)."""
        try:
            self.file.unlink()
        except OSError:
            pass  # none, no .ssg-cache folder to hold one, or a read-only one (every build runs)


@contextlib.contextmanager
def one_build_at_a_time(root: Path) -> Iterator[None]:
    """Hold `.ssg-cache/lock` while a build of the site reads and writes its records: a
    second `ssg build` of the same site waits for the first (their records would mix).
    Without a lock to be had (no .ssg-cache/ yet, a read-only site folder, no fcntl, a
    file system without locks), the build runs anyway."""
    try:
        import fcntl
    except ImportError:  # not POSIX
        yield
        return
    lock = root / ".ssg-cache" / "lock"
    try:
        fd = _open_lock(lock)
    except OSError:
        # No records yet, nothing to mix (a build refused for its options writes
        # nothing); or a read-only site folder.
        yield
        return
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            print(f"waiting for another ssg build of {root} to finish (it holds {lock})", file=sys.stderr, flush=True)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
            except OSError:
                pass  # a file system without locks after all: run
        except OSError:
            pass  # a file system without locks (some network mounts): run
        yield
    finally:
        os.close(fd)  # releases the lock


def _open_lock(lock: Path) -> int:
    """The lock file, opened. Anything else at its name (a folder, a dangling symlink)
    would leave every build unlocked: it is removed, with a warning."""
    flags = os.O_RDWR | os.O_CREAT | os.O_CLOEXEC
    try:
        return os.open(lock, flags, 0o666)
    except (IsADirectoryError, FileNotFoundError):
        if not os.path.lexists(lock):
            raise  # no .ssg-cache/ yet
    remove(lock)
    print(f"warning: {lock} was no lock file; removed it", file=sys.stderr, flush=True)
    return os.open(lock, flags, 0o666)


def remove(path: Path) -> None:
    """Delete a file of the cache, or whatever stands at its name: .ssg-cache/ is ssg's
    own, so a folder there is removed too (a build that ends in a traceback for it helps
    no one), and a symlink, never what it points to."""
    if path.is_dir() and not path.is_symlink():
        import shutil

        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


def _digest(root: Path, rel: str) -> str:
    """A file's contents, hashed (for a source changed just now)."""
    try:
        data = Path(root, rel).read_bytes()
    except OSError:
        return ""
    import hashlib  # only for a source changed just now: the no-change check's path stays short

    return hashlib.blake2b(data, digest_size=16).hexdigest()


def _package_status() -> list[tuple[str, int, int]]:
    """ssg's own source files: an edited ssg (an editable install) builds differently."""
    package = os.path.dirname(os.path.abspath(__file__))
    found = []
    for dirpath, dirnames, filenames in os.walk(package):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP)
        for name in sorted(filenames):
            if name.endswith((".py", ".js", ".html")):
                st = os.stat(os.path.join(dirpath, name))
                found.append((os.path.join(dirpath, name), st.st_mtime_ns, st.st_size))
    return found
