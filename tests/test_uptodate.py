"""The no-change shortcut (ssg/uptodate.py) and the in-place update of the output: a build
with nothing to do writes nothing, and anything that could change the output is noticed."""

from __future__ import annotations

import os
import shutil
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from conftest import SITES, run_ssg
from sitekit import write_site

from ssg import config as config_mod, uptodate
from ssg.output import Writer

UNCHANGED = "nothing changed since the last build"


def env(**extra: str) -> dict[str, str]:
    # Python writes __pycache__ into the site's folders, as it does on users' machines.
    base = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    return {**base, "SOURCE_DATE_EPOCH": "1700000000", **extra}


def build(site: Path, out: Path, *args: str, **extra: str) -> str:
    result = run_ssg("build", "-C", str(site), "--out", str(out), *args, env=env(**extra))
    assert result.returncode == 0, result.stderr
    return result.stderr


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def built(tmp_path):
    """The incremental fixture site, built twice: the second build took the shortcut."""
    site, out = tmp_path / "site", tmp_path / "out"
    shutil.copytree(SITES / "incremental", site)
    build(site, out)
    assert UNCHANGED in build(site, out)
    return site, out, snapshot(out)


def test_a_deleted_output_file_is_written_again(built):
    site, out, expected = built
    (out / "about/index.html").unlink()
    assert UNCHANGED not in build(site, out)
    assert snapshot(out) == expected


def test_a_file_deleted_from_or_added_to_the_top_of_the_output_is_noticed(built):
    """The output folder itself is a folder of the record too (named "")."""
    site, out, expected = built
    (out / "index.html").unlink()
    assert UNCHANGED not in build(site, out)
    assert snapshot(out) == expected
    (out / "stray.txt").write_text("not the build's")
    assert UNCHANGED not in build(site, out)
    assert snapshot(out) == expected


def test_an_output_file_edited_in_place_is_written_again_by_the_next_build_with_work(built):
    site, out, expected = built
    with open(out / "posts/post-1/index.html", "a") as f:
        f.write("edited by hand")
    os.utime(site / "content/posts/post-3.md")  # something for the build to look at
    assert "rendered /posts/post-1: its files in the output were changed or deleted" in build(site, out, "--explain")
    assert snapshot(out) == expected


def test_the_search_for_damaged_output_files_runs_in_a_child_process(built, monkeypatch):
    site, out, _ = built
    with open(out / "posts/post-1/index.html", "a") as f:
        f.write("edited by hand")
    config = config_mod.load(site).replace(out=str(out))
    parent = os.getpid()
    searched_in: list[int] = []
    differing = uptodate._differing

    def spy(*args):
        searched_in.append(os.getpid())  # seen by this process only when it searches itself
        return differing(*args)

    monkeypatch.setattr(uptodate, "_differing", spy)
    check = uptodate.Check(config)
    searched_in.clear()  # the check's own stat of the output folders
    check.scan_for_damage()
    assert check.damaged == {"posts/post-1/index.html"}
    assert searched_in == [], "the child searched, and answered through the pipe"

    # A child that fails to answer: the parent searches itself, with the same answer.
    def failing_in_child(*args):
        if os.getpid() != parent:
            raise OSError("no answer")
        return spy(*args)

    monkeypatch.setattr(uptodate, "_differing", failing_in_child)
    check = uptodate.Check(config)
    searched_in.clear()
    check.scan_for_damage()
    assert check.damaged == {"posts/post-1/index.html"}
    assert searched_in == [parent]


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="the listing of open descriptors is Linux's")
def test_the_searching_child_closes_what_it_inherited_without_a_close_per_number(built, monkeypatch, tmp_path):
    """The child holds nothing of the parent's but its end of the pipe. It closes the
    descriptors /proc lists: os.closerange up to the limit is a close() per number where
    the C library has no close_range (0.18 s at a limit of 1,048,576)."""
    site, out, _ = built
    (out / "about/index.html").unlink()
    config = config_mod.load(site).replace(out=str(out))
    parent = os.getpid()
    seen = tmp_path / "child-fds"
    differing = uptodate._differing

    def listing(*args):
        if os.getpid() != parent and not seen.exists():
            seen.write_text(" ".join(os.listdir("/proc/self/fd")))  # what the child still holds
        return differing(*args)

    def brute_force(low, high):
        raise AssertionError("a close() per descriptor number")

    monkeypatch.setattr(uptodate, "_differing", listing)
    monkeypatch.setattr(os, "closerange", brute_force)
    with open(tmp_path / "held", "w") as held:
        check = uptodate.Check(config)
        check.scan_for_damage()
        assert check.damaged == {"about/index.html"}
        assert check._verdict == b"1", "the child answered (it would not, had it called closerange)"
        child_fds = {int(fd) for fd in seen.read_text().split()}
        assert held.fileno() not in child_fds
        assert len(child_fds - {0, 1, 2}) <= 2, f"its end of the pipe, and the listing's own: {child_fds}"


def test_the_check_leaves_the_output_file_list_to_the_search(built, monkeypatch):
    """The record keeps the output's files marshalled apart: the no-change check compares
    their folders only, and the child searching for damage decodes them, not the parent."""
    site, out, _ = built
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")  # as the fixture built it
    config = config_mod.load(site).replace(out=str(out))
    parent = os.getpid()
    decoded_in: list[int] = []
    loads = uptodate.marshal.loads

    def spy(data):
        found = loads(data)
        parts = found if type(found) is tuple else (found,)  # the record, or a part of it
        if any(type(part) in (dict, list) and {"index.html", "about/index.html"} <= set(part) for part in parts):
            decoded_in.append(os.getpid())
        return found

    monkeypatch.setattr(uptodate.marshal, "loads", spy)
    check = uptodate.Check(config)
    assert check.unchanged and decoded_in == []
    check.record_patch([])  # the edit shortcut's record: the files, brought up to date
    assert decoded_in == [parent]

    decoded_in.clear()
    (out / "about/index.html").unlink()
    check = uptodate.Check(config)
    assert not check.unchanged and decoded_in == [], "a changed folder is found without the file list"
    check.scan_for_damage()
    assert check.damaged == {"about/index.html"}
    assert decoded_in == [], "decoded in the child, which answered through the pipe"


def test_an_edit_patched_in_updates_the_statuses_of_the_files_it_rewrote(built, monkeypatch):
    site, out, _ = built
    post = site / "content/posts/post-2.md"
    post.write_text(post.read_text() + "\nOne more line.\n")
    assert "rendered again in place" in build(site, out)
    assert UNCHANGED in build(site, out)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    check = uptodate.Check(config_mod.load(site).replace(out=str(out)))
    names, _ = check._files
    assert "posts/post-2/index.html" in names
    assert check.damaged == set(), "each rewritten file's status went to its own place in the table"
    with open(out / "posts/post-2/index.html", "a") as f:
        f.write("edited by hand")
    check = uptodate.Check(config_mod.load(site).replace(out=str(out)))
    assert check.damaged == {"posts/post-2/index.html"}


FAR_FUTURE = 10_400_000_000 * 10**9  # in the year 2299: past what a signed 64-bit count of ns holds


def test_time_stamps_past_2262_are_recorded_or_left_out_not_a_crash(built, tmp_path):
    site, out, _ = built
    post = site / "content/posts/post-2.md"
    post.write_text(post.read_text() + "\nOne more line.\n")
    os.utime(post, ns=(FAR_FUTURE, FAR_FUTURE))
    assert "rendered again in place" in build(site, out)  # the edit shortcut's record
    post.write_text(post.read_text() + "\nAnother line.\n")
    os.utime(post, ns=(FAR_FUTURE, FAR_FUTURE + 1))
    build(site, out, "--report", str(tmp_path / "report.json"))  # a whole build's record
    os.utime(out / "about/index.html", ns=(FAR_FUTURE, FAR_FUTURE))  # an output file, too
    (site / ".ssg-cache" / uptodate.FILE).unlink()
    post.write_text(post.read_text() + "\nA third line.\n")
    build(site, out)
    assert UNCHANGED not in build(site, out), "no record of an output it cannot hold: the next build runs"
    assert "A third line." in (out / "posts/post-2/index.html").read_text()


def test_a_name_that_is_no_string_makes_the_output_file_list_unreadable(built, monkeypatch):
    site, out, _ = built
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    record = site / ".ssg-cache" / uptodate.FILE
    fields = list(uptodate.marshal.loads(record.read_bytes()))
    names = uptodate.marshal.loads(fields[6][0])
    names[0] = 5
    fields[6] = (uptodate.marshal.dumps(names), fields[6][1])
    record.write_bytes(uptodate.marshal.dumps(tuple(fields)))
    check = uptodate.Check(config_mod.load(site).replace(out=str(out)))
    assert check._files is None and check.damaged is None


def test_an_unreadable_output_file_list_is_not_trusted(built, monkeypatch):
    site, out, expected = built
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    config = config_mod.load(site).replace(out=str(out))
    record = site / ".ssg-cache" / uptodate.FILE
    fields = list(uptodate.marshal.loads(record.read_bytes()))
    names, statuses = fields[6]
    fields[6] = (names[: len(names) // 2], statuses)  # the file list, cut short
    record.write_bytes(uptodate.marshal.dumps(tuple(fields)))
    (out / "about/index.html").unlink()
    check = uptodate.Check(config)
    assert not check.unchanged
    check.scan_for_damage()
    assert check.damaged is None, "no list to compare with: every kept file is looked for instead"
    check.close()
    build(site, out)
    assert snapshot(out) == expected


def test_without_a_process_for_the_search_the_build_searches_itself(built, monkeypatch):
    site, out, _ = built
    (out / "about/index.html").unlink()
    config = config_mod.load(site).replace(out=str(out))

    def no_fork():
        raise OSError("Resource temporarily unavailable")

    monkeypatch.setattr(os, "fork", no_fork)
    check = uptodate.Check(config)
    check.scan_for_damage()
    assert check.damaged == {"about/index.html"}


def test_the_search_starts_before_the_walk_and_stops_when_nothing_changed(built, monkeypatch):
    site, out, _ = built
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    config = config_mod.load(site).replace(out=str(out))
    steps: list[str] = []
    scan, walk = uptodate.Check.scan_for_damage, uptodate.sources

    def scanning(self):
        steps.append("scan")
        scan(self)

    def walking(*args):
        steps.append("walk")
        return walk(*args)

    folders_stated_in: list[int] = []
    differing = uptodate._differing

    def stating(*args):
        folders_stated_in.append(os.getpid())  # seen here only when this process stats them
        return differing(*args)

    monkeypatch.setattr(uptodate.Check, "scan_for_damage", scanning)
    monkeypatch.setattr(uptodate, "sources", walking)
    monkeypatch.setattr(uptodate, "_differing", stating)
    check = uptodate.Check(config, scan=True)
    assert steps == ["scan", "walk"] and check._scan is not None
    assert check.unchanged
    assert folders_stated_in == [], "the child stated the output's folders and answered first"
    pid = check._scan[0]
    check.close(cancel=True)
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, 0)  # stopped and waited for: no zombie left
    assert check._scan is None

    steps.clear()
    (out / "about/index.html").unlink()
    check = uptodate.Check(config, scan=True)
    assert steps == ["scan", "walk"] and not check.unchanged, "a folder changed: the child said so"
    assert check.damaged == {"about/index.html"}
    assert folders_stated_in == []
    # Without the search, the check stats the folders itself, with the same verdict.
    assert not uptodate.Check(config).unchanged and folders_stated_in == [os.getpid()]

    # A child that fails before it answers: the check stats them itself, as does the search.
    parent = os.getpid()

    def failing_in_child(*args):
        if os.getpid() != parent:
            raise OSError("no answer")
        return stating(*args)

    monkeypatch.setattr(uptodate, "_differing", failing_in_child)
    folders_stated_in.clear()
    check = uptodate.Check(config, scan=True)
    assert not check.unchanged and folders_stated_in == [parent]
    assert check.damaged == {"about/index.html"}


def test_a_search_nobody_asked_for_is_reaped(built):
    site, out, _ = built
    config = config_mod.load(site).replace(out=str(out))
    check = uptodate.Check(config)
    check.scan_for_damage()
    assert check._scan is not None
    pid = check._scan[0]
    check.close()
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, 0)  # waited for by close(): no zombie left


def test_a_file_dropped_into_the_output_is_removed(built):
    site, out, expected = built
    (out / "posts/stray.txt").write_text("not the build's")
    assert UNCHANGED not in build(site, out)
    assert snapshot(out) == expected


def test_a_symlink_to_a_folder_dropped_into_the_output_is_removed(built, tmp_path):
    site, out, expected = built
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere/keep.txt").write_text("the user's")
    (out / "posts/linked").symlink_to(tmp_path / "elsewhere")
    assert UNCHANGED not in build(site, out)
    assert snapshot(out) == expected and not (out / "posts/linked").is_symlink()
    assert (tmp_path / "elsewhere/keep.txt").read_text() == "the user's"  # the link went, not what it points to


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_an_output_folder_replaced_by_a_symlink_to_it_is_written_whole_again(built, tmp_path, jobs):
    """out/posts moved away and linked back: its files are where the link points, not in a
    folder of the build's; an edit's build writes them all into a folder of its own."""
    site, out, _ = built
    (tmp_path / "elsewhere").mkdir()
    (out / "posts").rename(tmp_path / "elsewhere/posts")
    (out / "posts").symlink_to(tmp_path / "elsewhere/posts")
    post = site / "content/posts/post-3.md"
    post.write_text(post.read_text() + "\nOne more line.\n")
    build(site, out, "--jobs", jobs)
    clean = tmp_path / "clean"
    shutil.copytree(site, clean, ignore=shutil.ignore_patterns(".ssg-cache"))
    build(clean, tmp_path / "out-clean", "--fresh")
    assert not (out / "posts").is_symlink()
    assert snapshot(out) == snapshot(tmp_path / "out-clean")


def test_a_build_with_nothing_to_do_removes_what_a_killed_build_left(built):
    """A build killed while it wrote its staging folder (kill -9: nothing to clean up) left
    it beside the output; the next build removes it, also when nothing changed."""
    site, out, expected = built
    left = out.with_name(f".{out.name}.staging-{2**22 + 7}")  # above Linux's pid_max default: no such process
    (left / "posts").mkdir(parents=True)
    (left / "posts/index.html").write_text("half a build")
    assert UNCHANGED in build(site, out)
    assert not left.exists() and snapshot(out) == expected


def test_the_source_walk_passes_over_the_work_folders_beside_an_output_inside_the_site(tmp_path):
    root, out = tmp_path / "site", tmp_path / "site/sub/build"
    for name in (".build.staging-12", ".build.old-3", ".build.notes", ".build.staging"):
        (root / "sub" / name).mkdir(parents=True)
        (root / "sub" / name / "page.html").write_text("x")
    assert sorted(rel for rel in uptodate.sources(root, out) if rel.endswith(".html")) == [
        "sub/.build.notes/page.html", "sub/.build.staging/page.html",
    ]


def test_a_new_content_file_is_noticed(built):
    site, out, _ = built
    (site / "content/posts/post-9.md").write_text("---\ntitle: Nine\ndate: 2024-09-01\ntags: [t9]\n---\nNine.\n")
    assert UNCHANGED not in build(site, out)
    assert "Nine" in (out / "posts/post-9/index.html").read_text()


def test_another_time_stamp_or_option_is_not_the_same_build(built):
    site, out, _ = built
    assert UNCHANGED not in build(site, out, SOURCE_DATE_EPOCH="1800000000")
    assert "2027-01-15" in (out / "__data.json").read_text()
    assert UNCHANGED not in build(site, out, "--base-path", "/docs", SOURCE_DATE_EPOCH="1800000000")


def test_fresh_always_renders(built):
    site, out, expected = built
    assert UNCHANGED not in build(site, out, "--fresh")
    assert snapshot(out) == expected


def test_python_caches_written_by_the_first_build_do_not_count(tmp_path):
    site = write_site(tmp_path / "site", {
        "routes/+page.py": "from lib.words import WORD\n\ndef load(event):\n    return {'word': WORD}\n",
        "routes/+page.html": "<p>{{ data.word }}</p>",
        "lib/__init__.py": "",
        "lib/words.py": "WORD = 'hello'\n",
    })
    assert not list(site.rglob("__pycache__"))
    build(site, tmp_path / "out")
    assert list(site.rglob("__pycache__")), "the first build compiled the site's modules"
    assert UNCHANGED in build(site, tmp_path / "out")


def test_a_source_written_just_before_the_build_is_compared_by_its_contents(tmp_path):
    # Its next change could fall in the same tick of the file system's clock: same mtime.
    site = write_site(tmp_path / "site", {"routes/+page.html": "<h1>Hi</h1>"})
    page = site / "routes/+page.html"
    build(site, tmp_path / "out")
    assert UNCHANGED in build(site, tmp_path / "out")
    status = page.stat()
    page.write_text("<h1>Ho</h1>")  # same size
    os.utime(page, ns=(status.st_atime_ns, status.st_mtime_ns))  # and the same time stamp
    assert UNCHANGED not in build(site, tmp_path / "out")
    assert "<h1>Ho</h1>" in (tmp_path / "out/index.html").read_text()


def test_a_source_edited_while_the_build_runs_is_read_again_by_the_next_build(tmp_path):
    # The load edits its own module after the build imported it, as an editor saving
    # mid-build would: the output shows the version read, the next build the new one.
    new = "def load(event):\n    return {'word': 'two'}\n"
    site = write_site(tmp_path / "site", {
        "routes/+page.py": (
            "from pathlib import Path\n\n"
            "def load(event):\n"
            f"    Path(__file__).write_text({new!r})\n"
            "    return {'word': 'one'}\n"
        ),
        "routes/+page.html": "<p>{{ data.word }}</p>",
    })
    out = tmp_path / "out"
    build(site, out)
    assert "<p>one</p>" in (out / "index.html").read_text()
    assert UNCHANGED not in build(site, out)
    assert "<p>two</p>" in (out / "index.html").read_text()
    assert UNCHANGED in build(site, out)


@pytest.mark.parametrize("change", ["added", "deleted"])
def test_a_file_added_or_deleted_while_the_build_runs_is_listed_again_by_the_next_build(tmp_path, change):
    # The load lists a folder, then a file appears in it (or goes), as a checkout or an
    # editor might do mid-build: the next build lists it again.
    site = write_site(tmp_path / "site", {
        "routes/+page.py": (
            "from pathlib import Path\n"
            "from ssg.content import collection\n\n"
            "def load(event):\n"
            "    titles = sorted(p.title for p in collection('notes'))\n"
            "    b = Path(__file__).parents[1] / 'content/notes/b.md'\n"
            f"    if {change == 'added'} and not b.exists():\n"
            "        b.write_text('---\\ntitle: B\\n---\\nB.\\n')\n"
            f"    if {change == 'deleted'} and b.exists():\n"
            "        b.unlink()\n"
            "    return {'titles': titles}\n"
        ),
        "routes/+page.html": "<p>{{ data.titles | join(',') }}</p>",
        "content/notes/a.md": "---\ntitle: A\n---\nA.\n",
        **({"content/notes/b.md": "---\ntitle: B\n---\nB.\n"} if change == "deleted" else {}),
    })
    out = tmp_path / "out"
    build(site, out)
    assert (out / "index.html").read_text() == ("<p>A</p>" if change == "added" else "<p>A,B</p>")
    assert UNCHANGED not in build(site, out)
    assert (out / "index.html").read_text() == ("<p>A,B</p>" if change == "added" else "<p>A</p>")


def test_a_second_build_of_the_site_waits_for_the_first(tmp_path):
    # Two builds of one site at once would mix their records: the second waits.
    import fcntl
    import subprocess
    import sys

    site = write_site(tmp_path / "site", {"routes/+page.html": "<h1>Hi</h1>"})
    (site / ".ssg-cache").mkdir()
    with open(site / ".ssg-cache/lock", "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)  # as a build running now would
        second = subprocess.Popen([sys.executable, "-m", "ssg.cli", "build", "-C", str(site), "--out", str(tmp_path / "out")],
                                  env=env(), stderr=subprocess.PIPE, text=True)
        assert "waiting for another ssg build" in second.stderr.readline()
        assert second.poll() is None and not (tmp_path / "out").exists()
    _, rest = second.communicate(timeout=60)
    assert second.returncode == 0, rest
    assert (tmp_path / "out/index.html").read_text() == "<h1>Hi</h1>"


@pytest.mark.parametrize("damage", ["a folder", "a dangling symlink"])
def test_a_lock_that_is_no_file_is_replaced_with_a_warning(tmp_path, damage):
    # Else no build could take the lock, and two at once would mix their records unseen.
    site = write_site(tmp_path / "site", {"routes/+page.html": "<h1>Hi</h1>"})
    lock = site / ".ssg-cache/lock"
    lock.parent.mkdir()
    if damage == "a folder":
        (lock / "inside").mkdir(parents=True)
    else:
        lock.symlink_to(tmp_path / "gone/lock")
    stderr = build(site, tmp_path / "out")
    assert f"warning: {lock} was no lock file; removed it" in stderr
    assert lock.is_file() and not lock.is_symlink()
    assert (tmp_path / "out/index.html").read_text() == "<h1>Hi</h1>"
    assert "no lock file" not in build(site, tmp_path / "out"), "warned once"


class _Remote(BaseHTTPRequestHandler):
    def do_GET(self):
        body = b'{"n": 1}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_a_build_that_fetched_an_absolute_url_always_runs_again(tmp_path):
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Remote)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/n"
        site = write_site(tmp_path / "site", {
            "routes/+page.py": f"async def load(event):\n    return {{'n': (await event.fetch({url!r})).json()['n']}}\n",
            "routes/+page.html": "<p>{{ data.n }}</p>",
        })
        old = 1_000_000_000  # sources from long ago, so only the fetch stands in the way
        for file in site.rglob("*"):
            os.utime(file, (old, old))
        build(site, tmp_path / "out")
        assert UNCHANGED not in build(site, tmp_path / "out")
    finally:
        server.shutdown()


# -- the in-place update of the output folder ------------------------------------------------


def updated(out: Path, files: dict[str, str]) -> None:
    writer = Writer(out, update=True)
    writer.start()
    for rel, text in files.items():
        writer.claim(rel)
        if text is not None:
            writer.put(rel, text.encode())
    writer.commit()


def test_update_replaces_a_folder_by_a_file_and_a_file_by_a_folder(tmp_path):
    out = write_site(tmp_path / "out", {"a/index.html": "old a", "b": "old b", "keep.txt": "kept"})
    updated(out, {"a": "a is a file now", "b/index.html": "b is a folder now", "keep.txt": None})
    assert snapshot(out) == {"a": b"a is a file now", "b/index.html": b"b is a folder now", "keep.txt": b"kept"}
    assert not list(tmp_path.glob(".out.staging-*"))


def test_update_deletes_what_the_build_no_longer_writes_and_empty_folders(tmp_path):
    out = write_site(tmp_path / "out", {"x/y/z.html": "gone", "x/w.html": "gone", "index.html": "old"})
    updated(out, {"index.html": "new"})
    assert snapshot(out) == {"index.html": b"new"}
    assert sorted(p.name for p in out.iterdir()) == ["index.html"]


def test_an_aborted_update_leaves_the_output_as_it_was(tmp_path):
    out = write_site(tmp_path / "out", {"index.html": "old"})
    writer = Writer(out, update=True)
    writer.start()
    writer.claim("index.html")
    writer.put("index.html", b"new")
    writer.abort()
    assert snapshot(out) == {"index.html": b"old"}
    assert not list(tmp_path.glob(".out.staging-*"))


def test_an_output_folder_linked_from_inside_the_site_is_not_a_source(tmp_path):
    """site/build a symlink to the real output: the walk of the sources leaves it aside,
    as it does the output folder itself, so a build with nothing to do says so."""
    site = tmp_path / "site"
    shutil.copytree(SITES / "incremental", site)
    (tmp_path / "real-out").mkdir()
    (site / "build").symlink_to(tmp_path / "real-out")
    for _ in range(2):
        assert run_ssg("build", "-C", str(site), env=env()).returncode == 0
    assert UNCHANGED in build(site, site / "build")


def test_a_build_with_nothing_to_do_when_the_outputs_parent_cannot_be_listed(built, monkeypatch, capsys):
    """The look for what a killed build left beside the output is skipped, not fatal."""
    from ssg import cli

    site, out, expected = built
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    real = os.listdir
    monkeypatch.setattr(os, "listdir", lambda p=".": (_ for _ in ()).throw(PermissionError(13, "denied")) if Path(p) == out.parent else real(p))
    assert cli.main(["build", "-C", str(site), "--out", str(out)]) == 0
    assert UNCHANGED in capsys.readouterr().err and snapshot(out) == expected


def test_an_output_made_by_another_build_just_before_the_swap_is_replaced(tmp_path, monkeypatch):
    """Two first builds of a site at once (no .ssg-cache/ yet, so no lock): the output is
    not there when one looks, and there when it renames its staging folder onto it."""
    out = tmp_path / "out"
    writer = Writer(out)
    writer.start()
    writer.write("index.html", b"this build")
    original_exists = Path.exists

    def exists(self):
        found = original_exists(self)
        if self == out and not found:  # the other build renames its output in right after the look
            out.mkdir()
            (out / "index.html").write_bytes(b"the other build")
        return found

    monkeypatch.setattr(Path, "exists", exists)
    writer.commit()
    monkeypatch.undo()
    assert (out / "index.html").read_bytes() == b"this build"
    assert not list(tmp_path.glob(".out.*"))


def test_files_read_outside_the_walk_and_static_node_modules_are_noticed(tmp_path):
    """The walk passes over node_modules/ and hidden top folders, yet a template may
    include a file there, and static/ is copied whole, node_modules/ and all."""
    site = write_site(tmp_path / "site", {
        "routes/+page.html": "{% include 'node_modules/icons/star.svg' %}{% include '.shared/note.html' %}",
        "node_modules/icons/star.svg": "<svg>one</svg>",
        ".shared/note.html": "<p>one</p>",
        "static/node_modules/lib/app.js": "one",
    })
    out = tmp_path / "out"
    build(site, out)
    build(site, out)  # the first record knew no status of the files outside the walk
    assert UNCHANGED in build(site, out)
    for rel, text in (("node_modules/icons/star.svg", "<svg>two</svg>"), (".shared/note.html", "<p>two</p>"),
                      ("static/node_modules/lib/app.js", "two")):
        (site / rel).write_text(text)
        assert UNCHANGED not in build(site, out), rel
    assert (out / "index.html").read_text() == "<svg>two</svg><p>two</p>"
    assert (out / "node_modules/lib/app.js").read_text() == "two"
    assert UNCHANGED in build(site, out)
    (site / "node_modules/icons/star.svg").unlink()
    result = run_ssg("build", "-C", str(site), "--out", str(out), env=env())
    assert result.returncode == 1 and "node_modules/icons/star.svg" in result.stderr, result.stderr


@pytest.mark.parametrize("where", ["an include of the error page", "a virtual environment at the top"])
def test_more_files_read_outside_the_walk_are_noticed(tmp_path, where):
    """404.html (the root +error.html) is no path's: what it includes counts all the same;
    and a folder holding pyvenv.cfg is passed over by the walk like node_modules/."""
    files = {"routes/+page.html": "home {% include 'venv/theme/x.html' %}", "venv/pyvenv.cfg": "home = /usr\n",
             "venv/theme/x.html": "one"}
    if where == "an include of the error page":
        files = {"routes/+page.html": "home", "routes/+error.html": "{{ page.status }} {% include 'node_modules/pkg/x.html' %}",
                 "node_modules/pkg/x.html": "one"}
    site = write_site(tmp_path / "site", files)
    out = tmp_path / "out"
    build(site, out)
    build(site, out)  # the first record knew no status of the files outside the walk
    assert UNCHANGED in build(site, out)
    included = next(rel for rel in files if rel.endswith("x.html"))
    (site / included).write_text("two")
    assert UNCHANGED not in build(site, out)
    shown = out / ("404.html" if where == "an include of the error page" else "index.html")
    assert shown.read_text().endswith("two")


def test_includes_looked_for_in_a_templates_folder_the_site_has_not_are_no_reason_to_build(tmp_path):
    """Each include is looked for in templates/ first: with no such folder, the file
    looked for is in no folder at all, and the site folder's listing changes with every
    build (its output's staging folder). The second build still has nothing to do."""
    site = write_site(tmp_path / "site", {
        "routes/+page.html": "{% include 'partials/nav.html' %}{% include ['partials/none.html', 'partials/nav.html'] %}"
                             "{% include 'none.html' ignore missing %}",
        "partials/nav.html": "<nav>n</nav>",
    })
    out = site / "build"
    build(site, out)
    assert UNCHANGED in build(site, out)
    assert (out / "index.html").read_text() == "<nav>n</nav><nav>n</nav>"


def test_a_template_read_outside_the_walk_is_known_by_the_first_build(tmp_path):
    """An include from node_modules/ is hashed as it is read, from a version older than
    the build: the first build knows its status before it, and the second has nothing to do."""
    site = write_site(tmp_path / "site", {
        "routes/+layout.html": "{% include 'node_modules/icons/star.svg' %}{{ slot }}",
        "routes/+page.html": "<a href='/a'>a</a>",
        "routes/a/+page.html": "a",
        "node_modules/icons/star.svg": "<svg>one</svg>",
    })
    time.sleep(1.1)  # older than a tick of the file system's clock when the build starts
    out = tmp_path / "out"
    build(site, out)
    assert UNCHANGED in build(site, out)
    (site / "node_modules/icons/star.svg").write_text("<svg>two</svg>")
    assert UNCHANGED not in build(site, out)
    assert (out / "a/index.html").read_text() == "<svg>two</svg>a"
    time.sleep(1.1)
    (site / "routes/a/+page.html").write_text("A")  # the edit shortcut: the include is not read again
    build(site, out)
    assert UNCHANGED in build(site, out)
    assert (out / "a/index.html").read_text() == "<svg>two</svg>A"


def test_an_include_looked_for_beside_a_route_module_is_no_reason_to_build(tmp_path):
    """routes/blog/_aside.html is looked for and missing; the first build's import of
    routes/blog/+page.py adds __pycache__ to that folder, which is no file coming and going."""
    site = write_site(tmp_path / "site", {
        "templates/aside.html": "<aside>default</aside>",
        "routes/+page.html": "<a href='/blog'>blog</a>",
        "routes/blog/+page.py": "def load(event):\n    return {'x': 1}\n",
        "routes/blog/+page.html": "{% include ['routes/blog/_aside.html', 'aside.html'] %}{{ data.x }}",
    })
    out = site / "build"
    build(site, out)
    assert (site / "routes/blog/__pycache__").is_dir()
    assert UNCHANGED in build(site, out)
    (site / "routes/blog/_aside.html").write_text("<aside>blog</aside>")
    assert UNCHANGED not in build(site, out)
    assert (out / "blog/index.html").read_text() == "<aside>blog</aside>1"


def test_a_change_stamped_a_tick_before_the_build_started_counts_as_made_since(tmp_path):
    """The kernel's clock for time stamps may lag the build's own by a tick: a file or
    folder changed just after the build started can carry a stamp from just before."""
    (tmp_path / "f").write_text("x")
    st = os.stat(tmp_path / "f")
    stamp = uptodate.changed_at(st)
    assert uptodate.changed_since(st, stamp)
    assert uptodate.changed_since(st, stamp + 5_000_000)  # stamped 5 ms before the build's clock said it started
    assert not uptodate.changed_since(st, stamp + 1_000_000_000)
