"""Incremental builds: after any edit, a build that reuses the cache writes exactly what a
clean build of the same sources writes, byte for byte."""

from __future__ import annotations

import marshal
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import SITES, run_ssg

from ssg import config as config_mod
from ssg.cache import FORMAT as cache_format, MAGIC, site_key
from ssg.content.diskcache import seal, unseal
from ssg.site import Site

EPOCH = "1700000000"


def env() -> dict[str, str]:
    return {**os.environ, "SOURCE_DATE_EPOCH": EPOCH}


def build(site: Path, out: Path, *args: str):
    result = run_ssg("build", "-C", str(site), "--out", str(out), *args, env=env())
    assert result.returncode == 0, result.stderr
    return result


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def edit(site: Path, rel: str, old: str, new: str) -> None:
    path = site / rel
    text = path.read_text()
    assert old in text, f"{rel} has no {old!r}"
    path.write_text(text.replace(old, new))


def add_post(site: Path) -> None:
    (site / "content/posts/post-5.md").write_text("---\ntitle: Post 5\ndate: 2024-05-01\ntags: [new]\n---\nFifth.\n")


EDITS = {
    "post body": lambda s: edit(s, "content/posts/post-2.md", "More text.", "Changed text."),
    "post summary": lambda s: edit(s, "content/posts/post-2.md", "Body of post 2", "First paragraph of post 2"),
    "post date reorders the index": lambda s: edit(s, "content/posts/post-1.md", "2024-01-01", "2025-01-01"),
    "post tags": lambda s: edit(s, "content/posts/post-3.md", "tags: [t1, all]", "tags: [t1, all, fresh]"),
    "template include": lambda s: edit(s, "templates/footer.html", "footer v1", "footer v2"),
    "layout": lambda s: edit(s, "routes/+layout.html", "<nav>", "<nav class=main>"),
    "+page.py": lambda s: edit(s, "routes/tags/[tag]/+page.py", '"tag": event.params["tag"]', '"tag": event.params["tag"].upper()'),
    "site module imported by a load": lambda s: edit(s, "lib/site.py", '"Incremental"', '"Renamed"'),
    "config": lambda s: edit(s, "ssg.toml", "inc.example.com", "other.example.com"),
    "static file fetched by a load": lambda s: edit(s, "static/data.json", "v1", "v2"),
    "static file copied": lambda s: edit(s, "static/style.css", "black", "navy"),
    "post deleted": lambda s: (s / "content/posts/post-4.md").unlink(),
    "post added": add_post,
    "entries() result": lambda s: edit(s, "lib/site.py", '["a", "b"]', '["a", "c"]'),
}


@pytest.mark.parametrize("name", list(EDITS))
def test_incremental_build_equals_clean_build(tmp_path, name):
    incremental, clean = tmp_path / "inc", tmp_path / "clean"
    shutil.copytree(SITES / "incremental", incremental)
    out_inc, out_clean = tmp_path / "out-inc", tmp_path / "out-clean"
    build(incremental, out_inc)
    EDITS[name](incremental)
    result = build(incremental, out_inc, "--explain")
    shutil.copytree(incremental, clean, ignore=shutil.ignore_patterns(".ssg-cache"))
    build(clean, out_clean, "--fresh")
    assert snapshot(out_inc) == snapshot(out_clean)
    if name == "static file copied":  # no page reads it: copied again, nothing rendered
        assert "navy" in (out_inc / "style.css").read_text() and not re.search(r"^rendered /", result.stderr, re.M), result.stderr
    else:
        assert re.search(r"^rendered /", result.stderr, re.M), "the edit must make something render again"


def test_a_templates_folder_that_is_a_symlink_is_in_the_site_wide_key(tmp_path):
    """Includes may be named at run time, so every file in templates/ is part of the key,
    also when templates/ is a symlink (to a theme, say)."""
    site = tmp_path / "site"
    shutil.copytree(SITES / "incremental", site)
    (site / "theme").mkdir()
    (site / "templates").rename(site / "theme/templates")
    (site / "templates").symlink_to("theme/templates")
    (site / "templates/__pycache__").mkdir()
    (site / "templates/__pycache__/x.pyc").write_bytes(b"")
    key = site_key(Site(config_mod.load(site)), "engine")["templates, params and schemas"]
    edit(site, "theme/templates/footer.html", "footer v1", "footer v2")
    edited = site_key(Site(config_mod.load(site)), "engine")["templates, params and schemas"]
    assert edited != key
    (site / "templates/__pycache__/y.pyc").write_bytes(b"")
    assert site_key(Site(config_mod.load(site)), "engine")["templates, params and schemas"] == edited, "not __pycache__"


def rendered_paths(stderr: str) -> set[str]:
    return set(re.findall(r"^rendered (\S+):", stderr, re.M))


def test_no_change_build_has_nothing_to_do_and_writes_nothing(tmp_path):
    site = tmp_path / "site"
    shutil.copytree(SITES / "incremental", site)
    build(site, tmp_path / "out")
    before = statuses(tmp_path / "out")
    result = build(site, tmp_path / "out", "--explain")
    assert "nothing changed since the last build: its 12 paths are up to date" in result.stderr, result.stderr
    assert rendered_paths(result.stderr) == set()
    assert statuses(tmp_path / "out") == before, "not one output file may be written again"


def test_a_touched_source_reuses_every_path(tmp_path):
    site = tmp_path / "site"
    shutil.copytree(SITES / "incremental", site)
    build(site, tmp_path / "out")
    before = snapshot(tmp_path / "out")
    os.utime(site / "content/posts/post-2.md")  # a new time stamp, the same bytes
    result = build(site, tmp_path / "out", "--explain")
    assert rendered_paths(result.stderr) == set()
    assert re.search(r"(\d+) of \1 paths (reused|kept)", result.stderr), result.stderr
    assert snapshot(tmp_path / "out") == before


def statuses(folder: Path) -> dict[str, tuple[int, int]]:
    return {p.relative_to(folder).as_posix(): (p.stat().st_ino, p.stat().st_mtime_ns) for p in folder.rglob("*") if p.is_file()}


def build_after_edit(tmp_path: Path, rel: str, old: str, new: str):
    """Build the incremental site, edit one file, build again with --explain; return that build."""
    site = tmp_path / "site"
    shutil.copytree(SITES / "incremental", site)
    build(site, tmp_path / "out")
    edit(site, rel, old, new)
    return build(site, tmp_path / "out", "--explain")


def test_one_post_edit_renders_exactly_the_pages_that_read_it(tmp_path):
    result = build_after_edit(tmp_path, "content/posts/post-2.md", "More text.", "Changed text.")
    # The post and the one listing that shows its body (the index); not the tag pages and the
    # endpoint, which list only slugs and titles, nor the other posts.
    assert rendered_paths(result.stderr) == {"/", "/posts/post-2"}
    assert "rendered /posts/post-2: content/posts/post-2.md changed" in result.stderr


def test_a_first_paragraph_edit_renders_the_listings_that_show_its_summary(tmp_path):
    result = build_after_edit(tmp_path, "content/posts/post-2.md", "Body of post 2", "First paragraph of post 2")
    # The tag pages show summaries: unlike a later paragraph's edit, this one reaches them.
    assert rendered_paths(result.stderr) == {"/", "/posts/post-2", "/tags/t0", "/tags/all"}
    assert "rendered /tags/t0: the summary of content/posts/post-2.md changed" in result.stderr
    assert "First paragraph of post 2" in (tmp_path / "out/tags/t0/index.html").read_text()


def test_a_front_matter_edit_renders_every_listing_that_reads_it(tmp_path):
    result = build_after_edit(tmp_path, "content/posts/post-2.md", "title: Post 2", "title: Post Two")
    # Every listing reads every entry's front matter (tagged() reads the tags of all).
    assert {"/", "/posts/post-2", "/tags/t0", "/tags/all", "/tags/t1", "/api/posts.json"} <= rendered_paths(result.stderr)
    assert not {"/posts/post-1", "/posts/post-3", "/about"} & rendered_paths(result.stderr)
    assert "rendered /tags/t1: the front matter of content/posts/post-2.md changed" in result.stderr
    assert "Post Two" in (tmp_path / "out/api/posts.json").read_text()


def test_fresh_renders_everything(tmp_path):
    site = tmp_path / "site"
    shutil.copytree(SITES / "incremental", site)
    build(site, tmp_path / "out")
    result = build(site, tmp_path / "out", "--fresh", "--explain")
    assert "reused" not in result.stderr
    assert "rendered /posts/post-1: --fresh" in result.stderr


def read_record(data: bytes) -> dict:
    """build.cache's record, from its bytes."""
    return marshal.loads(unseal(data[len(MAGIC):]))


def record_bytes(raw: dict) -> bytes:
    """build.cache's bytes for a record, sealed as ssg seals it."""
    return MAGIC + seal(marshal.dumps(raw))


def _deps_cut_short(data: bytes) -> bytes:
    raw = read_record(data)
    k = next(iter(raw["deps"]))
    raw["deps"][k] = raw["deps"][k][:-1] or b"\x01"
    return record_bytes(raw)


def _stats_changed(data: bytes, change) -> bytes:
    raw = read_record(data)
    raw["stats"] = change(raw["stats"])
    return record_bytes(raw)


def _bit_flipped(data: bytes) -> bytes:
    """One bit of the record flipped (in a path's links: marshal reads it as another valid string)."""
    at = data.index(b"/about", len(MAGIC) + 9)
    return data[:at] + bytes([data[at] ^ 0x20]) + data[at + 1 :]


@pytest.mark.parametrize("damage", ["truncate", "garbage", "one bit flipped", "a folder", "wrong shape", "deps cut short", "stats as a dict", "stats cut short", "a stat named by a number"])
def test_corrupt_cache_is_ignored_with_a_warning(tmp_path, damage):
    site = tmp_path / "site"
    shutil.copytree(SITES / "incremental", site)
    build(site, tmp_path / "out")
    expected = snapshot(tmp_path / "out")
    cache = site / ".ssg-cache/build.cache"
    data = cache.read_bytes()
    if damage == "a folder":
        cache.unlink()
        cache.mkdir()
        (cache / "x").write_text("not ssg's")
        result = build(site, tmp_path / "out", "--explain")
        assert "the build cache is not a file" in result.stderr and "reused" not in result.stderr
        assert snapshot(tmp_path / "out") == expected and cache.is_file()
        return
    cache.write_bytes({
        "one bit flipped": _bit_flipped(data),
        "truncate": data[: len(data) // 2],
        "garbage": b"\x00\x01 not a cache",
        "wrong shape": marshal.dumps({"format": cache_format, "key": {}, "out": 3, "paths": {"/": ("x",)}}),
        "deps cut short": _deps_cut_short(data),
        "stats as a dict": _stats_changed(data, lambda stats: {"content/posts/post-1.md": [1, 2, "x", False]}),
        "stats cut short": _stats_changed(data, lambda stats: (stats[0], stats[1], stats[2][:-8])),
        "a stat named by a number": _stats_changed(data, lambda stats: (marshal.dumps([5, *marshal.loads(stats[0])[1:]]), stats[1], stats[2])),
    }[damage])
    result = build(site, tmp_path / "out", "--explain")
    assert "the build cache is unreadable" in result.stderr
    assert "reused" not in result.stderr
    assert snapshot(tmp_path / "out") == expected


@pytest.mark.parametrize("what", ["a file", "a link to nothing"])
def test_a_cache_folder_that_is_not_a_folder_is_left_alone_with_a_warning(tmp_path, what):
    """.ssg-cache as a file, or a link to a folder that is not there (a CI cache path not
    restored): the build warns, renders everything and exits 0, every time."""
    site = tmp_path / "site"
    shutil.copytree(SITES / "incremental", site)
    build(site, tmp_path / "clean")
    shutil.rmtree(site / ".ssg-cache")
    if what == "a file":
        (site / ".ssg-cache").write_text("not a folder\n")
    else:
        (site / ".ssg-cache").symlink_to(tmp_path / "restored-later")
    for _ in range(2):
        result = build(site, tmp_path / "out")
        assert "Traceback" not in result.stderr
        assert f"{site / '.ssg-cache'} is not a folder, so the build cache cannot be kept" in result.stderr
        assert snapshot(tmp_path / "out") == snapshot(tmp_path / "clean")
    assert (site / ".ssg-cache").is_symlink() or (site / ".ssg-cache").read_text() == "not a folder\n"


def interrupted_build(site: Path, out: Path) -> None:
    """`ssg build` with a Ctrl-C already waiting: held until the output is in place, it
    lands there ("interrupted once the new output was in place")."""
    starter = "import os, signal, sys; signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT}); os.kill(os.getpid(), signal.SIGINT); os.execv(sys.executable, [sys.executable, *sys.argv[1:]])"
    result = subprocess.run([sys.executable, "-c", starter, "-m", "ssg.cli", "build", "-C", str(site), "--out", str(out)],
                            env=env(), capture_output=True, text=True)
    assert result.returncode == 130 and "interrupted once the new output was in place" in result.stderr, result.stderr


@pytest.mark.parametrize("then", ["the output is deleted", "a new page is edited by hand"])
def test_a_build_interrupted_once_its_output_is_in_place_has_recorded_it(tmp_path, then):
    """The held Ctrl-C lands after both records of the new output (the build cache and the
    no-change record) are written: the next build trusts neither one about the other's build."""
    site = tmp_path / "site"
    shutil.copytree(SITES / "incremental", site)
    out = tmp_path / "out"
    build(site, out)
    (site / "routes/added").mkdir()
    (site / "routes/added/+page.html").write_text("<h1>Added</h1>\n")
    edit(site, "routes/+layout.html", "<nav>", '<nav><a href="/added/">Added</a>')
    interrupted_build(site, out)
    if then == "the output is deleted":
        shutil.rmtree(out)
    else:
        (out / "added/index.html").write_text("edited by hand")
        edit(site, "static/style.css", "black", "navy")  # something to do: the search for damage runs
    build(site, out)
    build(site, tmp_path / "clean", "--fresh")
    assert snapshot(out) == snapshot(tmp_path / "clean")


def test_a_file_saved_between_its_stat_and_its_read_gets_no_hash_to_trust(tmp_path, monkeypatch):
    """The stat cache pairs a file's stamp with the hash of what was read: a save landing
    between the two would pair the old stamp with the new contents, and the next build
    would trust them. Such a file gets a hash no file has, and no stat entry."""
    import builtins

    from ssg import cache as cache_mod

    (tmp_path / "a.txt").write_text("one")

    def saving_open(path, *args, **kwargs):
        with builtins.open(path, "a") as f:
            f.write(" and two")
        return builtins.open(path, *args, **kwargs)

    hasher = cache_mod.Hasher(tmp_path, cache_mod.Stats())
    monkeypatch.setattr(cache_mod, "open", saving_open, raising=False)
    assert hasher("a.txt") == cache_mod.SAVED_MEANWHILE
    assert hasher.stats.get("a.txt") is None
    monkeypatch.undo()
    assert cache_mod.Hasher(tmp_path, cache_mod.Stats())("a.txt") not in (None, cache_mod.SAVED_MEANWHILE)


def test_a_source_read_in_two_versions_by_one_build_has_no_hash(tmp_path):
    """Two workers read a template before and after it was saved: whichever the parent
    learns last, the pages that showed the other must render again next time."""
    from ssg import cache as cache_mod

    (tmp_path / "a.html").write_text("B")
    hasher = cache_mod.Hasher(tmp_path, cache_mod.Stats())
    hasher.learn({"a.html": (1_000, 1, "hash of B")})
    assert hasher("a.html") == "hash of B"
    hasher.learn({"a.html": (999, 1, "hash of A")})
    assert hasher("a.html") is None
    hasher.learn({"a.html": (1_000, 1, "hash of B")})
    assert hasher("a.html") is None
    assert hasher.stats.get("a.html")[:3] == [1_000, 1, "hash of B"], "each stat entry still pairs a version with its hash"


def test_the_stat_cache_reads_its_table_an_entry_at_a_time(monkeypatch):
    from ssg import cache as cache_mod

    stats = {f"content/p{i:03}.md": [1_700_000_000_000_000_000 + i, 100 + i, f"h{i}", i % 7 == 0] for i in range(300)}
    table = cache_mod.Stats(cache_mod._packed_stats(stats))
    assert table.get("content/p007.md") == [1_700_000_000_000_000_007, 107, "h7", True]
    assert table.get("content/p008.md") == stats["content/p008.md"]
    assert table.get("content/none.md") is None and "content/none.md" not in table
    assert table._index is None, "a few lookups: a binary search each, no index"
    table["content/new.md"] = [5, 6, "n", False]
    table.update({"content/p001.md": [7, 8, "edited", False]})
    assert table["content/p001.md"] == [7, 8, "edited", False] and table["content/new.md"] == [5, 6, "n", False]
    for name in stats:  # a whole build looks every source up
        assert table.get(name) == ([7, 8, "edited", False] if name == "content/p001.md" else stats[name])
    assert table._index is not None
    assert dict(table.items()) == {**stats, "content/p001.md": [7, 8, "edited", False], "content/new.md": [5, 6, "n", False]}
    assert cache_mod.Stats(cache_mod._packed_stats(table)).items() == table.items()
    # A damaged entry (a hash that is no string) is a miss: the file is read again.
    names, hashes, numbers = cache_mod._packed_stats(stats)
    broken = marshal.loads(hashes)
    broken[3] = 3
    damaged = cache_mod.Stats((names, marshal.dumps(broken), numbers))
    assert damaged.get("content/p003.md") is None and damaged.get("content/p004.md") == stats["content/p004.md"]
    assert "content/p003.md" not in dict(damaged.items())


def test_a_folder_listing_follows_symlinked_folders_once_and_skips_what_is_no_file(tmp_path):
    """A content folder's listing (a dep of every page that lists it) is a scandir walk:
    it must name what os.walk with a stat of each file named."""
    from ssg.cache import _files_below

    top = tmp_path / "posts"
    (top / "2024" / "deep").mkdir(parents=True)
    (tmp_path / "elsewhere").mkdir()
    for rel in ("a.md", "b.txt", "2024/c.md", "2024/deep/d.md"):
        (top / rel).write_text("x")
    (tmp_path / "elsewhere" / "e.md").write_text("x")
    (top / "linked").symlink_to(tmp_path / "elsewhere")  # a symlinked folder: followed
    (top / "2024" / "again").symlink_to(top / "2024")  # a loop: listed once
    (top / "gone.md").symlink_to(tmp_path / "nowhere.md")  # dangling: no file
    (top / "f.md").symlink_to(top / "a.md")  # a symlinked file: a file
    os.mkfifo(top / "pipe.md")  # no regular file

    def by_os_walk(folder: str, suffix: str = "") -> list[str]:
        names, seen = [], set()
        for dirpath, dirnames, filenames in os.walk(folder, followlinks=True):
            st = os.stat(dirpath)
            if (st.st_dev, st.st_ino) in seen:
                dirnames[:] = []
                continue
            seen.add((st.st_dev, st.st_ino))
            below = os.path.relpath(dirpath, folder).replace(os.sep, "/")
            prefix = "" if below == "." else below + "/"
            names += [prefix + f for f in filenames if f.endswith(suffix) and os.path.isfile(os.path.join(dirpath, f))]
        return sorted(names)

    assert _files_below(str(top)) == by_os_walk(str(top))
    assert _files_below(str(top)) == ["2024/c.md", "2024/deep/d.md", "a.md", "b.txt", "f.md", "linked/e.md"]
    assert _files_below(str(top), ".md") == by_os_walk(str(top), ".md")
    assert _files_below(str(tmp_path / "missing")) == []
    # A folder reached by two paths is listed once, under the one the walk reaches first.
    (top / "alias").symlink_to(top / "2024" / "deep")
    assert _files_below(str(top)) == by_os_walk(str(top))
    assert len([name for name in _files_below(str(top)) if name.endswith("/d.md")]) == 1
    # Deeper than the recursion limit: a stack, not recursion.
    deep = folder = tmp_path / "deep"
    depth = min(sys.getrecursionlimit() + 100, 1500)  # 3,000 characters: a path fits in PATH_MAX
    made = []
    try:
        for _ in range(depth + 1):  # one at a time: mkdir(parents=True) recurses as well
            folder.mkdir()
            made.append(folder)
            folder = folder / "d"
        (made[-1] / "bottom.md").write_text("x")
        assert _files_below(str(deep)) == ["d/" * depth + "bottom.md"]
    finally:  # from the bottom up: shutil.rmtree (and so pytest's clean-up) recurses too
        if made:
            (made[-1] / "bottom.md").unlink(missing_ok=True)
        for folder in reversed(made):
            folder.rmdir()


def test_the_site_modules_are_found_by_their_real_paths(tmp_path, monkeypatch):
    """A load's site modules (lib/, ...) are recorded by where they really are: a module
    imported through a symlinked folder or file counts, and so does a helper in routes/; a
    route module (recorded per page) or one in .venv/ does not. So do the other files below
    a module's top folder (data it may read), but not those of routes/."""
    import types

    from ssg.cache import site_modules

    site = tmp_path / "site"
    for rel in ("lib/a.py", "lib/b.py", "routes/r.py", "routes/x/+page.py", "routes/x/data.json", ".venv/lib/v.py", "shared/s.py",
                "lib/data/authors.json", "lib/__pycache__/a.cpython-311.pyc", "top.py", "README.md"):
        (site / rel).parent.mkdir(parents=True, exist_ok=True)
        (site / rel).write_text("")
    (tmp_path / "outside.py").write_text("")
    (tmp_path / "via").symlink_to(site / "lib")  # a folder outside the site that is lib/
    (tmp_path / "link.py").symlink_to(site / "shared" / "s.py")  # a file outside that is in it
    (site / "lib" / "out.py").symlink_to(tmp_path / "outside.py")  # in lib/, but really outside
    files = [site / "lib/a.py", tmp_path / "via" / "b.py", site / "routes/r.py", site / "routes/x/+page.py", site / ".venv/lib/v.py",
             tmp_path / "link.py", site / "lib" / "out.py", tmp_path / "outside.py", site / "top.py"]
    for i, file in enumerate(files):
        module = types.ModuleType(f"_ssg_test_module_{i}")
        module.__file__ = str(file)
        monkeypatch.setitem(sys.modules, module.__name__, module)
    assert site_modules(site.resolve()) == [
        "lib/", "lib/a.py", "lib/b.py", "lib/data/authors.json", "lib/out.py", "routes/r.py", "shared/", "shared/s.py", "top.py",
    ]


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_module_only_a_worker_imports_is_in_the_site_wide_key_also_after_a_replay(tmp_path, jobs):
    """A layout's load imports lib/blogdata.py; the page sets its options itself, so the
    build's own process never imports the layout. The module is still part of the key:
    after the first build, and after a build that replayed the page (importing nothing)."""
    site = tmp_path / "site"
    for rel, text in {
        "lib/__init__.py": "",
        "lib/blogdata.py": "TITLE = 'one'\n",
        "routes/blog/+layout.py": "from lib.blogdata import TITLE\n\ndef load(event):\n    return {'title': TITLE}\n",
        "routes/blog/+layout.html": "<h1>{{ data.title }}</h1>{{ slot }}\n",
        "routes/blog/+page.py": "prerender = True\n",
        "routes/blog/+page.html": "blog\n",
        "static/site.css": "a {}\n",
    }.items():
        (site / rel).parent.mkdir(parents=True, exist_ok=True)
        (site / rel).write_text(text)
    out = tmp_path / "out"
    build(site, out, "--jobs", jobs)
    (site / "lib/blogdata.py").write_text("TITLE = 'two'\n")
    build(site, out, "--jobs", jobs)
    assert (out / "blog/index.html").read_text() == "<h1>two</h1>blog\n\n"
    (site / "static/site.css").write_text("b {}\n")  # a build that replays /blog
    assert "1 of 1 paths reused" in build(site, out, "--jobs", jobs).stderr
    (site / "lib/blogdata.py").write_text("TITLE = 'three'\n")
    build(site, out, "--jobs", jobs)
    assert (out / "blog/index.html").read_text() == "<h1>three</h1>blog\n\n"


def test_the_readers_of_a_source_are_found_by_whole_numbers_only(tmp_path):
    """previous_readers() searches every path's packed deps at once, as bytes: a number's
    four bytes across two others' (here 1 byte into "/"'s deps) must not count."""
    site = tmp_path / "site"
    shutil.copytree(SITES / "incremental", site)
    build(site, tmp_path / "out")
    file = site / ".ssg-cache/build.cache"
    raw = read_record(file.read_bytes())
    number = len(raw["sources"]) - 1
    pattern = number.to_bytes(4, "little")
    raw["deps"]["/about"] += pattern
    raw["deps"]["/"] = b"\x00" + pattern + b"\x00\x00\x00"
    file.write_bytes(record_bytes(raw))
    from ssg.build import markdown_engine_name
    from ssg.cache import Cache

    cache = Cache(Site(config_mod.load(site)), engine=markdown_engine_name())
    found = cache.previous_readers({number, 1})
    by_loop = [(k, next(n for n in memoryview(deps).cast("I") if n in (number, 1)))
               for k, deps in raw["deps"].items() if {number, 1} & set(memoryview(deps).cast("I"))]
    assert found == by_loop
    assert ("/about", number) in found and "/" not in dict(found)


@pytest.mark.parametrize("damage", ["garbage", "wrong shape", "a dep that is no source"])
def test_a_path_whose_record_is_unreadable_is_rendered_again_with_a_warning(tmp_path, damage):
    """Records are read when a build asks for them, so one damaged record is found then
    (a dep number that names no source included): its path is rendered again, and the
    others are reused."""
    site = tmp_path / "site"
    shutil.copytree(SITES / "incremental", site)
    build(site, tmp_path / "out")
    expected = snapshot(tmp_path / "out")
    cache = site / ".ssg-cache/build.cache"
    raw = read_record(cache.read_bytes())
    if damage == "a dep that is no source":
        raw["deps"]["/about"] += (len(raw["sources"]) + 5).to_bytes(4, "little")
    else:
        raw["paths"]["/about"] = {"garbage": b"\xff not marshal", "wrong shape": marshal.dumps(("x", ""))}[damage]
    cache.write_bytes(record_bytes(raw))
    os.utime(site / "content/posts/post-3.md")  # a build with something to look at
    result = build(site, tmp_path / "out", "--explain")
    assert "the record of /about is unreadable" in result.stderr
    assert "rendered /about: its record in the build cache is unreadable" in result.stderr
    assert "reused from the build cache" in result.stderr
    assert snapshot(tmp_path / "out") == expected


def test_the_output_folder_named_two_ways_is_the_same_build(tmp_path):
    """`--out build` (from the site folder) and `--out /abs/site/build` write the same
    folder: the second build has nothing to do, and one after an edit reuses the rest."""
    site = tmp_path / "site"
    shutil.copytree(SITES / "incremental", site)
    build(site, Path("out"))
    absolute = site / "out"
    assert "nothing changed since the last build" in build(site, absolute).stderr
    edit(site, "lib/site.py", '"Incremental"', '"Renamed"')  # a module: no edit shortcut
    build(site, Path("out"))
    edit(site, "routes/tags/[tag]/+page.py", '"tag": event.params["tag"]', '"tag": event.params["tag"].upper()')
    result = build(site, absolute, "--explain")
    reasons = set(re.findall(r"^rendered \S+: (.*)$", result.stderr, re.M))
    assert reasons == {"routes/tags/[tag]/+page.py changed"}, result.stderr
    assert "/about" not in rendered_paths(result.stderr)


def test_a_summary_linking_to_a_broken_route_module_fails_as_a_clean_build_does(tmp_path):
    # Whether a summary changed is known by rendering it; its link to /pricing asks the
    # route's trailing_slash option, whose module is broken now. The build reports each
    # page that fails, as a clean build would, rather than stopping at the check.
    site = tmp_path / "site"
    (site / "routes/pricing").mkdir(parents=True)
    (site / "content").mkdir()
    (site / "content/about.md").write_text("---\ntitle: About\n---\nWe sell, see [pricing](/pricing).\n")
    (site / "routes/+page.py").write_text('from ssg.content import entry\n\ndef load(event):\n    return {"about": entry("about.md")}\n')
    (site / "routes/+page.html").write_text("<h1>{{ data.about.title }}</h1>{{ data.about.summary }}")
    (site / "routes/pricing/+page.py").write_text("def load(event):\n    return {}\n")
    (site / "routes/pricing/+page.html").write_text("<p>pricing</p>")
    build(site, tmp_path / "out")
    (site / "routes/pricing/+page.py").write_text('trailing_slash = "ignore"\n\ndef load(event):\n    return {}\n')
    edit(site, "content/about.md", "We sell,", "We sell things,")
    report = tmp_path / "report.json"
    result = run_ssg("build", "-C", str(site), "--out", str(tmp_path / "out"), "--report", str(report), env=env())
    assert result.returncode == 1
    assert 'error: 500 /: routes/pricing/+page.py: trailing_slash must be "always" or "never"' in result.stderr
    assert "build failed with 2 error(s)" in result.stderr
    assert report.is_file()
