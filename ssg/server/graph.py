"""What each render read, and what a batch of saved files touches: the dev server's record
of dependencies (Lektor's and Eleventy's idea: a page is current while what it read is).

Pure of I/O: `plan()` sorts a batch into what it means, `hits()` matches changes against
recorded deps, `DepGraph` keeps the record per render key.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field

from ..cache import is_code_file
from ..context import parts_of
from ..watch import Change

CONFIG_FILES = frozenset({"ssg.toml", "pyproject.toml"})


@dataclass
class Plan:
    """What one batch of changes means for the site."""

    changes: list[Change] = field(default_factory=list)  # the ones that concern sources
    config: bool = False
    structural: bool = False  # a route file or folder came or went: re-read the manifest
    site_code: bool = False  # lib/ modules, params/ matchers: anything may use them
    templates: bool = False
    content: bool = False
    python: list[Change] = field(default_factory=list)  # .py files saved
    css: list[str] = field(default_factory=list)  # stylesheets to swap, as paths inside static/: "/css/a.css"


def is_css(c: Change) -> bool:
    return c.path.startswith("static/") and c.path.endswith(".css") and c.kind != "deleted"


def plan(changes: list[Change], *, out: str, watched: Collection[str], code: Collection[str] = ()) -> Plan:
    """Given a batch, the output folder's name, the top-level folders watched and those
    holding the site's imported modules (lib/), return its Plan. Any file below a folder of
    code counts as code, as in the build (lib/authors.json, read by lib/authors.py).

    >>> plan([Change("content/a.md", "modified")], out="build", watched={"content"}).content
    True
    """
    result = Plan()
    for c in changes:
        top = c.path.split("/", 1)[0]
        if top == out or (c.is_dir and "/" not in c.path and top not in watched):
            continue  # the build output (an `ssg build` run beside us), or a folder no source lives in
        result.changes.append(c)
        if c.path in CONFIG_FILES:
            result.config = True
        elif c.path.endswith(".py") and not c.is_dir:
            result.python.append(c)
            if top in ("routes", "params"):  # the routes tree names matchers: checked on a rescan
                result.structural = result.structural or c.kind != "modified"
            if top != "routes" or not c.path.rpartition("/")[2].startswith("+"):
                result.site_code = True  # lib/, params/, or a helper beside the routes (routes/_shared.py)
        elif top == "routes":
            result.templates = True
            result.structural = result.structural or c.kind != "modified" or c.is_dir
        elif top == "static":
            if is_css(c):
                result.css.append(c.path[len("static"):])
        elif top == "content":
            result.content = True
        else:
            result.templates = True  # templates/, includes beside the config: anything a loader may read
            # A folder of site modules came or went, or a file beside them changed.
            result.site_code = result.site_code or c.is_dir or (top in code and is_code_file(c.path))
    return result


def hits(changes: list[Change], known: Collection[str]) -> set[str]:
    """Given changes and recorded deps, return the deps they touch: the file itself, and its
    front matter (which a listing records); a folder recorded as a dep that gained or lost
    a file (the content layer records `content/blog/` when it lists it); every dep inside
    a deleted folder.

    >>> sorted(hits([Change("content/b/new.md", "created")], {"content/b/", "content/b/a.md"}))
    ['content/b/']
    """
    found: set[str] = set()
    for c in changes:
        for part in parts_of(c.path):
            if part in known:
                found.add(part)  # a listing that read only its front matter or summary: which may have changed
        if c.path in known:
            found.add(c.path)
        if c.kind == "modified" and not c.is_dir:
            continue
        # Created: an editor's atomic save renames a new file over one a render read, but
        # the file may also be new to its folder (deleted, then back), though a page that
        # looked for it while it was gone recorded its name: the folder's listers too.
        parts = c.path.split("/")
        for i in range(1, len(parts)):
            folder = "/".join(parts[:i])
            found.update(d for d in (folder, folder + "/") if d in known)
        if c.is_dir or c.kind == "deleted":
            prefix = c.path + "/"
            found.update(d for d in known if d.startswith(prefix))
    return found


class DepGraph:
    """Per render key ("/blog/hello"): what its last render read, whether it failed, and the
    batch that last made it stale. Kept after a render is dropped, to know which tab to reload."""

    def __init__(self) -> None:
        self.deps: dict[str, frozenset[str]] = {}
        self.readers: dict[str, set[str]] = {}  # a dep -> the keys whose last render read it
        self.errors: set[str] = set()  # keys whose last render failed: any save may fix them
        self.stale_at: dict[str, int] = {}

    def record(self, key: str, deps: frozenset[str], *, failed: bool) -> bool:
        """Note a render; return True when it succeeded where the previous one had failed."""
        old = self.deps.get(key, frozenset())
        for dep in old - deps:
            keys = self.readers.get(dep)
            if keys is not None:
                keys.discard(key)
                if not keys:
                    del self.readers[dep]
        for dep in deps - old:
            self.readers.setdefault(dep, set()).add(key)
        self.deps[key] = deps
        recovered = key in self.errors and not failed
        (self.errors.add if failed else self.errors.discard)(key)
        return recovered

    def touched(self, changes: list[Change]) -> set[str]:
        """The keys whose last render read something these changes touch."""
        return {key for dep in hits(changes, self.readers) for key in self.readers.get(dep, ())}

    def mark_stale(self, keys: set[str], batch: int) -> None:
        for key in keys:
            self.stale_at[key] = batch

    def stale(self, key: str, version: int, batch: int) -> bool:
        """Whether a page served at `version` is out of date now, at `batch` (a tab that
        loaded it just before a save, and connects just after)."""
        if self.stale_at.get(key, 0) > version:
            return True  # a failing page is marked at every batch but one of stylesheets alone
        return batch > version and key not in self.deps
