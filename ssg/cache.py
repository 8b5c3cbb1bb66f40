"""The build cache (`.ssg-cache/`): what every output read, so an unchanged page is reused.

For each path the last successful build wrote, the cache records the hash of every
source it read (route modules, templates, content files, content folders, static files
it fetched), the props it got from entries(), and what the crawl learned from it (links,
ids). A path whose sources all hash the same is *replayed*: its files are kept from the
previous output and its links feed the crawl, with no load or template run. The record
is one marshal file (`build.cache`), each source's hash stored once. Each path's deps are
kept as numbers beside the rest of its record, which stays marshalled until the build asks
for that path: an edit's shortcut reads a few of tens of thousands, and loading the file
takes milliseconds.

A source may be part of a file: a content file's front matter (`a.md#front-matter`) or
its summary (`a.md#summary`, whose hash only rendering tells: the page that read it passes
it on in `Done.digests`). The record also keeps what entries() read, so an edit that
cannot change the paths to build can be patched in by patch.py without a seed. Such a
patch is appended to `build.journal` as the few entries it changed (a "begin" entry
first, so a patch killed while it moved files in leaves no record to trust); loading
replays the journal onto build.cache, and every JOURNAL_PATCHES patches, or any full
build, writes build.cache whole again.

Anything that can change every page goes into one site-wide key instead: the ssg
version, the config, SOURCE_DATE_EPOCH, the route tree, every Python module of the site
outside routes/ (lib/, params/: loads import them), templates/ (includes may be named at
run time), and the Markdown engine. Pages that fetched an absolute URL are always
rendered again: the remote answer may have changed.

The folder is safe to delete; a corrupt or truncated cache file is ignored with a
warning, never trusted. `ssg build --fresh` ignores it.
"""

from __future__ import annotations

import bisect
import dataclasses
import functools
import itertools
import json
import marshal
import operator
import os
import shutil
import sys
import time
from array import array
from collections.abc import Callable, Iterable, Sequence, Set
from dataclasses import dataclass
from pathlib import Path
from stat import S_ISDIR
from typing import Any

from . import __version__
from .content.diskcache import append, digest, seal, unseal
from .content.store import is_markdown_file, known_hash, summary_hash
from .context import SUMMARY, dep_file, option_named, parts_of
from .render import Done
from .site import Site
from .uptodate import MISSING, RACY_NS, Status, changed_at, changed_since, left_aside, remove

FORMAT = 14  # 4: each source once, deps by number; 5: what the seed read; 6: summaries; 7: an id for the journal; 8: ids packed; 9: records read when asked; 10: deps packed; 11: stats as a table; 12: links to static files kept (the crawl skips them); 13: build.cache and each journal entry sealed with a CRC-32; 14: how many paths answered an error (kept by no record)
FILE = "build.cache"
MAGIC = b"ssg\x00"  # build.cache begins with it, then its record sealed (diskcache.seal)
JOURNAL = "build.journal"  # the edit shortcut's patches since build.cache was written whole
JOURNAL_PATCHES = 64  # patches the journal holds at most: the next one writes build.cache whole again
FEW = 16  # changed sources up to which a build is an edit (see Cache.few_changes)
INDEX_AFTER = 256  # lookups in the stat cache after which it is indexed by a dict (see Stats)


_digest = digest  # the content cache's: a content file hashed by either matches (known_hash)
SAVED_MEANWHILE = "saved while it was read"  # a hash no file has: whoever reads it next time, reads it again


class Stats:
    """The stat cache of the previous build's sources: dep -> [mtime_ns, size, hash, racy].
    build.cache keeps it as a table (the deps sorted, their hashes, and the numbers packed
    in one array), read an entry at a time: an edit's build looks up a few dozen of
    120,000 at 40,000 posts, where decoding them all took 91 ms. Entries set since go to
    a dict of their own; a whole build reads them all (items)."""

    def __init__(self, packed: Sequence[bytes] | None = None) -> None:
        self._set: dict[str, list] = {}
        self._names: list[str] = []
        self._hashes: list[str] = []
        self._numbers = array("q")  # mtime_ns, size, racy (0 or 1): three per name
        self._index: dict[str, int] | None = None  # name -> place, made once lookups are many
        self._lookups = 0
        if packed is not None:
            names, hashes, numbers = packed
            self._names, self._hashes = marshal.loads(names), marshal.loads(hashes)
            self._numbers.frombytes(numbers)
            if type(self._names) is not list or type(self._hashes) is not list or not all(type(name) is str for name in self._names):
                raise TypeError("stats are not lists of names and hashes")
            if not len(self._names) == len(self._hashes) == len(self._numbers) // 3 or len(self._numbers) % 3:
                raise ValueError("stats of different lengths")

    def get(self, dep: str, default: list | None = None) -> list | None:
        found = self._set.get(dep)
        if found is not None:
            return found
        at = self._place(dep)
        if at < 0 or type(self._hashes[at]) is not str:
            return default  # not there, or a damaged entry: the file is read again
        return self._row(at)

    def _row(self, at: int) -> list:
        mtime, size, racy = self._numbers[3 * at : 3 * at + 3]
        return [mtime, size, self._hashes[at], bool(racy)]

    def _place(self, dep: str) -> int:
        """Where a dep is in the table, or -1: a binary search for the few lookups of an
        edit's build, a dict once there are many (a whole build looks up every source)."""
        if self._index is None:
            self._lookups += 1
            if self._lookups <= INDEX_AFTER:
                names = self._names
                try:
                    at = bisect.bisect_left(names, dep)
                except TypeError:  # a damaged table (a name that is no string): a miss, read again
                    return -1
                return at if at < len(names) and names[at] == dep else -1
            self._index = {name: i for i, name in enumerate(self._names)}
        return self._index.get(dep, -1)

    def __getitem__(self, dep: str) -> list:
        found = self.get(dep)
        if found is None:
            raise KeyError(dep)
        return found

    def __setitem__(self, dep: str, stat: list) -> None:
        self._set[dep] = stat

    def __contains__(self, dep: str) -> bool:
        return self.get(dep) is not None

    def update(self, stats: dict[str, list]) -> None:
        self._set.update(stats)

    def items(self) -> Iterable[tuple[str, list]]:
        hashes = self._hashes
        table = {name: self._row(i) for i, name in enumerate(self._names) if type(hashes[i]) is str}
        table.update(self._set)
        return table.items()


_INT64 = range(-(1 << 63), 1 << 63)


def _well_formed(stat: Any) -> bool:
    """Whether a stat entry is [mtime_ns, size, hash, racy] that the table can hold."""
    return (
        type(stat) is list and len(stat) == 4 and type(stat[0]) is int and type(stat[1]) is int
        and stat[0] in _INT64 and stat[1] in _INT64 and type(stat[2]) is str
    )


def _packed_stats(stats: Stats | dict[str, list]) -> tuple[bytes, bytes, bytes]:
    """Stats as build.cache keeps them (see Stats). An entry the table cannot hold (a time
    stamp past the year 2262) is left out: its file is read again next time. In this
    machine's byte order: read on another, every entry would only miss (each file hashed
    again), where dep numbers must not be misread (see _packed)."""
    items = sorted((dep, stat) for dep, stat in stats.items() if _well_formed(stat))
    numbers = array("q")
    for _, (mtime, size, _, racy) in items:
        numbers.extend((mtime, size, 1 if racy else 0))
    return marshal.dumps([name for name, _ in items]), marshal.dumps([stat[2] for _, stat in items]), numbers.tobytes()


class Hasher:
    """Hashes sources by name, each once per build; files by content, with a stat cache
    carried across builds so unchanged files are not read again."""

    def __init__(self, root: Path, stats: Stats, option_digest: Callable[[str, str], str] | None = None) -> None:
        self.root = root
        # A route module's option (see context.option_of), as this process imports the module.
        self.option_digest = option_digest
        self.prefix = os.path.join(root, "")
        self.stats = stats  # rel -> [mtime_ns, size, hash, racy], from the previous build
        self.memo: dict[str, str | None] = {}
        self.changed = False  # a stat entry was added or refreshed
        self.updated: set[str] = set()  # which ones
        self.listings: dict[str, list[str]] = {}  # folder dep -> the files its hash lists
        self.learned: dict[str, tuple[int, int, str]] = {}  # dep -> (mtime_ns, size, hash) of the version renders read (see learn)
        self.torn: set[str] = set()  # deps read in two versions by this build: no hash

    def __call__(self, dep: str) -> str | None:
        """The current hash of a dependency, or None when it cannot be known (a remote URL)."""
        if dep not in self.memo:
            self.memo[dep] = self._hash(dep)
        return self.memo[dep]

    def stale(self, dep: str) -> bool:
        """Whether a dep's file changed since its hash was recorded (a stat, no reading)."""
        if dep in self.memo:
            return False
        known = self.stats.get(dep)
        try:
            st = os.stat(self.prefix + dep_file(dep))
        except OSError:
            return True
        return not known or known[0] != changed_at(st) or known[1] != st.st_size or bool(known[3])

    def learn_from(self, done: Done) -> None:
        """Take the hashes a render computed (Done.digests), from the file versions it read."""
        self.learn(done.digests)

    def learn(self, digests: dict[str, tuple[int, int, str]]) -> None:
        now = time.time_ns()
        for dep, read in digests.items():
            before = self.learned.get(dep)
            if before == read:
                continue  # a template every page shows: heard of once per version
            self.learned[dep] = read
            mtime_ns, size, digest = read
            if before is not None and before[2] != digest:
                self.torn.add(dep)  # pages read two versions in this build: which showed which is not kept
            self.memo[dep] = None if dep in self.torn else digest
            stat = [mtime_ns, size, digest, mtime_ns >= now - RACY_NS]
            if self.stats.get(dep) != stat:
                self.stats[dep] = stat
                self.changed = True
                self.updated.add(dep)

    def _hash(self, dep: str) -> str | None:
        if "://" in dep:
            return None
        if dep.startswith("ssg:"):
            return __version__
        if dep.endswith("/"):
            path = self.root / dep
            if not path.is_dir():
                return "missing"
            # A folder's listing: which files it holds (their contents are deps of their own).
            names = [name for name in _files_below(str(path)) if is_listed(dep, name)]
            self.listings[dep] = names
            return _digest("\n".join(names).encode())
        file = dep_file(dep)  # a content file's front matter is hashed on its own
        try:
            st = os.stat(self.prefix + file)
        except OSError:
            return "missing"
        if (option := option_named(dep)) is not None:
            # A page option's value may come from anything its module imports (lib/...):
            # asked of the module as imported now, never kept by the file's time stamp.
            return self.option_digest(file, option) if self.option_digest is not None else None
        known = self.stats.get(dep)
        stamp = changed_at(st)
        if known and known[0] == stamp and known[1] == st.st_size and not known[3]:
            return known[2]
        if dep.endswith(SUMMARY):
            digest = summary_hash(file)  # rendered (or from the content cache) by this process
        else:
            # A content file this build parsed: hashed then (the same digest), not read again.
            digest = known_hash(self.root, file, (stamp, st.st_size), front=file != dep) if file.startswith("content/") else None
        if digest is None:
            try:
                with open(self.prefix + file, "rb") as f:
                    raw = f.read()
                    after = os.fstat(f.fileno())
            except OSError:
                return "missing"
            if changed_at(after) != stamp or after.st_size != st.st_size:
                return SAVED_MEANWHILE  # saved between the stat and the read: neither is the other's
            digest = _digest(raw) if file == dep else _front_matter_digest(raw, file)
        # Written just now: a second write within the same clock tick would keep this
        # mtime and size, so the file is read again next time until it is older.
        racy = stamp >= time.time_ns() - RACY_NS
        self.stats[dep] = [stamp, st.st_size, digest, racy]
        self.changed = True
        self.updated.add(dep)
        return digest


def _files_below(top: str, suffix: str = "") -> list[str]:
    """Every file below a folder (symlinked folders followed, once) whose name ends with
    `suffix`, as sorted relative names. A scandir walk: the kind of a plain file comes
    with its name, where a stat each (os.walk, then isfile) took 23 ms for 4,000 posts."""
    names: list[str] = []
    seen: set[tuple[int, int]] = set()
    todo = [(top, "")]  # a stack, not recursion: a tree of any depth (os.walk's order)
    while todo:
        folder, prefix = todo.pop()
        try:
            st = os.stat(folder)
            if (st.st_dev, st.st_ino) in seen:
                continue
            seen.add((st.st_dev, st.st_ino))
            with os.scandir(folder) as it:
                entries = list(it)
        except OSError:
            continue  # unreadable, or gone: as os.walk skips it
        below = []
        for entry in entries:
            try:
                if entry.is_dir():  # symlinks followed, as for files
                    below.append((entry.path, prefix + entry.name + "/"))
                elif entry.name.endswith(suffix) and entry.is_file():
                    names.append(prefix + entry.name)
            except OSError:
                continue  # a dangling symlink, or a loop: nothing a build can read
        todo.extend(reversed(below))
    return sorted(names)


def _front_matter_digest(raw: bytes, rel: str) -> str:
    """Of a content file's front matter block (the whole file when it cannot be read)."""
    from .content import frontmatter
    from .content.errors import ContentError
    from .content.files import front_matter_digest

    try:
        return front_matter_digest(frontmatter.decode(raw, rel), rel)
    except ContentError:
        return _digest(raw)


def site_key(site: Site, engine: str) -> dict[str, str]:
    """The parts of the site-wide key, by name (so --explain can say which one changed)."""
    config = dataclasses.asdict(site.config)
    config.pop("file", None)
    config.pop("out", None)  # as written (relative or not); the folder itself is compared on its own
    parts = {
        "ssg": f"{__version__}/{FORMAT}",
        "config": _digest(json.dumps(config, sort_keys=True, default=str).encode()),
        "SOURCE_DATE_EPOCH": os.environ.get("SOURCE_DATE_EPOCH", ""),
        "routes": _digest("\n".join(
            f"{r.id} {r.template} {r.module} {r.server} {[(l.dir, l.template, l.module) for l in r.layouts]} {r.error_pages}" for r in site.manifest.routes
        ).encode()),
        "markdown": engine,
    }
    # templates/ (an include may be named at run time), params/ (matchers) and collection
    # schemas can affect any page. Sorted so the key is the same on every machine.
    files = sorted(
        f"{folder}/{name}"
        for folder, suffix in (("templates", ""), ("params", ".py"), ("content", "_collection.yaml"))
        for name in _files_below(os.path.join(site.root, folder), suffix)
        if "__pycache__" not in name.split("/") and (folder != "content" or name.rpartition("/")[2] == suffix)
    )
    blob = b"".join(f.encode() + b"\0" + (site.root / f).read_bytes() + b"\0" for f in files)
    parts["templates, params and schemas"] = _digest(blob)
    return parts


def site_modules(root: Path, imported: Iterable[str] = (), *, this_process: bool = True) -> list[str]:
    """The site's own code, which loads may use any of: the Python modules this process
    imported (unless not `this_process`), or whose files are `imported` (lib/posts.py, a
    helper routes/_shared.py; not the route modules, +page.py and the like, which are
    recorded per page), and every other file below the top folder of a module outside
    routes/ (lib/authors.json, which lib/authors.py may read when imported)."""
    found = set()
    tops: set[str] = set()
    folders: dict[str, str] = {}  # a few dozen folders hold every module: each resolved once
    files = [getattr(module, "__file__", None) for module in list(sys.modules.values())] if this_process else []
    for file in {*files, *imported}:
        if not file:
            continue
        folder, name = os.path.split(file)
        if os.path.islink(file):
            path = Path(os.path.realpath(file))
        else:
            if folder not in folders:
                folders[folder] = os.path.realpath(folder)
            path = Path(folders[folder], name)
        if not path.is_relative_to(root) or ".venv" in path.parts:
            continue
        rel = path.relative_to(root).as_posix()
        top, _, rest = rel.partition("/")
        if top == "routes":
            if not path.name.startswith("+"):
                found.add(rel)
        else:
            found.add(rel)
            if rest:
                tops.add(top)
    for top in tops:
        found.add(f"{top}/")  # its listing: a file added there may be read too
        found.update(f"{top}/{name}" for name in _files_below(os.path.join(root, top)) if is_code_file(name))
    return sorted(found)


def is_code_file(name: str) -> bool:
    """Whether a file below a folder of the site's code counts: not what Python writes
    (__pycache__), node_modules, hidden files or an editor's (.m.py.swp, m.py~)."""
    return not any(map(left_aside, name.split("/"))) and not name.endswith("~")


def is_listed(folder: str, name: str) -> bool:
    """Whether a file below a folder dep (`name`, relative to it) is in that folder's
    listing: for a collection's folder the Markdown it lists, for a folder of code its code."""
    return is_markdown_file(name) if folder.startswith("content/") else is_code_file(name)


def props_hash(props: Any) -> str | None:
    """A stable hash of entries() props, or None when they have no stable form (then the
    page is always rendered again)."""
    if props is None:
        return ""
    try:
        from .serialize import dumps

        return _digest(dumps(props, root="props").encode())
    except Exception:
        text = repr(props)
        return None if " at 0x" in text else _digest(text.encode())


@dataclass
class Entry:
    """One path of the previous build: its Done, the sources it read and its props' hash."""

    done: Done
    deps: list[str]
    props: str | None


class Cache:
    """Reads the previous build's record and decides, per path, whether it can be reused."""

    def __init__(
        self, site: Site, *, engine: str, enabled: bool = True, before: dict[str, Status] | None = None, started: int = 0,
        reaches: Callable[[str], bool] | None = None,
    ) -> None:
        self.site = site
        # The status of every source before the build (uptodate.Check's walk, made at
        # `started`, in ns), to tell a source changed while the build ran; None when unknown.
        self.before = before
        self.reaches = reaches  # whether that walk lists a file (uptodate.Check.reaches): else no status before is known
        self.started = started
        self._before_sorted: list[str] | None = None
        self._folders_changed: dict[str, bool] = {}  # see _folder_changed
        self.dir = site.root / ".ssg-cache"
        self.key = site_key(site, engine)
        # The previous build's paths: their deps (numbers in _sources), and the rest of their
        # record as marshal wrote it, read only for a path the build asks about (an edit's
        # shortcut asks about a few of tens of thousands).
        self._deps: dict[str, bytes] = {}  # packed (see _packed)
        self._records: dict[str, bytes] = {}
        self._last: tuple[str, tuple[tuple, str | None]] | None = None  # the record read last
        self._unreadable: set[str] = set()  # paths whose record could not be read
        self._sources: list[str] = []
        self._raw: dict[str, Any] = {}
        self._patches = 0  # in the journal, replayed onto build.cache
        self.seed_deps: dict[str, str | None] = {}  # what entries() read in the previous build -> its hash then
        self.previous_key: dict[str, str] = {}
        self.previous_out = ""
        # Paths of the previous build that answered an error (a link the crawl was told to
        # ignore or warn about): no record says what they read, so only a full build can
        # tell whether an edit makes them answer (see patch.py).
        self.previous_unrecorded = 0
        self.previous_modules: dict[str, str | None] = {}
        self.previous_hashes: dict[str, str | None] = {}  # every source any path read -> its hash then
        self.warning: str | None = None
        self.unsure = False  # a source may have come and gone while the build ran (see _came_and_went)
        # A file (or a link to nothing: a CI cache path not restored) where the folder goes.
        self.homeless = os.path.lexists(self.dir) and not self.dir.is_dir()
        if self.homeless:
            self.warning = (f"{self.dir} is not a folder, so the build cache cannot be kept: every page is "
                            "rendered, in this build and the next; remove it, or make it a folder")
        stats = Stats()
        self.enabled = enabled and not self.homeless
        if self.enabled:
            stats = self._load()
        self.hash = Hasher(site.root, stats, self._option_digest)
        # This build's record, as build.cache keeps it (a site of 40,000 posts keeps 80,000
        # of them): path -> (its deps as numbers in `_names`, the rest of its record
        # marshalled). And the URL of each page, for sitemap.xml.
        self.entries: dict[str, tuple[array, bytes]] = {}
        self._names: dict[str, int] = {}
        self._pages: dict[str, str] = {}
        self._blocked: str | None = None  # a site-wide reason to render everything, once known
        self._changed: dict[str, str] | None = None  # source -> why it no longer matches, once known
        self._forgotten = False
        self._kept = False  # a path was replayed (keep)

    def _load(self) -> Stats:
        file = self.dir / FILE
        if not file.is_file():
            if file.exists():
                self.warning = f"{file}: the build cache is not a file; ignoring it and rendering every page"
            return Stats()
        try:
            blob = file.read_bytes()
            if not blob.startswith(MAGIC):
                if type(old := marshal.loads(blob)) is dict and old.get("format") != FORMAT:
                    return Stats()  # an earlier ssg's record: not damage, just another format
                raise ValueError("no seal")
            raw = _record(blob)
            if raw.get("format") != FORMAT:
                return Stats()
            raw["stats"] = Stats(raw["stats"])  # the journal's patches go on top of it
            self._patches = _replay(raw, self.dir / JOURNAL)
            if self._patches is None:
                return Stats()  # a patch was cut short: the output may be ahead of the record
            self.previous_key = dict(raw["key"])
            self.previous_out = str(raw["out"])
            self.previous_unrecorded = raw["unrecorded"]
            if type(self.previous_unrecorded) is not int:
                raise TypeError("unrecorded is not a count")
            self.previous_modules = dict(raw["modules"])
            self._sources = raw["sources"]  # save_patch() appends the sources new to the record
            if type(self._sources) is not list:
                raise TypeError("sources is not a list")
            self.previous_hashes = dict(zip(self._sources, raw["hashes"], strict=True))
            self.seed_deps = dict(raw["seed"])
            self._deps, self._records = dict(raw["deps"]), dict(raw["paths"])
            if self._deps.keys() != self._records.keys() or type(raw["pages"]) is not list:
                raise KeyError("paths")
            # Every path's deps a whole number of numbers (so a number found in them all
            # at once is one of a path's: previous_readers). That each names a source is
            # checked when the path's record is read.
            if any(type(packed) is not bytes or len(packed) % 4 for packed in self._deps.values()):
                raise TypeError("deps are not packed numbers")
            self._raw = raw
            return raw["stats"]
        except (ValueError, EOFError, KeyError, TypeError, AttributeError, IndexError) as exc:
            self.warning = f"{file}: the build cache is unreadable ({type(exc).__name__}); ignoring it and rendering every page"
            self._deps, self._records, self._raw, self.previous_key, self.previous_hashes, self.seed_deps = {}, {}, {}, {}, {}, {}
            self._sources = []
            return Stats()

    def previous(self, k: str) -> Entry | None:
        """The previous build's record of a path, or None."""
        recorded = self.previous_record(k)
        if recorded is None:
            return None
        fields, props = recorded
        return _entry(fields, self._sources, props)

    def previous_record(self, k: str) -> tuple[tuple, str | None] | None:
        """A path of the previous build as recorded: (its Done's fields with deps as numbers,
        props hash); None for a path it did not build, or whose record cannot be read (with
        a warning: the path is rendered again)."""
        if self._last is not None and self._last[0] == k:
            return self._last[1]
        data = self._records.get(k)
        if data is None:
            return None
        try:
            fields, props = marshal.loads(data)
            if type(fields) is not tuple or len(fields) != len(FIELDS) or not isinstance(props, (str, type(None))):
                raise TypeError("not a record")
            deps = _numbers(self._deps[k])
            if deps and max(deps) >= len(self._sources):
                raise IndexError("a dep number outside the list of sources")
        except (ValueError, EOFError, TypeError, IndexError) as exc:
            self.warning = f"{self.dir / FILE}: the record of {k} is unreadable ({type(exc).__name__}); rendering it again"
            del self._records[k], self._deps[k]
            self._unreadable.add(k)
            return None
        recorded = (_with(fields, deps=list(deps)), props)
        self._last = (k, recorded)
        return recorded

    @property
    def previous_deps(self) -> dict[str, bytes]:
        """Every path of the previous build -> its deps, packed (the numbers of its sources, see previous_numbers)."""
        return self._deps

    def previous_readers(self, numbers: Set[int]) -> list[tuple[str, int]]:
        """The previous build's paths that read one of these sources (numbers in
        `previous_numbers`), each with the first of them it read."""
        # Searched for as bytes in all the deps at once (a loop over tens of thousands of
        # paths in Python took a tenth of an edit's build at 40,000 posts). A match at an
        # offset that is not a multiple of 4 straddles two numbers: not one of them.
        keys, packed = list(self._deps), list(self._deps.values())
        everything = b"".join(packed)
        ends = list(itertools.accumulate(map(len, packed)))
        hits: set[int] = set()
        for number in numbers:
            pattern = _packed([number])
            at = everything.find(pattern)
            while at >= 0:
                if at % 4 == 0:
                    hits.add(bisect.bisect_right(ends, at))
                at = everything.find(pattern, at + 1)
        found = []
        for i in sorted(hits):
            deps = _numbers(packed[i])
            found.append((keys[i], next(n for n in deps if n in numbers)))
        return found

    @property
    def previous_pages(self) -> list[str]:
        """The URLs of the previous build's pages (for sitemap.xml), in the order of its paths."""
        return self._raw.get("pages", [])

    @functools.cached_property
    def _numbered(self) -> dict[str, int]:
        """Each source of the previous build -> its number (made once: the edit shortcut and its save ask)."""
        return {dep: i for i, dep in enumerate(self._sources)}

    def previous_numbers(self, deps: Iterable[str]) -> dict[int, str]:
        """Those of these sources the previous build recorded, by their number."""
        return {self._numbered[dep]: dep for dep in deps if dep in self._numbered}

    @property
    def blocked(self) -> str:
        """Why no path can be reused (a change that may touch every page), or ""."""
        if self._blocked is None:
            self._blocked = self._site_wide_change()
        return self._blocked

    def reusable(self, k: str, props: Any) -> tuple[Entry | None, str]:
        """Given a path's key and props, return (its previous entry, "") when nothing it read
        changed, else (None, why it must be rendered)."""
        if self.blocked:
            return None, self.blocked
        entry = self.previous(k)
        if entry is None:
            return None, "its record in the build cache is unreadable" if k in self._unreadable else "new path"
        if entry.props != props_hash(props) or entry.props is None:
            return None, "its entries() props changed"
        changed = self._changed_sources()
        if not changed.keys().isdisjoint(entry.deps):
            return None, next(changed[dep] for dep in entry.deps if dep in changed)
        return entry, ""

    def few_changes(self) -> bool:
        """Whether paths can be reused and at most a few sources changed (an edit, not a
        checkout of another branch): then nearly every path is replayed."""
        return not self.blocked and len(self._changed_sources()) <= FEW

    def _changed_sources(self) -> dict[str, str]:
        """Every source of the previous build whose hash changed (each hashed once), with why."""
        if self._changed is None:
            self._changed = self._compare(self.previous_hashes)
        return self._changed

    def changed_in(self, files: set[str]) -> tuple[dict[str, str], set[str]]:
        """Given the files whose status changed since the last build (uptodate.Check), return
        (every dep of theirs whose hash changed, with why; the files no path read). The
        other sources are not looked at: their status is what the last build recorded."""
        # A file's deps are the file itself and its parts: looked up, not searched for.
        named = (dep for rel in files for dep in (rel, *parts_of(rel)))
        deps = {dep: self.previous_hashes[dep] for dep in named if dep in self.previous_hashes}
        self._changed = self._compare(deps)
        unread = files - {dep_file(dep) for dep in deps}
        return self._changed, unread

    def _compare(self, hashes: dict[str, str | None]) -> dict[str, str]:
        changed = {}
        summaries = []
        for dep, digest in hashes.items():
            if dep.endswith(SUMMARY):
                summaries.append((dep, digest))
                continue
            now = self.hash(dep)
            if now is None or now != digest:
                changed[dep] = f"it fetched {dep}" if now is None else f"{_name(dep)} changed"
        # A summary is known only by rendering its body: worth it for an edit's few files
        # (a listing that shows only the first paragraph need not render again), not for a
        # checkout of another branch, whose bodies the workers render anyway. One recorded
        # as unknown (its file changed while the last build ran) changed, whatever its
        # file's stat: the stat cache holds the version some page read, not every page.
        stale = [(dep, digest) for dep, digest in summaries
                 if digest is None or (self.hash.stale(dep) and not self._same_file(dep_file(dep)))]
        for dep, digest in stale:
            if len(stale) > FEW or self.hash(dep) != digest:
                changed[dep] = f"{_name(dep)} changed"
        return changed

    def _same_file(self, rel: str) -> bool:
        """Whether a file's contents are as the previous build recorded them: then so is
        its summary, whose own record may be stale by its time stamp alone (saved within a
        tick of the clock before the build that rendered it: a checkout, a generated site)."""
        recorded = self.previous_hashes.get(rel)
        return recorded is not None and self.hash(rel) == recorded

    def seed_changed(self, files: set[str]) -> str | None:
        """Given changed files, say which source entries() read in the last build now
        differs (the paths to build may differ), or None."""
        for dep in (dep for rel in sorted(files) for dep in (rel, *parts_of(rel))):
            if dep in self.seed_deps and self.hash(dep) != self.seed_deps[dep]:
                return dep
        return None

    def _site_wide_change(self) -> str:
        if self.homeless:
            return ".ssg-cache is not a folder"
        if not self.enabled:
            return "--fresh"
        if self.previous_key != self.key:
            changed = sorted(n for n in self.key if self.previous_key.get(n) != self.key[n])
            return "no previous build" if not self.previous_key else f"{', '.join(changed)} changed"
        if self.previous_out != str(self.site.config.out_dir):
            return "the output folder changed"
        for module, digest in self.previous_modules.items():
            if self.hash(module) != digest:
                return f"site module {module} changed"
        return ""

    def forget(self) -> None:
        """Delete the previous build's record (the output is about to change in place)."""
        if not self.homeless:
            remove(self.dir / FILE)
        self._forgotten = True

    def begin_patch(self) -> None:
        """Before the edit shortcut moves its files in: until save_patch() has recorded
        them, the record does not vouch for the output (a build killed in between finds
        no previous build)."""
        if not self._journal(("begin",)):
            self.forget()

    def record(self, k: str, done: Done, props: Any) -> None:
        """Keep a path this build rendered."""
        self.hash.learn_from(done)
        self.entries[k] = (array("I", [self._number(dep) for dep in done.deps]), _marshalled(done, props_hash(props)))
        if done.kind == "page":
            self._pages[k] = done.url

    def keep(self, k: str) -> None:
        """Keep a path replayed from the previous build, as it was recorded."""
        recorded = self.previous_record(k)
        assert recorded is not None, "a path is kept only after reusable() read its record"
        self._kept = True
        fields = recorded[0]
        self.entries[k] = (array("I", [self._number(self._sources[i]) for i in fields[_DEPS]]), self._records[k])
        if fields[_KIND] == "page":
            self._pages[k] = fields[_URL]

    def read_files(self, also: Iterable[str] = ()) -> set[str]:
        """The files (site-relative) that the paths of this build read, replayed ones too,
        and those of the sources `also` names."""
        return {dep_file(dep) for dep in itertools.chain(self._names, also)}

    def _number(self, dep: str) -> int:
        number = self._names.get(dep)
        if number is None:
            number = self._names[dep] = len(self._names)
        return number

    def save(self, *, rendered: int, seed_deps: set[str], unrecorded: int = 0, imported: Iterable[str] = ()) -> None:
        """Write this build's record (after a successful build only), atomically, with the
        count of paths it rendered but cannot record (they answered an error), and the
        site's modules: those imported by this process or, as `imported` files, by the
        workers; and, when paths were replayed, the previous build's (a replayed path
        imports nothing, yet its modules still shape it). A build that reused every path
        of an unchanged record leaves the file as it is."""
        if self.homeless:
            return
        if (
            rendered == 0 and self.enabled and not self._forgotten and self.previous_key == self.key
            and self.entries.keys() == self._deps.keys() and not self.hash.changed
            and seed_deps == self.seed_deps.keys()
        ):
            return
        # Numbered in sorted order: the cache, like the output, should not depend on the order of the run.
        sources = sorted(self._names)
        final = {dep: i for i, dep in enumerate(sources)}
        renumber = [final[dep] for dep in self._names]
        for deps, _ in self.entries.values():  # the arrays are the cache's own: renumbered in place
            deps[:] = array("I", [renumber[i] for i in deps])
        self._names = final  # numbered as saved now
        paths = sorted(self.entries.items())
        modules = {*site_modules(self.site.root, imported), *(self.previous_modules if self._kept else ())}
        self._write({
            "format": FORMAT,
            "key": self.key,
            "out": str(self.site.config.out_dir),
            "unrecorded": unrecorded,
            "modules": {m: self._as_read(m) for m in sorted(modules)},
            # Each source once; a path's deps are its numbers in this list.
            "sources": sources,
            "hashes": [self._as_read(dep) for dep in sources],
            # Sorted: the cache, like the output, should not depend on the order of the run.
            "seed": {dep: self._as_read(dep) for dep in sorted(seed_deps)},
            "deps": {k: _packed(deps) for k, (deps, _) in paths},
            "paths": {k: data for k, (_, data) in paths},
            "pages": [self._pages[k] for k, _ in paths if k in self._pages],
            "stats": _packed_stats(self.hash.stats),
        })

    def save_patch(self, rendered: dict[str, Done]) -> None:
        """After an edit's shortcut (patch.py): the previous record with the paths rendered
        again and the hashes of the sources that changed, appended to the journal as the
        few entries that differ (build.cache itself is written whole again only every
        JOURNAL_PATCHES patches). A source new to the record goes at the end of the list,
        so the other paths' numbers stay valid."""
        raw = self._raw
        sources, hashes, number = raw["sources"], raw["hashes"], self._numbered
        known = len(sources)
        changed_hashes: dict[int, str | None] = {}
        records: dict[str, dict] = {"deps": {}, "paths": {}}
        for k, done in sorted(rendered.items()):
            self.hash.learn_from(done)
            for dep in done.deps:
                if dep not in number:
                    number[dep] = len(sources)
                    sources.append(dep)
                    hashes.append(None)
            recorded = self.previous_record(k)
            assert recorded is not None, "the shortcut renders only paths it read the record of"
            records["deps"][k] = _packed([number[dep] for dep in done.deps])
            records["paths"][k] = _marshalled(done, recorded[1])
        # The sources whose hash changed, and those whose stat this build learned (a listing
        # rendered again read each summary it shows): a stat is kept only beside the hash
        # read with it, unknown when the file changed while the build ran.
        for dep in sorted({*(self._changed or ()), *(dep for dep in self.hash.updated if dep in number)}):
            changed_hashes[number[dep]] = hashes[number[dep]] = self._as_read(dep)
        for packed in records["deps"].values():
            for i in _numbers(packed):
                if hashes[i] is None:
                    changed_hashes[i] = hashes[i] = self._as_read(sources[i])
        stats = {dep: stat for dep in sorted(self.hash.updated) if _well_formed(stat := self.hash.stats.get(dep))}
        raw["stats"].update(stats)
        raw["deps"].update(records["deps"])
        raw["paths"].update(records["paths"])
        patch = ("patch", sources[known:], changed_hashes, records, stats)
        if self._patches >= JOURNAL_PATCHES or not self._journal(patch):
            payload = {**raw, "stats": _packed_stats(self.hash.stats)}
            self._write(payload)
            raw["id"] = payload["id"]

    def _journal(self, entry: tuple) -> bool:
        """Append an entry for the record as loaded (its id) to the journal, in one write."""
        if not self._raw:
            return False
        data = seal(marshal.dumps((self._raw["id"], *entry)))
        return append(self.dir / JOURNAL, len(data).to_bytes(4, "little") + data)

    def _option_digest(self, rel: str, name: str) -> str:
        """Of an option a route module sets (or not): its repr, or that it cannot be imported."""
        try:
            module = self.site.modules.get(rel)
        except Exception as exc:  # noqa: BLE001 - its pages fail, and say why, when rendered
            return f"unimportable: {type(exc).__name__}"
        return _digest((repr(getattr(module, name)) if hasattr(module, name) else "(not set)").encode())

    def _as_read(self, dep: str) -> str | None:
        """A source's hash for the record; None when it changed while the build ran (edited,
        added, deleted, or a folder that gained or lost a file): the build may have read the
        version before, so the next build renders its readers again."""
        digest = self.hash(dep)
        if digest is None or self.before is None or dep.startswith("ssg:"):
            return digest
        if dep.endswith("/"):
            return None if self._listing_changed(dep, digest) else digest
        file = dep_file(dep)
        seen = self.before.get(file)
        if seen is None and self.reaches is not None and not self.reaches(file):
            # First read outside the walk (node_modules/, ...): its version before the build
            # is known when it is missing and nothing came or went in its folder, or when
            # the version hashed (a template's, as it was read) is older than the build.
            if digest == "missing":
                return digest if self._absent_throughout(file) else None
            return digest if file == dep and self.stamp_before(dep) is not None else None
        if seen is None or seen == MISSING:  # not there before the build
            if digest != "missing" and not os.path.lexists(os.path.join(self.site.root, file)):
                return self._came_and_went()  # read (templates are hashed as read), and deleted since
            if digest != "missing":  # made since? (outside the walk, it was missing when the build started)
                return self._came_and_went() if seen == MISSING or self._new(file) else digest
            # Missing now, and before: was it there in between?
            return digest if self._missing_throughout(file) else self._came_and_went()
        if digest == "missing":
            return None
        hashed = self.hash.stats.get(dep)
        return None if hashed is not None and (hashed[0], hashed[1]) != (seen[0], seen[1]) else digest

    def stamp_before(self, rel: str) -> int | None:
        """The stamp (see uptodate.changed_at) of the version of a file this build hashed,
        when it is older than the build by more than a tick of the file system's clock
        (RACY_NS): then no page of the build read another one."""
        hashed = self.hash.stats.get(rel) if self.hash.memo.get(rel) is not None else None
        return hashed[0] if hashed is not None and hashed[0] < self.started - RACY_NS else None

    def status_before(self, rel: str) -> Status | None:
        """Of a file this build read outside the walk, or looked for there: its status
        before the build (MISSING for one not there), when this build can tell it (see
        _as_read), for the no-change check to compare with next time."""
        digest = self.hash.memo.get(rel)
        if digest == "missing":
            return MISSING if not os.path.lexists(os.path.join(self.site.root, rel)) and self._absent_throughout(rel) else None
        stamp = self.stamp_before(rel)
        try:
            st = os.stat(os.path.join(self.site.root, rel))
        except OSError:
            return None
        return (stamp, st.st_size, st.st_ino) if stamp is not None and changed_at(st) == stamp and not S_ISDIR(st.st_mode) else None

    def _listing_changed(self, dep: str, digest: str) -> bool:
        """Whether a folder gained or lost a file since the walk before the build (one the
        walk could not see, such as a second path to a symlinked folder, counts only if new)."""
        assert self.before is not None
        if digest == "missing":
            return dep in self.before
        if self._before_sorted is None:
            self._before_sorted = sorted(self.before)
        keys = self._before_sorted
        start = bisect.bisect_left(keys, dep)
        end = bisect.bisect_left(keys, dep[:-1] + "0")  # "0" follows "/": past every name below dep
        before = {k[len(dep):] for k in keys[start:end] if not k.endswith("/") and self.before[k] != MISSING and is_listed(dep, k[len(dep):])}
        now = set(self.hash.listings.get(dep, ()))
        if before - now or any(self._new(dep + name) for name in now - before):
            if not before - now:
                self._came_and_went()  # only files added: they may be gone again by the next build
            return True
        # The same files, but one may have come and gone meanwhile, listed by the build.
        if any(self._folder_changed(folder) for folder in {dep, *keys[start:end]} if folder.endswith("/")):
            self._came_and_went()
            return True
        return False

    def _absent_throughout(self, rel: str) -> bool:
        """Whether a missing file outside the walk was missing all through the build: the
        nearest folder above it that exists had no file added or removed since the build
        started, or is the site folder (see _missing_throughout)."""
        folder = os.path.dirname(rel)
        while folder:
            try:
                return not changed_since(os.stat(os.path.join(self.site.root, folder)), self.started)
            except OSError:
                folder = os.path.dirname(folder)
        return True

    def _missing_throughout(self, rel: str) -> bool:
        """Whether a file the walk reaches, missing before and after the build, was missing
        all through it: the nearest folder above it that the walk before the build listed
        gained or lost no file since (a folder made since changed the one above it: one
        stat of content/posts/ serves every content/posts/a/index.md looked for). The site
        folder's listing changes with every build (its output's staging folder): a file in
        it, or in a folder of it that the walk did not list, counts as missing throughout
        (what the build reads there is templates, hashed as they are read; templates/x.html,
        looked for first, is often in no folder at all)."""
        assert self.before is not None
        folder = os.path.dirname(rel)
        while folder and folder + "/" not in self.before:
            folder = os.path.dirname(folder)
        return not folder or not self._folder_changed(folder + "/")

    def _folder_changed(self, folder: str) -> bool:
        """Whether a folder gained or lost a file since the build started, or is gone. Not
        asked of a folder of code, which holds __pycache__ (the first import in a fresh
        checkout adds it; what else the build reads there is templates, hashed as read)."""
        if folder not in self._folders_changed:
            path = os.path.join(self.site.root, folder)
            try:
                changed = changed_since(os.stat(path), self.started) and not os.path.isdir(os.path.join(path, "__pycache__"))
            except OSError:
                changed = True
            self._folders_changed[folder] = changed
        return self._folders_changed[folder]

    def _new(self, rel: str) -> bool:
        """Whether a file was made or moved in since the walk before the build."""
        try:
            st = os.stat(os.path.join(self.site.root, rel))
        except OSError:
            return False
        return changed_since(st, self.started)

    def _came_and_went(self) -> None:
        """A source not there before the build that was, or may have been, there while it
        ran: gone again by the next build, the walks before and after this one would agree,
        so the next no-change check must not vouch for it (`unsure`). Its hash is unknown."""
        self.unsure = True

    def check_reads(self, deps: Iterable[str], digests: dict[str, tuple[int, int, str]]) -> None:
        """What a page no path records read (404.html): whether a source of it came and
        went while the build ran (see _came_and_went), from the versions it read."""
        self.hash.learn(digests)
        for dep in sorted(deps):
            self._as_read(dep)

    def _write(self, payload: dict[str, Any]) -> None:
        self.dir.mkdir(exist_ok=True)
        payload["id"] = os.urandom(8).hex()  # the journal's entries name the record they follow
        tmp = self.dir / f".{FILE}.{os.getpid()}"
        tmp.write_bytes(MAGIC + seal(marshal.dumps(payload)))
        try:
            os.replace(tmp, self.dir / FILE)
        except IsADirectoryError:  # a folder at its name refuses the rename
            remove(self.dir / FILE)
            os.replace(tmp, self.dir / FILE)
        remove(self.dir / JOURNAL)  # its patches are in the record now
        gitignore = self.dir / ".gitignore"
        if not gitignore.exists():
            gitignore.write_text("*\n")


def recorded_out(root: Path) -> str | None:
    """The output folder the last build recorded in the site's build cache wrote, if any."""
    try:
        blob = (root / ".ssg-cache" / FILE).read_bytes()
        out = _record(blob).get("out") if blob.startswith(MAGIC) else None
    except (OSError, ValueError, EOFError, TypeError, AttributeError):
        return None  # none, or damaged: the build reports it
    return out if type(out) is str else None


def _record(blob: bytes) -> Any:
    """build.cache's record, from its bytes (MAGIC, then the record sealed). Raises
    ValueError for a damaged seal."""
    return marshal.loads(unseal(memoryview(blob)[len(MAGIC):]))


def _replay(raw: dict[str, Any], journal: Path) -> int | None:
    """Apply the journal's patches for this record (by its id) to it, in order; return
    how many, or None when one was begun and never finished (the edit shortcut was killed
    while it moved files in). Entries of another record, or cut short, are left out."""
    try:
        data = journal.read_bytes()
    except FileNotFoundError:
        return 0
    except OSError:
        return None  # unreadable: it may hold a patch begun and never finished
    patches, open_patch, at = 0, False, 0
    while at + 4 <= len(data):
        size = int.from_bytes(data[at : at + 4], "little")
        chunk = data[at + 4 : at + 4 + size]
        at += 4 + size
        if len(chunk) < size:
            return None if open_patch else patches  # the last entry, cut short
        entry = marshal.loads(unseal(chunk))
        if entry[0] != raw["id"]:
            continue
        if entry[1] == "begin":
            open_patch = True
            continue
        _, _, new_sources, hashes, records, stats = entry
        if not all(type(dep) is str and _well_formed(stat) for dep, stat in stats.items()):
            raise TypeError("a stat entry is not [mtime, size, hash, racy]")  # a damaged journal
        raw["sources"].extend(new_sources)
        raw["hashes"].extend([None] * len(new_sources))
        for i, digest in hashes.items():
            raw["hashes"][i] = digest
        raw["deps"].update(records["deps"])
        raw["paths"].update(records["paths"])
        raw["stats"].update(stats)
        patches, open_patch = patches + 1, False
    return None if open_patch else patches


def _name(dep: str) -> str:
    """A source as --explain names it: "the front matter of content/blog/a.md"."""
    file = dep_file(dep)
    if file == dep:
        return dep
    if (option := option_named(dep)) is not None:
        return f"the {option} of {file}"
    return f"the summary of {file}" if dep.endswith(SUMMARY) else f"the front matter of {file}"


_done_fields = operator.attrgetter(*(f.name for f in dataclasses.fields(Done)))
FIELDS = {f.name: i for i, f in enumerate(dataclasses.fields(Done))}  # a Done's field -> its place in a record
_DEPS, _KIND, _URL = FIELDS["deps"], FIELDS["kind"], FIELDS["url"]


def _packed(deps: Iterable[int]) -> bytes:
    """Dep numbers as build.cache keeps them: 4 bytes each, little-endian (a list of ints
    took nine times the memory: 50 MiB at 40,000 posts)."""
    numbers = array("I", deps)
    if sys.byteorder == "big":
        numbers.byteswap()
    return numbers.tobytes()


def _numbers(packed: bytes) -> Sequence[int]:
    """The dep numbers _packed() wrote (TypeError for bytes that are none)."""
    if type(packed) is not bytes:
        raise TypeError("deps are not bytes")
    if sys.byteorder == "little":
        return memoryview(packed).cast("I")
    numbers = array("I", packed)
    numbers.byteswap()
    return numbers


assert array("I").itemsize == 4, "dep numbers are packed in 4 bytes"


def _marshalled(done: Done, props: str | None) -> bytes:
    """A path's record but its deps (kept apart: every one is looked at), as build.cache
    keeps it: its Done's fields and its props hash, marshalled on their own (read only when
    asked for). Only successes are recorded (no failure); the digests went to the hasher."""
    fields = _with(
        _done_fields(done), deps=(), params=tuple(done.params.items()), outside_base=done.outside_base or (),
        fetched=done.fetched or (), write_errors=done.write_errors or (), digests={},
    )
    return marshal.dumps((fields, props))


def _with(fields: tuple, **changes: Any) -> tuple:
    """A Done's fields (as a tuple) with some replaced by name."""
    out = list(fields)
    for name, value in changes.items():
        out[FIELDS[name]] = value
    return tuple(out)


def _entry(fields: tuple, sources: list[str], props: str | None) -> Entry:
    """A recorded path as an Entry: its Done rebuilt, deps named again."""
    deps = [sources[i] for i in fields[_DEPS]]
    done = Done(*fields)
    done.deps, done.params, done.headers, done.digests = deps, dict(done.params), dict(done.headers), {}
    done.files, done.links, done.outside_base, done.fetched, done.write_errors = (
        list(done.files), list(done.links), list(done.outside_base), list(done.fetched), list(done.write_errors))
    return Entry(done, deps, props)
