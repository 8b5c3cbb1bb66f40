"""Content files, one version at a time: `Files` parses each once per (mtime, size), keeps
its front matter from the disk cache when it can, and holds what rendering it produced.

Memory stays flat however many files a site has: a `Parsed` keeps no body text (the
render reads the file again), and only the last WHOLE_BODIES rendered bodies stay whole;
the others keep their summary, which listings show, and come back from the disk cache
(`.ssg-cache/content/`) when a page asks for their HTML again.
"""

from __future__ import annotations

import dataclasses
import os
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import diskcache, frontmatter, schema as schema_mod
from .errors import ContentError
from .frontmatter import Lines
from ..interrupts import interrupts_held
from ..uptodate import CACHE, changed_at
from .markdown import RenderedBody
from .schema import Schema

WHOLE_BODIES = 64  # rendered bodies kept whole in memory per process (the rest: summaries)


@dataclass(slots=True)
class Rendered:
    body: RenderedBody  # whole, or (once evicted, see Files.keep) its summary alone
    page_url: str | None
    links: tuple[tuple[str, str], ...]  # (.md file or site path, URL it became) for each such link
    engine: str | None  # the identity of the engine (and its options) that rendered it
    whole: bool = True


@dataclass(slots=True)
class Parsed:
    """One version of one file: what it says, and its rendering once something asked.

    The body's text is read when first needed: front matter from the disk cache comes
    without it, and a body rendered before comes from the cache by its hash. So are the
    lines of its keys, which only messages need: the cache keeps them as a JSON string."""

    rel: str
    stamp: tuple[int, int]
    data: dict[str, Any] = field(default_factory=dict)
    known_lines: Lines | None = field(default_factory=dict)  # None: `cached_lines` not decoded yet
    text: str | None = None  # the body, once read
    body_line: int = 1
    error: ContentError | None = None
    rendered: Rendered | None = None
    body_hash: str = ""
    file_hash: str = ""  # of the bytes parsed (for the disk cache's record)
    front_hash: str = ""  # of the front matter block parsed (see front_matter_digest)
    root: Path | None = None
    cached_lines: str = ""  # the disk cache's record of the lines
    moved_on: bool = False  # the body read is not the one parsed: the file changed since (its stamp is not the body's)

    @property
    def lines(self) -> Lines:
        """Where each key is (see frontmatter.Lines)."""
        if self.known_lines is None:
            try:
                self.known_lines = diskcache.decode_lines(self.cached_lines)
            except (ValueError, TypeError):
                self.known_lines = self._parse_lines()  # a damaged record
        return self.known_lines

    def _parse_lines(self) -> Lines:
        assert self.root is not None
        try:
            raw = read_file(os.path.join(self.root, self.rel))
            return frontmatter.parse(frontmatter.decode(raw, self.rel), self.rel)[1]
        except (OSError, ContentError):
            return {}  # the file changed since: its next read reports it

    @property
    def lines_on_demand(self) -> Mapping[tuple[Any, ...], int]:
        """Its lines for schema.check: decoded only if a message or a conversion looks one up."""
        return self.known_lines if self.known_lines is not None else _LazyLines(self)

    @property
    def body(self) -> str:
        if self.text is None:
            assert self.root is not None
            try:
                raw = read_file(os.path.join(self.root, self.rel))
            except OSError:
                raise ContentError(self.rel, None, "does not exist") from None
            _, body, body_line = frontmatter.split(frontmatter.decode(raw, self.rel), self.rel)
            # Normally the body the cached front matter came with; if the file changed
            # since, the hash follows the text, so a rendering is never filed under another body.
            digest = text_digest(body)
            self.moved_on = digest != self.body_hash != ""
            self.text, self.body_line, self.body_hash = body, body_line, digest
        return self.text


class _LazyLines(Mapping):
    """A Parsed's lines, decoded when check() first looks one up: only a message or a
    conversion does, so listing files whose front matter fits their schema decodes none."""

    __slots__ = ("_parsed",)

    def __init__(self, parsed: Parsed) -> None:
        self._parsed = parsed

    def __getitem__(self, key: tuple[Any, ...]) -> int:
        return self._parsed.lines[key]

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        return iter(self._parsed.lines)

    def __len__(self) -> int:
        return len(self._parsed.lines)


def read_file(path: str) -> bytes:
    """A whole file, with plain os calls: a build reads every content file, most of them
    twice (front matter, then the body to render), and pathlib's read_bytes() cost more
    than twice as much."""
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        chunks = []
        while chunk := os.read(fd, 1 << 20):
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


PREFETCH_MIN = 200  # files to parse before forking for them pays off
_prefetching: Files | None = None  # the Files a prefetch's forked processes read for
_early: Parse | None = None  # the parse start_prefetch() began, until a scan takes it or it ends


class Parse:
    """Content files being parsed on forked processes (_fork_parse): take() what they
    parsed, or cancel()."""

    def __init__(self, root: Path, pool: Any) -> None:
        self.root = root
        self.pool = pool
        self.futures: list[Any] = []

    def take(self) -> list[tuple[Parsed, list | None]]:
        """What the processes parsed (waiting for it); they end."""
        self._forget()
        try:
            found = [hit for future in self.futures for hit in future.result()]
        except Exception:  # noqa: BLE001 - a process died (killed, out of memory): parsed here instead
            found = []
        except BaseException:  # Ctrl-C while waiting: the processes are not waited for
            self.cancel()
            raise
        self.pool.shutdown()
        return found

    def cancel(self) -> None:
        """End the processes at once, mid-parse (the build stopped, or took nothing)."""
        self._forget()
        diskcache.stop_pool(self.pool)

    def _forget(self) -> None:
        global _early
        if _early is self:
            _early = None


def _fork_parse(files: Files, rels: list[str], jobs: int) -> Parse | None:
    """Start parsing `rels` for `files` on `jobs` forked processes; None when there are no
    processes to be had (a limit, a sandbox): Files.get then parses each in turn."""
    global _prefetching
    _prefetching = files
    parse = None
    try:
        parse = Parse(files.root, diskcache.process_pool(jobs, initializer=_parse_started, initargs=(os.getpid(),)))
        with interrupts_held():  # the first submit forks the processes
            parse.futures.extend(parse.pool.submit(_read_part, rels[i::jobs]) for i in range(jobs))
    except BaseException as exc:
        if parse is not None:
            parse.cancel()  # also on a Ctrl-C held meanwhile: no process is left to wait for
        if isinstance(exc, (OSError, RuntimeError)):
            return None
        raise
    finally:
        _prefetching = None
    return parse


def start_prefetch(root: Path, rels: list[str], jobs: int, *, fresh: bool) -> Parse | None:
    """Before a cold build imports its renderer: start parsing the site's content files
    (among `rels`) on `jobs` processes, for Files.prefetch to take. The imports and the
    set-up before the first collection scan left a core idle. Only for a first build (no
    build cache, no parsed front matter: files.json or its journal), or with --fresh:
    otherwise most files need no parsing, or an edit's shortcut needs none at all. Returns
    the parse, for the build to cancel() if it stops before a scan takes it."""
    global _early
    rels = [rel for rel in rels if rel.startswith("content/") and rel.endswith(".md")]
    if jobs < 2 or len(rels) < PREFETCH_MIN or _early is not None:
        return None
    kept = [*(root / ".ssg-cache" / name for name in CACHE), *(root / diskcache.FOLDER / name for name in (diskcache.INDEX, diskcache.JOURNAL))]
    if not fresh and any(path.exists() for path in kept):
        return None
    diskcache.configure(read=not fresh, write=True)  # as start_build() will: --fresh reads none
    _early = _fork_parse(Files(root), rels, jobs)
    return _early


def end_prefetch() -> None:
    """Once the build has seeded its queue: end a parse no collection scan took, before
    the render workers are forked."""
    if _early is not None:
        _early.cancel()


def _parse_started(parent: int) -> None:
    """In a parsing process: as in a render worker, Ctrl-C is the build's to handle (it
    ends the processes), and a build killed outright takes them along."""
    from ..interrupts import leave_stops_to

    leave_stops_to(parent)


def _take_early(root: Path) -> list[tuple[Parsed, list | None]]:
    """What start_prefetch() parsed for this root, if it began one."""
    return _early.take() if _early is not None and _early.root == root else []


def _read_part(rels: list[str]) -> list[tuple[Parsed, list | None]]:
    """In a prefetch process: some files' front matter, from the disk cache or parsed
    (then with the disk cache's record of it), sent back without their root."""
    files = _prefetching
    assert files is not None, "_read_part runs only inside Files.prefetch"
    out: list[tuple[Parsed, list | None]] = []
    for rel in rels:
        try:
            stamp = files._stamp(rel)
        except ContentError:
            continue
        hit = files._cached(rel, stamp)
        record = None
        if hit is None:
            hit = files._parse(rel, stamp)
            if hit.error is not None:
                continue  # get() parses it again and reports it
            record = _record(hit)
            if record is not None:
                # Its lines go back as the record's JSON text, decoded only for a message,
                # as from the disk cache: a quarter less to unpickle and to keep, in the
                # parent and in every render worker it forks.
                hit.known_lines, hit.cached_lines = None, record[-1]
        hit.root = None
        out.append((hit, record))
    return out


def _record(parsed: Parsed) -> list | None:
    """The disk cache's record of a parsed file, or None when it is not to be kept."""
    if not diskcache.writing() or not parsed.file_hash:
        return None
    try:
        return [*parsed.stamp, parsed.file_hash, parsed.body_hash, parsed.body_line,
                diskcache.encode_data(parsed.data), diskcache.encode_lines(parsed.lines)]
    except diskcache.Unencodable:
        return None


def front_matter_digest(text: str, rel: str) -> str:
    """Of a file's front matter block: what a page that reads no body of it depends on."""
    return text_digest(frontmatter.split(text, rel)[0] or "")


def text_digest(text: str) -> str:
    """Of a body (a rendering's key) or of its summary HTML (what a listing that shows it
    depends on)."""
    return diskcache.digest(text.encode("utf-8", "surrogatepass"))


class Files:
    """Parsed files of one site root, valid while a file's (mtime, size) is unchanged."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.prefix = os.path.join(root, "")  # + a site-relative path: its path as a str, no Path made
        self.disk = diskcache.for_root(root)
        self.parsed: dict[str, Parsed] = {}
        self.whole: OrderedDict[str, Parsed] = OrderedDict()  # rendered bodies kept whole, oldest first
        self.schemas: dict[str, tuple[tuple[int, int], Schema | ContentError]] = {}
        # Files known to have changed since the last build (the edit shortcut): parsed
        # without a look at files.json, which would be loaded whole for a stale record.
        self.edited: set[str] = set()

    def keep(self, parsed: Parsed) -> None:
        """Keep a rendered body whole (the pages of one path ask for its HTML, TOC and
        summary in turn); past WHOLE_BODIES, the oldest keeps only its summary, so memory
        stays flat however many files a process renders."""
        self.whole[parsed.rel] = parsed
        self.whole.move_to_end(parsed.rel)
        while len(self.whole) > WHOLE_BODIES:
            _, old = self.whole.popitem(last=False)
            if old.rendered is not None and old.rendered.whole:
                body = old.rendered.body
                old.rendered = dataclasses.replace(old.rendered, body=RenderedBody("", (), body.summary), whole=False)

    def _stamp(self, rel: str) -> tuple[int, int]:
        try:
            st = os.stat(self.prefix + rel)
        except (FileNotFoundError, NotADirectoryError):
            raise ContentError(rel, None, "does not exist") from None
        return changed_at(st), st.st_size

    def get(self, rel: str) -> Parsed:
        stamp = self._stamp(rel)
        hit = self.parsed.get(rel)
        if hit is None or hit.stamp != stamp:
            hit = self._cached(rel, stamp) if rel not in self.edited else None
            if hit is None:
                hit = self._parse(rel, stamp)
                if hit.error is None:
                    self._remember(hit)
            self.parsed[rel] = hit
        if hit.error is not None:
            raise hit.error.again()
        return hit

    def prefetch(self, rels: list[str], jobs: int) -> None:
        """Parse many files on `jobs` processes at once (a collection's first scan in a
        build): front matter is most of a cold scan, and the render workers are not
        forked before it. Files that fail are left for get(), which reports them."""
        self._add(_take_early(self.root))
        if jobs < 2:
            return
        todo = [rel for rel in rels if rel not in self.parsed and not self._recorded(rel)]
        if len(todo) < PREFETCH_MIN:
            return
        parse = _fork_parse(self, todo, jobs)
        if parse is not None:
            self._add(parse.take())

    def _add(self, found: list[tuple[Parsed, list | None]]) -> None:
        """Take what prefetch processes parsed (Files.get checks each against its file)."""
        for hit, record in found:
            hit.root = self.root
            self.parsed[hit.rel] = hit
            if record is not None:
                self.disk.remember(hit.rel, record)

    def _recorded(self, rel: str) -> bool:
        """Whether the disk cache holds this version of the file (same mtime and size)."""
        record = self.disk.lookup(rel)
        if record is None:
            return False
        try:
            st = os.stat(self.prefix + rel)
        except OSError:
            return False
        return record[0] == changed_at(st) and record[1] == st.st_size

    def _parse(self, rel: str, stamp: tuple[int, int]) -> Parsed:
        try:
            raw = read_file(self.prefix + rel)
            text = frontmatter.decode(raw, rel)
            data, lines, body, body_line = frontmatter.parse(text, rel)
        except ContentError as exc:
            return Parsed(rel, stamp, error=exc, root=self.root)
        # The body's text is not kept: at 40,000 files it would hold hundreds of MB that
        # only the render needs, which reads the file again.
        return Parsed(rel, stamp, data, lines, None, body_line, body_hash=text_digest(body),
                      file_hash=diskcache.digest(raw), front_hash=front_matter_digest(text, rel), root=self.root)

    # -- the disk cache's front matter -------------------------------------------------------

    def _cached(self, rel: str, stamp: tuple[int, int]) -> Parsed | None:
        """The file's front matter from the disk cache, if it holds this version: the same
        (mtime, size) without reading the file, else the same bytes without parsing YAML."""
        record = self.disk.lookup(rel)
        if record is None:
            return None
        try:
            mtime, size, file_hash, body_hash, body_line, data, lines = record
            text: str | None = None
            if mtime != stamp[0] or size != stamp[1]:
                raw = read_file(self.prefix + rel)
                if diskcache.digest(raw) != file_hash:
                    return None
                # The same bytes with a new mtime (a fresh checkout): note the new stamp.
                record[0], record[1] = stamp
                self.disk.remember(rel, record)
                _, _, body_line = frontmatter.split(frontmatter.decode(raw, rel), rel)
            if type(body_hash) is not str or type(body_line) is not int or type(lines) is not str:
                return None
            found = diskcache.decode_data(data)
            if type(found) is not dict:
                return None
            return Parsed(rel, stamp, found, None, text, body_line, body_hash=body_hash, root=self.root, cached_lines=lines)
        except (OSError, ValueError, TypeError, AttributeError, ContentError):
            return None  # a damaged record, or a file that changed under us: parse it

    def _remember(self, parsed: Parsed) -> None:
        record = _record(parsed)
        if record is not None:
            self.disk.remember(parsed.rel, record)

    def schema(self, rel: str) -> Schema:
        stamp = self._stamp(rel)
        hit = self.schemas.get(rel)
        if hit is None or hit[0] != stamp:
            try:
                value: Schema | ContentError = schema_mod.parse(frontmatter.decode(read_file(self.prefix + rel), rel), rel)
            except ContentError as exc:
                value = exc
            hit = self.schemas[rel] = (stamp, value)
        if isinstance(hit[1], ContentError):
            raise hit[1].again()
        return hit[1]


