"""Watching a site for `ssg serve`: watchdog events, editor noise dropped, bursts debounced.

An editor's save is rarely one event: vim writes a `4913` probe and a `.swp`, renames
the old file to `name~`; many editors write a temp file and rename it over the original;
emacs leaves `#name#` and `.#name`; a git checkout touches hundreds of files at once.
`is_noise()` drops the junk, and `Debouncer` turns each burst into one batch of
`Change`s: one refresh per save, a couple at most for a checkout.

Only what a site is made of is watched, never the whole folder (a virtualenv or build/
inside it would cost thousands of watches): routes/, content/, static/, templates/,
params/ recursively, the site folder itself (config, top-level modules), each folder
of site modules that loads imported (`watch_tree()`, e.g. lib/), and each top folder of
what a page read elsewhere (an include from the site root, partials/).
"""

from __future__ import annotations

import asyncio
import re
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer

from .uptodate import left_aside

TREES = ("content", "params", "routes", "static", "templates")
NOISE_SUFFIXES = (
    "~", ".swp", ".swo", ".swx", ".swpx", ".tmp", ".temp", ".bak", ".orig", ".rej", ".pyc", ".pyo",
    ".crswap", ".kate-swp", "___jb_tmp___", "___jb_old___",
)
_SED_TEMP = re.compile(r"sed[A-Za-z0-9]{6}")


@dataclass(frozen=True, order=True)
class Change:
    path: str  # relative to the site root, with "/"
    kind: str  # "created", "modified" or "deleted" (a move is a delete and a create)
    is_dir: bool = False


def is_noise(rel: str, *, is_dir: bool = False) -> bool:
    """Given a site-relative path, return whether it is editor or tool litter, not a source.

    >>> [is_noise(p) for p in ("routes/.+page.html.swp", "routes/4913", "content/#a.md#", "content/a.md")]
    [True, True, True, False]
    """
    parts = rel.split("/")
    if any(map(left_aside, parts)):
        return True  # dotfiles: .git/, vim's .x.swp, emacs's .#x, gedit's .goutputstream-*
    name = parts[-1]
    if is_dir:
        return False
    if name.isdigit():
        return True  # vim's "4913" write probe
    if name.startswith("#") and name.endswith("#"):
        return True  # emacs auto-save
    return name.endswith(NOISE_SUFFIXES) or bool(_SED_TEMP.fullmatch(name))


def merge(old: Change | None, new: Change) -> Change:
    """Given what a burst already said about a path and a newer event, return the sum.
    Created-then-modified is created; anything-then-deleted is deleted; deleted-then-created
    (an atomic save's rename) is created, so the file is read again."""
    if old is None or new.kind == "deleted":
        return new
    kind = "created" if "created" in (old.kind, new.kind) else new.kind
    return Change(new.path, kind, old.is_dir or new.is_dir)


class Debouncer:
    """Collects changes on the event loop; calls `flush(changes)` once they pause for `quiet`
    seconds, or after `longest` seconds of a burst that will not stop (a long checkout)."""

    def __init__(self, loop: asyncio.AbstractEventLoop, flush: Callable[[list[Change]], None], *, quiet: float = 0.05, longest: float = 1.5) -> None:
        self.loop = loop
        self.flush = flush
        self.quiet = quiet
        self.longest = longest
        self._pending: dict[str, Change] = {}
        self._first = 0.0
        self._timer: asyncio.TimerHandle | None = None

    def add(self, change: Change) -> None:
        now = self.loop.time()
        if not self._pending:
            self._first = now
        self._pending[change.path] = merge(self._pending.get(change.path), change)
        if self._timer is not None:
            self._timer.cancel()
        delay = max(0.0, min(self.quiet, self._first + self.longest - now))
        self._timer = self.loop.call_later(delay, self._fire)

    def _fire(self) -> None:
        self._timer = None
        # Sorted: a batch is handled (and logged) in the same order whatever order events came in.
        changes = sorted(self._pending.values())
        self._pending.clear()
        if changes:
            self.flush(changes)

    def cancel(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._pending.clear()


class Watcher:
    """Given a site root and a callback on the event loop, watch the site until `stop()`."""

    def __init__(self, root: Path, loop: asyncio.AbstractEventLoop, on_changes: Callable[[list[Change]], None], *, quiet: float = 0.05) -> None:
        self.root = root.resolve()
        self.loop = loop
        self.debouncer = Debouncer(loop, on_changes, quiet=quiet)
        self.observer = Observer()
        self.observer.daemon = True
        self._handler = _Handler(self)
        self._trees: dict[str, object] = {}  # top-level folder -> its watchdog watch
        self._wanted: set[str] = set(TREES)  # watched again when it is deleted and comes back
        self._lock = threading.Lock()

    def start(self) -> None:
        self.observer.schedule(self._handler, str(self.root), recursive=False)
        for name in TREES:
            self.watch_tree(name)
        self.observer.start()

    def stop(self) -> None:
        self.debouncer.cancel()
        self.observer.stop()
        self.observer.join(timeout=5)

    def watch_tree(self, name: str) -> None:
        """Watch a top-level folder of the site recursively (once); a missing one is skipped."""
        with self._lock:
            self._wanted.add(name)
            path = self.root / name
            if name in self._trees or not path.is_dir():
                return
            try:
                self._trees[name] = self.observer.schedule(self._handler, str(path), recursive=True)
            except OSError as exc:  # removed meanwhile, or out of inotify watches
                print(f"warning: cannot watch {name}/: {exc}", file=sys.stderr, flush=True)

    def trees(self) -> list[str]:
        """The top-level folders watched recursively (and those to watch again when they return)."""
        with self._lock:
            return sorted(self._wanted)

    def _forget_tree(self, name: str) -> None:
        with self._lock:
            watch = self._trees.pop(name, None)
            if watch is not None:
                try:
                    self.observer.unschedule(watch)
                except (KeyError, OSError, ValueError):
                    pass

    # -- on watchdog's thread ---------------------------------------------------------------

    def _event(self, event: FileSystemEvent) -> None:
        if event.event_type in ("opened", "closed", "closed_no_write"):
            return
        if event.event_type == "modified" and event.is_directory:
            return  # a folder's own mtime: the events for the files inside say what changed
        if event.event_type == "moved":
            self._one(event.src_path, "deleted", event.is_directory)
            self._one(event.dest_path, "created", event.is_directory)
        else:
            self._one(event.src_path, event.event_type, event.is_directory)

    def _one(self, raw: str | bytes, kind: str, is_dir: bool) -> None:
        path = Path(raw.decode() if isinstance(raw, bytes) else raw)
        try:
            rel = path.relative_to(self.root).as_posix()
        except ValueError:
            return
        if rel in ("", ".") or is_noise(rel, is_dir=is_dir):
            return
        if kind == "created" and not is_dir and path.is_dir():
            is_dir = True  # a symlink to a folder: inotify tells of the link, as of a file
        if is_dir and "/" not in rel:  # a top-level folder appeared or went away
            if kind == "created" and rel in self._wanted:
                self.watch_tree(rel)
            elif kind == "deleted":
                self._forget_tree(rel)
        change = Change(rel, kind if kind in ("created", "deleted") else "modified", is_dir)
        self.loop.call_soon_threadsafe(self.debouncer.add, change)


class _Handler(FileSystemEventHandler):
    def __init__(self, watcher: Watcher) -> None:
        self.watcher = watcher

    def on_any_event(self, event: FileSystemEvent) -> None:
        try:
            self.watcher._event(event)
        except RuntimeError:
            pass  # the loop closed while the server stops
        except Exception as exc:  # never let one odd event kill the watcher thread
            print(f"warning: ignored a file event ({event!r}): {exc}", file=sys.stderr, flush=True)
