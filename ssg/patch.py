"""An edit's shortcut: render only the paths that read what changed; keep the rest as it is.

The incremental build (prerender.py) replays every path of the previous build to rebuild
the crawl, the sitemap and `_headers`: work in proportion to the site, even for one
edited post. Yet when the last recorded build (uptodate.py) vouches for every file but a
few edited ones, and those are content files or route templates that `entries()` did
not read, the set of paths to build cannot change unless a page rendered again links,
names ids or answers differently than it did. So this shortcut:

1. finds the dependencies of the edited files whose hash changed, and the paths of the
   previous build that read one of them (or whose files in the output were damaged);
2. renders those paths, in this process, into a staging folder;
3. compares what each tells the crawl (links, ids, status, files, headers, ...) with the
   record; if all agree, moves their files into the output, writes 404.html and
   sitemap.xml again (a template or the time stamp may have changed them), and brings
   both records up to date.

Anything else leaves the work to the incremental build, with nothing written: a module or
static file changed, a file added or removed, a changed link or id, a path whose
entries() props must be read again, more than MAX_PATHS paths to render, or a previous
build in which a path answered an error (a link the crawl ignores or warns about: no
record says what it read, so an edit may make it answer).
"""

from __future__ import annotations

import dataclasses
import itertools
import sys
from collections.abc import Collection
from typing import TYPE_CHECKING

from . import workers
from .cache import FEW, FIELDS, Cache, Entry, is_code_file, site_modules
from .content import store as content
from .context import dep_file
from .output import Writer, signals_held
from .prerender import key, not_found_page, sitemap_xml
from .render import Done
from .site import SOURCE_DIRS, Site

if TYPE_CHECKING:
    from .uptodate import Check

MAX_PATHS = 64  # beyond this, the incremental build's worker processes are faster


def run(site: Site, cache: Cache, check: Check) -> list[tuple[str, str]] | None:
    """Given the site, its build cache and the no-change check that found edits, patch
    the output in place and return the paths rendered (with why), or None, having
    written nothing, when the edit needs the incremental build."""
    files = check.changed
    if not files or len(files) > FEW or not cache.previous_deps or cache.blocked or cache.previous_unrecorded:
        return None
    # Every file but the edited ones was listed without error by the last build.
    with content.current().trusting(edited=files):
        return _patch(site, cache, check, files)


def _patch(site: Site, cache: Cache, check: Check, files: set[str]) -> list[tuple[str, str]] | None:
    changed, unread = cache.changed_in(files)
    if any(not _editable(dep_file(dep)) for dep in changed) or any(_may_matter(rel, cache.previous_modules) for rel in unread):
        return None
    if cache.seed_changed(files) is not None:
        return None
    todo = _affected(cache, changed, check.damaged or set())
    if todo is None or len(todo) > MAX_PATHS:
        return None
    writer = Writer(site.config.out_dir, update=True)
    writer.start()
    try:
        loaded = set(sys.modules)
        dones = workers.loop().run_until_complete(workers.render_many(site, writer, sorted(todo), {}, crawl_links=site.config.prerender.crawl))
        if not all(_same(done, cache.previous(key(done.path))) for done in dones) or _new_site_code(site, cache, loaded):
            writer.abort()
            return None
        for rel in (rel for done in dones for rel in done.files):
            writer.claim(rel)
        extra: set[str] = set()
        workers.loop().run_until_complete(_extras(site, cache, writer, extra))
        with signals_held():  # Ctrl-C lands once the files and both records are in place
            cache.begin_patch()  # a build killed while it moves files in leaves no record to trust
            writer.commit(prune=False)
            cache.save_patch({key(d.path): d for d in dones})
            if cache.unsure:
                check.forget()  # a source may have come and gone while it ran: the next build looks again
            else:
                check.record_patch(sorted(writer.written), read={dep_file(dep) for dep in itertools.chain(extra, *(done.deps for done in dones))})
    except BaseException:
        writer.abort()
        raise
    finally:
        workers.loop().run_until_complete(site.aclose())
    return sorted(todo.items())


def _editable(rel: str) -> bool:
    """Whether an edit of this file read by some path can be patched in: content, or a
    route's template (not a module: it may change entries() or a page option)."""
    return rel.startswith("content/") or (rel.startswith("routes/") and rel.endswith(".html"))


def _may_matter(rel: str, site_code: Collection[str]) -> bool:
    """Whether a changed file that no path read could still shape the build: a static
    file (copied), a module, anything in a folder ssg reads, or a file beside the site's
    modules (see cache.site_modules)."""
    if rel.startswith(tuple(folder + "/" for folder in SOURCE_DIRS)) or rel.endswith(".py") or rel in site_code:
        return True
    code_folders = tuple(code for code in site_code if code.endswith("/"))
    return rel.startswith(code_folders) and is_code_file(rel)


def _affected(cache: Cache, changed: dict[str, str], damaged: set[str]) -> dict[str, str] | None:
    """The previous build's paths that read a changed dep or lost a file, with why; None
    when one of them got props from entries() (only a full seed can give them again), or
    when a damaged file is none of theirs (or a record cannot be read)."""
    numbers = cache.previous_numbers(changed)
    todo = {k: changed[numbers[i]] for k, i in cache.previous_readers(numbers.keys())}
    # A damaged file is found by its path's record, each of which is read for it: rare.
    suspects = list(cache.previous_deps) if damaged else list(todo)
    files_at = FIELDS["files"]
    owned: set[str] = set()
    for k in suspects:
        recorded = cache.previous_record(k)
        if recorded is None:
            return None
        fields, props = recorded
        files = fields[files_at]
        if k not in todo:
            if damaged.isdisjoint(files):
                continue
            todo[k] = "its files in the output were changed or deleted"
        if props != "":
            return None
        owned.update(files)
    # 404.html and sitemap.xml are written again anyway.
    if damaged - owned - {"404.html", "sitemap.xml"}:
        return None
    return todo


def _new_site_code(site: Site, cache: Cache, loaded: set[str]) -> bool:
    """Whether the paths rendered imported site code the last build's key does not name
    (a module a load imports only for some posts): only a full build records it."""
    files = [file for name in sys.modules.keys() - loaded if (file := getattr(sys.modules.get(name), "__file__", None))]
    return bool(files) and not cache.previous_modules.keys() >= set(site_modules(site.root, files, this_process=False))


def _same(done: Done, previous: Entry | None) -> bool:
    """Whether a path rendered again tells the crawl and the extras what it told before:
    every field of its record but the deps (which go into the cache) the same."""
    if previous is None or any("://" in dep for dep in done.deps):
        return False
    old = previous.done
    return done.needs_client == old.needs_client and dataclasses.replace(done, deps=old.deps, digests=old.digests) == old


async def _extras(site: Site, cache: Cache, writer: Writer, read: set[str]) -> None:
    """404.html and sitemap.xml, as the full build writes them (the rest of the extras
    depend only on the paths' records, which did not change, and on static/); what
    404.html read goes into `read` (and is checked: see Cache.check_reads)."""
    digests: dict[str, tuple[int, int, str]] = {}
    writer.write("404.html", await not_found_page(site, read, digests))
    cache.check_reads(read, digests)
    if site.config.origin:
        writer.write("sitemap.xml", sitemap_xml(site, cache.previous_pages))
