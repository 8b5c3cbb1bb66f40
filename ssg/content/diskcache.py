"""The content cache on disk, `<site>/.ssg-cache/content/`: what reading content/ cost,
kept for the next build and shared by the worker processes of this one.

- `bodies.sqlite`: rendered bodies (html, toc, summary), one row each, keyed by a hash
  of (the body's text, the Markdown engine's identity, the ssg version, the folder its
  relative links start from, the URL of the entry's page). A row also lists every link
  the resolver turned into a URL (.md files and site paths) with the URL it became; it
  is used only while each of them still resolves to that URL, else the body is rendered
  again and the row replaced. So a body rendered by one worker is reused by the others
  and by the next build, including a CI run that restored the folder: the key is the
  text, not the file's mtime.
- `files.json`: each parsed .md file's front matter (data, lines for messages, where the
  body starts, a hash of the body), checked against the file's (mtime_ns, size), else
  against a hash of its bytes (a fresh checkout changes every mtime). A file whose front
  matter holds something JSON cannot carry exactly (a YAML !!set, a date as a key) is
  simply parsed again each time. Data and lines are kept as JSON strings inside it, so
  loading it makes few objects; lines are decoded only for a message. Written whole,
  atomically (temp file, os.replace).

Why sqlite rather than a file per body: creating a small file (temp file, os.replace)
cost 0.4-1 ms on the ext4 development VM (a cold 1,000-page build paid a second for it),
an insert in WAL mode without fsync about 0.07 ms; reads cost about the same (~0.04 ms);
and one file is easier to keep between CI runs and to prune (a DELETE). Concurrency: WAL
lets the worker processes read while one writes (writes wait on a busy timeout, and one
that still fails is skipped). An insert commits at once, so the other workers see it,
except inside `held()`: a worker holds the bodies of a batch of paths and writes them in
one transaction at its end (a commit per body cost as much as the insert).
Each process opens its own connection, and `os.register_at_fork` closes it before any
fork, so a child never uses its parent's. A damaged row (checksum) or database is a
miss (the body is rendered again); the next `ssg build` replaces a database sqlite
reported as corrupt. Nothing here is trusted as code (JSON, never pickle): CI restores
the folder from a shared cache.

`start_build(root, fresh=...)` is called by `ssg build`; `--fresh` parses and renders
everything (and still writes what it made). Each row names the build that wrote it, so
the workers of a `--fresh` build still share the bodies that build rendered, and read
none an earlier build left. SSG_CONTENT_CACHE=off turns the cache off.
"""

from __future__ import annotations

import atexit
import contextlib
import datetime
import hashlib
import json
import os
import shutil
import sqlite3
import sys
import threading
import time
import weakref
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import __version__
from .markdown import Heading, RenderedBody

if TYPE_CHECKING:
    from concurrent.futures import ProcessPoolExecutor

FORMAT = 3  # of bodies.sqlite (2: a summary's own checksum, so a listing reads no HTML; 3: the build that wrote a row)
INDEX_FORMAT = 3  # of files.json's records (2: data and lines as JSON strings; 3: files.json and each journal line behind a CRC-32)
FOLDER = ".ssg-cache/content"
INDEX = "files.json"
JOURNAL = "files.journal"  # records saved since files.json was last written whole, a JSON line per save
JOURNAL_RECORDS = 64  # a save of more records than this writes files.json whole
JOURNAL_BYTES = 1 << 20  # and so does one once the journal has grown this big
DB = "bodies.sqlite"

DAY = 24 * 3600
KEEP = 30 * DAY
"""A body no build used for this long (counted back from the newest one, not from the
clock, so a cache restored after a quiet month is kept) is deleted by the daily prune."""
REFRESH = 7 * DAY
"""A body read this long after it was last written or refreshed is marked used again."""
HELD_ROWS = 64  # rows Bodies.held() keeps before writing them, in one transaction


def _env_off() -> bool:
    return os.environ.get("SSG_CONTENT_CACHE", "").strip().lower() in ("0", "off", "no", "false")


_read = _write = not _env_off()
_build: str | None = None  # this build's id, in every row it writes (the forked workers share it)


def configure(*, read: bool = True, write: bool = True) -> None:
    """Use the disk cache for reading and/or writing (both, by default). SSG_CONTENT_CACHE=off
    in the environment (read here, and when the module is imported) turns both off."""
    global _read, _write, _build
    off = _env_off()
    _read, _write, _build = read and not off, write and not off, None


def reading() -> bool:
    """Whether what earlier builds wrote is read."""
    return _read


def writing() -> bool:
    return _write


def reading_bodies() -> bool:
    """Whether rendered bodies are read: all of them, or (`--fresh`) those this build wrote."""
    return _read or (_write and _build is not None)


def start_build(root: Path, *, fresh: bool = False) -> None:
    """What `ssg build` calls before it reads content/: `fresh` (--fresh) ignores what the
    cache holds (every file parsed, every body rendered once) but still writes it for the
    next build. Prunes bodies no build used for a month, at most once a day."""
    global _build
    configure(read=not fresh, write=True)
    _build = os.urandom(8).hex()
    if writing():
        for_root(root).bodies.start()


def digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


# -- front matter: files.json --------------------------------------------------------------------

Record = list  # [mtime_ns, size, file hash, body hash, body line, data, lines]: data and lines as JSON strings


class Unencodable(Exception):
    """Front matter JSON cannot carry exactly: such a file is parsed every time."""


_DATE, _DATETIME = "\x00d", "\x00t"
_BIG = 10**1000


def encode_data(value: Any) -> str:
    """Front matter (what the safe YAML loader makes) as a JSON string, dates tagged; raises
    Unencodable for anything that would not come back identical. A string, so loading
    files.json makes one object per record for it, not one per list and mapping inside."""
    return json.dumps(_encode(value), separators=(",", ":"))


def _encode(value: Any) -> Any:
    kind = type(value)
    if kind is str or kind is bool or kind is float or value is None:
        return value
    if kind is int:
        if not -_BIG < value < _BIG:
            raise Unencodable(value)  # json.loads refuses ints of more than 4,300 digits
        return value
    if kind is list:
        return [_encode(v) for v in value]
    if kind is dict:
        out = {}
        for k, v in value.items():
            if type(k) is not str or k.startswith("\x00"):
                raise Unencodable(k)
            out[k] = _encode(v)
        return out
    if kind is datetime.datetime:
        tz = value.tzinfo
        if tz is not None and type(tz) is not datetime.timezone:
            raise Unencodable(value)
        return {_DATETIME: value.isoformat()}
    if kind is datetime.date:
        return {_DATE: value.isoformat()}
    raise Unencodable(value)  # sets, tuples (!!omap, !!pairs), anything else


def decode_data(raw: str) -> Any:
    """The inverse of encode_data (new objects on every call); raises ValueError or
    TypeError for a damaged record."""
    if type(raw) is not str:
        raise TypeError(raw)
    value, end = _decoder.raw_decode(raw)  # encode_data writes no whitespace around it
    if end != len(raw):
        raise ValueError("extra data after the front matter")
    return value


def _untag(value: dict[str, Any]) -> Any:
    """A mapping as json reads it: a tagged date made a date again."""
    if len(value) == 1:
        if _DATE in value:
            return datetime.date.fromisoformat(value[_DATE])
        if _DATETIME in value:
            return datetime.datetime.fromisoformat(value[_DATETIME])
    return value


_decoder = json.JSONDecoder(object_hook=_untag)


def encode_lines(lines: dict[tuple[Any, ...], int]) -> str:
    """Lines for messages, as one JSON string: loading files.json makes no objects for them,
    and they are decoded only when a message needs one (most builds never do)."""
    for path in lines:
        for part in path:
            if part is not None and type(part) is not str and type(part) is not int:
                raise Unencodable(part)
    return json.dumps([[list(path), line] for path, line in lines.items()], separators=(",", ":"))


def decode_lines(raw: str) -> dict[tuple[Any, ...], int]:
    """The inverse of encode_lines; raises ValueError or TypeError for a damaged record."""
    if type(raw) is not str:
        raise TypeError(raw)
    lines = {}
    for path, line in json.loads(raw):
        if type(path) is not list or type(line) is not int:
            raise TypeError(path)
        lines[tuple(path)] = line
    return lines


def _index_key() -> str:
    """What parsing front matter depends on: a change to any of it drops files.json."""
    import yaml

    from . import frontmatter, schema

    parts = [f"{FORMAT}.{INDEX_FORMAT}", __version__, yaml.__version__, frontmatter.Loader.__name__, _source_digest(frontmatter), _source_digest(schema)]
    return "/".join(parts)


# -- bodies: the Markdown engine's identity ------------------------------------------------------

_identities: dict[int, tuple[Any, str | None]] = {}


def engine_identity(engine: Any) -> str | None:
    """A hash of everything a rendered body depends on besides its text and links; None
    for an engine the cache cannot vouch for (one installed with use_engine() that is not
    ssg's and has no `cache_key`): its bodies are not cached on disk."""
    memo = _identities.get(id(engine))
    if memo is not None and memo[0] is engine:
        return memo[1]
    identity = _identity(engine)
    if identity is not None:
        identity = digest(identity.encode())
    _identities[id(engine)] = (engine, identity)
    return identity


def forget_identity(engine: Any) -> None:
    """The engine's options changed: compute its identity again on next use."""
    _identities.pop(id(engine), None)


def _identity(engine: Any) -> str | None:
    cls = type(engine)
    extra = getattr(engine, "cache_key", None)
    if not cls.__module__.startswith("ssg.") and extra is None:
        return None
    from . import markdown

    parts = [f"content-cache {FORMAT}", f"ssg {__version__}", "python %d.%d" % sys.version_info[:2],
             f"{cls.__module__}.{cls.__qualname__}", f"SSG_MARKDOWN={os.environ.get('SSG_MARKDOWN', '').strip().lower()}",
             f"cache_key={extra!r}"]
    # Options kept as plain values on the engine (a switch for highlighting, say).
    plain = sorted((k, v) for k, v in getattr(engine, "__dict__", {}).items() if isinstance(v, (bool, int, float, str, type(None))))
    parts.append(f"options={plain!r}")
    # Whether (and how) fenced code is highlighted: ssg's engines build their parser (on
    # first use) with markdown.highlight; another engine's parser (a subclass's) may say.
    if cls.__module__.startswith("ssg.") and isinstance(engine, markdown.MarkdownItEngine):
        hook: Any = markdown.highlight
    else:
        options = getattr(getattr(engine, "md", None), "options", None)
        hook = options.get("highlight") if options is not None else None
    parts.append(f"highlight={getattr(hook, '__module__', '')}.{getattr(hook, '__qualname__', hook)}")
    for name in ("markdown_it", "mdit_py_plugins", "pygments"):
        parts.append(f"{name} {markdown.package_version(name)}")
    pyrs = sys.modules.get("markdown_it_pyrs")  # imported by FastEngine, the only engine using it
    parts.append(f"markdown_it_pyrs {getattr(pyrs, '__version__', None)}")
    # ssg's own engine code and link resolver: a change to them (in a checkout, without a
    # new version) must not serve bodies rendered before.
    modules = {markdown.__name__, "ssg.content.store"} | {c.__module__ for c in cls.__mro__ if c.__module__.startswith("ssg.")}
    parts.extend(f"{m} {_source_digest(sys.modules[m])}" for m in sorted(modules) if m in sys.modules)
    return "\n".join(parts)


def _source_digest(module: Any) -> str:
    try:
        return digest(Path(module.__file__).read_bytes())
    except (OSError, TypeError, AttributeError):
        return "?"


# -- the cache of one site -----------------------------------------------------------------------


class DiskCache:
    """`<root>/.ssg-cache/content/`, as one process sees it."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.dir = root / FOLDER
        self._index: dict[str, Record] | None = None
        self._index_key: str | None = None
        self.changed: dict[str, Record] = {}  # records this process made since it last wrote files.json
        self.seen: set[str] = set()  # files this process looked up or parsed
        self._bodies: Bodies | None = None

    # -- front matter ----------------------------------------------------------------------

    def index(self) -> dict[str, Record]:
        if self._index is None:
            self._index = self._load_index() if reading() else {}
        return self._index

    def _key(self) -> str:
        if self._index_key is None:
            self._index_key = _index_key()
        return self._index_key

    def _load_index(self) -> dict[str, Record]:
        files: dict[str, Record] = {}
        try:
            raw = json.loads(unseal((self.dir / INDEX).read_bytes()).tobytes())
            if raw["key"] == self._key() and isinstance(raw["files"], dict):
                files = raw["files"]
        except (OSError, ValueError, KeyError, TypeError):
            pass  # missing or damaged: every file is parsed again
        try:
            with open(self.dir / JOURNAL, "rb") as journal:
                for line in journal:
                    try:
                        saved = json.loads(unseal(line.rstrip(b"\n")).tobytes())
                    except ValueError:
                        continue  # a line cut short (a process killed while it wrote) or damaged: parsed again
                    if type(saved) is dict and saved.get("key") == self._key() and type(saved.get("files")) is dict:
                        files.update(saved["files"])
        except OSError:
            pass
        return files

    def lookup(self, rel: str) -> Record | None:
        """The record of a file (check it against the file before use), or None."""
        self.seen.add(rel)
        if not reading():
            return None
        record = self.changed.get(rel) or self.index().get(rel)
        if type(record) is not list or len(record) != 7:
            return None
        return record

    def remember(self, rel: str, record: Record) -> None:
        self.seen.add(rel)
        if writing():
            # Not loading files.json for it: an edit's one record goes to the journal.
            self.changed[rel] = record
            if self._index is not None:
                self._index[rel] = record

    def release(self, rels: list[str]) -> None:
        """Forget the loaded records of files this process holds parsed and has saved: a
        site of 40,000 posts kept each front matter twice, parsed and as JSON text."""
        if self._index is not None:
            for rel in rels:
                if rel not in self.changed:
                    self._index.pop(rel, None)

    def save_index(self) -> None:
        """Add this process's new records to files.json, if it made any (merged with what
        other processes wrote since; atomically; a failure only costs parsing). Called
        after each collection scan, before a fork and at exit."""
        if not self.changed or not writing():
            return
        # A few records (an edit): one line appended to the journal, not all of files.json
        # written again (21 MB at 40,000 posts, a second of a one-edit build).
        journal = self.dir / JOURNAL
        if len(self.changed) <= JOURNAL_RECORDS and _size(journal) < JOURNAL_BYTES:
            line = seal(json.dumps({"key": self._key(), "files": self.changed}, separators=(",", ":")).encode()) + b"\n"
            if append(journal, line):
                self.changed.clear()
                return
        merged = {**self._load_index(), **self.changed}
        # Files this process never looked at and that are gone: drop their records.
        for rel in [r for r in merged if r not in self.seen and not (self.root / r).is_file()]:
            del merged[rel]
        try:
            blob = json.dumps({"key": self._key(), "files": merged}, separators=(",", ":"))
        except (TypeError, ValueError):
            self.changed.clear()
            return
        if _write_atomic(self.dir / INDEX, seal(blob.encode())):
            self.changed.clear()
            try:
                journal.unlink()  # its records are in files.json now
            except OSError:
                pass

    # -- bodies ------------------------------------------------------------------------------

    def body_key(self, identity: str, rel: str, body_hash: str, page_url: str | None) -> str:
        """The key of a rendered body: its text, the engine, the folder its relative links
        start from, and its page's URL (summaries link #ids to it). What the links became
        is checked on use (see SiteContent.render)."""
        folder = rel.rsplit("/", 1)[0]
        return digest(f"{identity}\x00{folder}\x00{page_url}\x00{body_hash}".encode())

    def get_body(self, key: str) -> tuple[RenderedBody, tuple[tuple[str, str | None], ...]] | None:
        """A rendered body and the links it resolved, or None (missing, or unreadable)."""
        if not reading_bodies():
            return None
        row = self.bodies.get(key)
        if row is None:
            return None
        html, summary, toc_json, links_json = row
        try:
            toc = tuple(Heading(level, id_, text) for level, id_, text in json.loads(toc_json))
            links = tuple((target, url) for target, url in json.loads(links_json))
        except (ValueError, KeyError, TypeError):
            return None  # a damaged row: render again (and replace it)
        if type(html) is not str or type(summary) is not str:
            return None
        if not all(type(h.level) is int and type(h.id) is str and type(h.text) is str for h in toc):
            return None
        if not all(type(t) is str and (u is None or type(u) is str) for t, u in links):
            return None
        return RenderedBody(html, toc, summary), links

    def get_summaries(self, keys: list[str]) -> dict[str, tuple[str, tuple[tuple[str, str | None], ...]]]:
        """Summaries and links for many keys at once (a listing's): those found."""
        if not reading_bodies():
            return {}
        found = {}
        for key, row in self.bodies.get_summaries(keys).items():
            decoded = self._summary(row)
            if decoded is not None:
                found[key] = decoded
        return found

    def get_summary(self, key: str) -> tuple[str, tuple[tuple[str, str | None], ...]] | None:
        """A rendered body's summary and the links it resolved, without its HTML, or None."""
        if not reading_bodies():
            return None
        return self.get_summaries([key]).get(key)

    @staticmethod
    def _summary(row: tuple[str, str]) -> tuple[str, tuple[tuple[str, str | None], ...]] | None:
        try:
            links = tuple((target, url) for target, url in json.loads(row[1]))
        except (ValueError, KeyError, TypeError):
            return None
        if not all(type(t) is str and (u is None or type(u) is str) for t, u in links):
            return None
        return row[0], links

    def put_body(self, key: str, body: RenderedBody, links: tuple[tuple[str, str | None], ...]) -> None:
        if not writing():
            return
        toc = json.dumps([[h.level, h.id, h.text] for h in body.toc], separators=(",", ":"))
        self.bodies.put(key, (body.html, body.summary, toc, json.dumps([list(link) for link in links], separators=(",", ":"))))

    def held(self) -> contextlib.AbstractContextManager[None]:
        """Bodies put inside the block are written in one transaction at its end (Bodies.held)."""
        return self.bodies.held() if writing() else contextlib.nullcontext()

    @property
    def bodies(self) -> Bodies:
        if self._bodies is None:
            self._bodies = Bodies(self.dir / DB, self.root)
        return self._bodies


# -- bodies.sqlite ------------------------------------------------------------------------------

_CORRUPT = {11, 26}  # SQLITE_CORRUPT, SQLITE_NOTADB
_TABLE = f"bodies_v{FORMAT}"
_CREATE = (f"create table if not exists {_TABLE} "
           "(key text primary key, html text, summary text, toc text, links text, sum text, used integer, summary_sum text, build text)")
# The daily prune looks for the newest use and the rows long unused: without an index, each
# read every row (0.2 s at 40,000 bodies, in the first build of the day).
_INDEX = f"create index if not exists {_TABLE}_used on {_TABLE}(used)"
_OLD_TABLES = [f"bodies_v{n}" for n in range(1, FORMAT)]


def _which(keys: list[str]) -> tuple[str, list[str]]:
    """What a query adds to its condition on `keys`, and its parameters: under `--fresh`,
    a row counts only if this build wrote it."""
    if _read or _build is None:
        return "", keys
    return " and build = ?", [*keys, _build]


def _checksum(key: str, value: tuple[str, ...]) -> str:
    """Of a row's contents: a row damaged on disk (sqlite keeps no checksums) is a miss."""
    return digest("\x00".join((key, *value)).encode("utf-8", "surrogatepass"))


class Bodies:
    """`bodies.sqlite`, as one process uses it: its own connection, opened on first use."""

    def __init__(self, path: Path, site: Path) -> None:
        self.path = path
        self.site = site
        self._conn: sqlite3.Connection | None = None
        self._pid = os.getpid()
        self.off = False  # unusable in this process (unwritable, damaged): no cache
        self._retry = 0.0  # when to try opening it again after it was busy
        self._lock = threading.Lock()
        self._held: dict[str, tuple[str, str, str, str]] | None = None  # rows put inside held()

    @contextlib.contextmanager
    def held(self) -> Iterator[None]:
        """Keep the rows put inside the block (this process reads them back from memory)
        and write them in one transaction when it ends."""
        if self._held is not None:
            yield  # inside an outer block: written at its end
            return
        self._held = {}
        try:
            yield
        finally:
            rows, self._held = self._held, None
            self._insert(rows)

    def _db(self) -> sqlite3.Connection | None:
        if self._pid != os.getpid():
            # A forked child. Its parent closed the connection before the fork; never use
            # an inherited one.
            self._conn, self._pid, self.off, self._retry = None, os.getpid(), False, 0.0
        if self._conn is None and not self.off and time.monotonic() >= self._retry:
            try:
                self._conn = _connect(self.path)
            except sqlite3.OperationalError as exc:
                if not busy(exc):
                    self._failed(exc)  # it cannot be opened: not again in this process
                # Busy (another process is making the database): try again in a moment.
                self._retry = time.monotonic() + 0.05
            except (sqlite3.Error, OSError) as exc:
                self._failed(exc)
        return self._conn

    def _failed(self, exc: BaseException) -> None:
        """Stop using the database in this process; if sqlite says it is damaged, leave a
        note so the next build starts a new one (it may be open elsewhere right now)."""
        self.off = True
        self.close()
        if getattr(exc, "sqlite_errorcode", None) in _CORRUPT:
            try:
                self.path.with_name(self.path.name + ".corrupt").touch()
            except OSError:
                pass

    def get(self, key: str) -> tuple[str, str, str, str] | None:
        """(html, summary, toc as JSON, links as JSON), or None."""
        if self._held is not None and key in self._held:
            return self._held[key]
        with self._lock:
            db = self._db()
            if db is None:
                return None
            try:
                which, params = _which([key])
                row = db.execute(f"select html, summary, toc, links, sum, used from {_TABLE} where key = ?{which}", params).fetchone()
            except sqlite3.OperationalError:
                return None  # busy past the timeout: render it
            except sqlite3.Error as exc:
                self._failed(exc)
                return None
            if row is None or not all(type(v) is str for v in row[:5]) or row[4] != _checksum(key, row[:4]):
                return None
            self._touch(db, key, row[5])
            return row[:4]

    def get_summaries(self, keys: list[str]) -> dict[str, tuple[str, str]]:
        """(summary, links as JSON) of the rows found, each checked by their own checksum
        (no HTML read); a query per few hundred keys."""
        found: dict[str, tuple[str, str]] = {}
        if self._held:
            found = {key: (row[1], row[3]) for key in keys if (row := self._held.get(key)) is not None}
            keys = [key for key in keys if key not in found]
        with self._lock:
            db = self._db()
            if db is None:
                return found
            for start in range(0, len(keys), 500):
                chunk = keys[start : start + 500]
                which, params = _which(chunk)
                try:
                    rows = db.execute(f"select key, summary, links, summary_sum, used from {_TABLE} "
                                      f"where key in ({','.join('?' * len(chunk))}){which}", params).fetchall()
                except sqlite3.OperationalError:
                    return found
                except sqlite3.Error as exc:
                    self._failed(exc)
                    return found
                for key, *row in rows:
                    if type(key) is str and all(type(v) is str for v in row[:3]) and row[2] == _checksum(key, row[:2]):
                        self._touch(db, key, row[3])
                        found[key] = (row[0], row[1])
        return found

    def _touch(self, db: sqlite3.Connection, key: str, used: Any) -> None:
        now = int(time.time())
        if type(used) is not int or now - used > REFRESH:
            try:
                db.execute(f"update {_TABLE} set used = ? where key = ?", (now, key))  # still in use: keep it
            except sqlite3.Error:
                pass

    def put(self, key: str, value: tuple[str, str, str, str]) -> None:
        if self._held is None:
            self._insert({key: value})
            return
        self._held[key] = value
        if len(self._held) >= HELD_ROWS:
            # A listing that renders thousands of bodies itself: memory stays flat.
            rows, self._held = self._held, {}
            self._insert(rows)

    def _insert(self, rows: dict[str, tuple[str, str, str, str]]) -> None:
        if not rows:
            return
        now = int(time.time())
        params = [(key, *value, _checksum(key, value), now, _checksum(key, (value[1], value[3])), _build) for key, value in rows.items()]
        with self._lock:
            db = self._db()
            if db is None:
                return
            try:
                db.execute("begin")
                try:
                    db.executemany(f"insert or replace into {_TABLE} (key, html, summary, toc, links, sum, used, summary_sum, build) values (?, ?, ?, ?, ?, ?, ?, ?, ?)", params)
                    db.execute("commit")
                except BaseException:
                    db.execute("rollback")
                    raise
            except sqlite3.OperationalError:
                pass  # still locked after the busy timeout, or a full disk: these bodies are not kept
            except sqlite3.Error as exc:
                self._failed(exc)

    def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None and self._pid == os.getpid():
            try:
                conn.close()
            except sqlite3.Error:
                pass

    def start(self, *, now: float | None = None) -> None:
        """Before a build (in the parent, before any worker exists): make the database if
        the site has content/ (so that workers do not race to make it), replace one sqlite
        reported as damaged, and prune rows no build used for KEEP seconds (at most once a
        day)."""
        now = time.time() if now is None else now
        note = self.path.with_name(self.path.name + ".corrupt")
        if not self.path.exists() and not note.exists() and not (self.site / "content").is_dir():
            return  # a site without content/: no database
        with self._lock:
            self.close()
            self.off = False
            try:
                if note.exists():
                    _remove_database(self.path)
                    note.unlink()
                self._conn = _connect(self.path)
            except (sqlite3.Error, OSError) as exc:
                if getattr(exc, "sqlite_errorcode", None) not in _CORRUPT:
                    self._failed(exc)
                    return
                try:  # not a database at all (a truncated or overwritten file): start again
                    _remove_database(self.path)
                    self._conn = _connect(self.path)
                except (sqlite3.Error, OSError) as again:
                    self._failed(again)
                    return
            self._prune(now)

    def _prune(self, now: float, *, force: bool = False) -> int:
        marker = self.path.with_name(".pruned")
        try:
            if not force and now - marker.stat().st_mtime < DAY:
                return 0
        except OSError:
            pass
        db = self._conn
        if db is None:
            return 0
        try:
            newest = db.execute(f"select max(used) from {_TABLE}").fetchone()[0]
            if newest is None:
                return 0
            deleted = db.execute(f"delete from {_TABLE} where used < ? or used is null", (newest - KEEP,)).rowcount
            left = db.execute(f"select count(*) from {_TABLE}").fetchone()[0]
            if deleted > max(100, left // 4):
                db.execute("vacuum")  # give the space back
            marker.touch()
        except sqlite3.OperationalError:
            return 0  # busy (a dev server?): another day
        except (sqlite3.Error, OSError) as exc:
            self._failed(exc)
            return 0
        return deleted


def _connect(path: Path) -> sqlite3.Connection:
    """A connection in WAL mode, the table made. Processes that start at once may find the
    database locked while one of them makes it (sqlite does not always wait for that):
    they try again for up to a second."""
    for attempt in range(20):
        try:
            return _open(path)
        except sqlite3.OperationalError as exc:
            if attempt == 19 or not busy(exc):
                raise
            time.sleep(0.01 + 0.005 * attempt)
    raise AssertionError("unreachable")


def busy(exc: sqlite3.Error) -> bool:
    """Whether sqlite refused for now (another process holds the database), not for good
    (it cannot be opened: a folder at its name, a dangling link, no room)."""
    return (getattr(exc, "sqlite_errorcode", 5) & 0xFF) in (5, 6)  # SQLITE_BUSY, SQLITE_LOCKED


def _open(path: Path) -> sqlite3.Connection:
    _make_folder(path)
    for name in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        if name.is_dir() and not name.is_symlink():
            shutil.rmtree(name, ignore_errors=True)  # .ssg-cache/ is ssg's: not a folder of the user's
    conn = sqlite3.connect(str(path), timeout=10, isolation_level=None, check_same_thread=False)
    try:
        if conn.execute("pragma journal_mode").fetchone()[0] != "wal":
            conn.execute("pragma journal_mode=wal")
        # No fsync, ever: this is a cache. Power lost mid-write may damage the file; sqlite
        # then reports it (the next build starts a new one), and a row damaged without
        # sqlite noticing fails its checksum. An fsync per checkpoint cost 0.1 ms per body.
        conn.execute("pragma synchronous=off")
        conn.execute(_CREATE)
        conn.execute(_INDEX)
        for old in _OLD_TABLES:  # bodies an earlier ssg wrote, in a layout this one does not read
            conn.execute(f"drop table if exists {old}")
    except BaseException:
        conn.close()
        raise
    return conn


def _remove_database(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        try:
            path.with_name(path.name + suffix).unlink()
        except FileNotFoundError:
            pass


def seal(data: bytes) -> bytes:
    """Data behind its CRC-32 (8 hex digits and a space): a flipped bit or a torn write is
    found when it is read, not trusted, where marshal or JSON would read most damage as
    other, valid, values (build.cache and its journal, files.json and its journal, the
    remote fetch cache's answers)."""
    return b"%08x " % zlib.crc32(data) + data


def unseal(sealed: bytes | memoryview) -> memoryview:
    """The data seal() sealed, as a view (build.cache is megabytes: not copied);
    ValueError when it is not what was written."""
    view = memoryview(sealed)
    data = view[9:]
    if len(view) < 9 or view[8] != 0x20 or view[:8] != b"%08x" % zlib.crc32(data):
        raise ValueError("its checksum does not match")
    return data


def _write_atomic(path: Path, data: bytes) -> bool:
    """Write a file so that readers see the old one or the new one, never a part: another
    process may write the same file at the same time."""
    tmp = path.parent / f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp"
    try:
        try:
            tmp.write_bytes(data)
        except FileNotFoundError:
            _make_folder(path)
            tmp.write_bytes(data)
        os.replace(tmp, path)
        return True
    except OSError:
        try:
            tmp.unlink()
        except OSError:
            pass
        return False  # a read-only site or a full disk: the cache only saves time


def _size(path: Path) -> int:
    try:
        return os.stat(path).st_size
    except OSError:
        return 0


def append(path: Path, data: bytes) -> bool:
    """Append one record to a journal below .ssg-cache/ in one write (O_APPEND: records of
    processes saving at once do not interleave); False when it cannot be written."""
    try:
        try:
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o666)
        except FileNotFoundError:
            _make_folder(path)
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o666)
        try:
            return os.write(fd, data) == len(data)
        finally:
            os.close(fd)
    except OSError:
        return False


def _make_folder(path: Path) -> None:
    """Make the folders of a cache file, but never the site's own (a site deleted since
    would come back); a new .ssg-cache/ is not for git, as the build cache does it."""
    cache = next((p for p in path.parents if p.name == ".ssg-cache"), None)
    if cache is None or not cache.parent.is_dir():
        raise FileNotFoundError(f"no site folder for {path}")
    path.parent.mkdir(parents=True, exist_ok=True)
    ignore = cache / ".gitignore"
    if not ignore.exists():
        ignore.write_text("*\n")


_caches: dict[Path, DiskCache] = {}


def for_root(root: Path) -> DiskCache:
    cache = _caches.get(root)
    if cache is None:
        cache = _caches[root] = DiskCache(root)
    return cache


def close() -> None:
    """Close this process's database connections (they reopen on next use)."""
    for cache in list(_caches.values()):
        if cache._bodies is not None:
            cache._bodies.close()


def save() -> None:
    """Write what this process added to each site's files.json."""
    for cache in list(_caches.values()):
        try:
            cache.save_index()
        except Exception:  # noqa: BLE001 - at exit or fork: the cache only saves time
            pass


def reset() -> None:
    """Forget what this process read from disk, as if it ended (tests and benchmarks)."""
    save()
    close()
    _caches.clear()


def _before_fork() -> None:
    # A forked worker must not use its parent's connection: close it (the parent reopens
    # it on next use). And write front matter parsed so far, so workers start clean.
    save()
    close()


def process_pool(jobs: int, **options: Any) -> ProcessPoolExecutor:
    """A pool of `jobs` forked processes (ProcessPoolExecutor's `options`) whose workers
    write what they add to the cache when they exit, as this process does at exit."""
    global _pools
    import multiprocessing.util
    from concurrent.futures import ProcessPoolExecutor

    if not _pools:
        multiprocessing.util.register_after_fork(_hook, _worker_started)
    _pools = True
    return ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("fork"), **options)


def stop_pool(pool: ProcessPoolExecutor) -> None:
    """End a pool's processes at once, mid-work (a build stopped). The executor has no
    public way to stop running work. SIGKILL, not SIGTERM: a process forked a moment ago
    still holds SIGTERM as the fork did (interrupts_held); they hold nothing to clean up.
    The pool's manager thread may then trip over the killed processes (Python 3.11 can
    raise in its terminate_broken): it is not heard from again (see _quiet_threads)."""
    global _print_thread_exception
    thread = getattr(pool, "_executor_manager_thread", None)
    if isinstance(thread, threading.Thread):
        _quiet_threads.add(thread)
        if threading.excepthook is not _thread_exception:
            _print_thread_exception, threading.excepthook = threading.excepthook, _thread_exception
    for process in list((getattr(pool, "_processes", None) or {}).values()):
        process.kill()
    pool.shutdown(wait=False, cancel_futures=True)


_quiet_threads: weakref.WeakSet[threading.Thread] = weakref.WeakSet()  # of pools stopped on purpose
_print_thread_exception = threading.excepthook  # the hook stop_pool() wraps


def _thread_exception(args: Any) -> None:
    """threading.excepthook, once a pool was stopped: its manager thread raising is no news."""
    if args.thread is not None and args.thread in _quiet_threads:
        return
    _print_thread_exception(args)


def _worker_started(_: object) -> None:
    # A multiprocessing worker leaves with os._exit, skipping atexit; its finalizers run
    # (registered here: the worker clears the ones it inherited).
    import multiprocessing.util

    multiprocessing.util.Finalize(None, save, exitpriority=10)


class _Hook:
    pass


_hook = _Hook()  # register_after_fork keeps a weak reference
_pools = False  # whether process_pool() registered _worker_started (each call would add it again)
os.register_at_fork(before=_before_fork)
atexit.register(save)
