"""A source saved while a build runs: the next builds must still end where a clean build of
the same sources does. The site's own loads pace the race with marker files (a slow load,
made exact), so each case lands the save at the same moment every time."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sitekit import write_site

PACE = '''import os, time


def _marks():
    return os.environ.get("RACE_MARKS")


def mark(name):
    if _marks():
        with open(os.path.join(_marks(), name), "w") as f:
            f.write(str(os.getpid()))


def wait_for(name, timeout=20.0):
    if not _marks():
        return
    end = time.time() + timeout
    while not os.path.exists(os.path.join(_marks(), name)) and time.time() < end:
        time.sleep(0.002)


def slow(seconds):
    if _marks():
        time.sleep(seconds)
'''

LISTING = "{% for e in data['items'] %}<div>{{ e.title }}: {{ e.summary }}</div>\n{% endfor %}"


def post(name: str, day: int, first: str) -> str:
    return f"---\ntitle: Post {name}\ndate: 2025-01-{day:02d}\n---\n{first}\n\nA later paragraph of {name}.\n"


def first_paragraph(path: Path, new: str) -> None:
    head, _, body = path.read_text().partition("\n---\n")
    path.write_text(head + "\n---\n" + new + "\n\n" + body.split("\n\n", 1)[1])


def ssg(site: Path, *args: str, marks: Path | None = None) -> subprocess.Popen:
    env = {**os.environ, "SOURCE_DATE_EPOCH": "1700000000"}
    env.pop("RACE_MARKS", None)
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # Python writes __pycache__ into the site, as on users' machines
    if marks is not None:
        env["RACE_MARKS"] = str(marks)
    return subprocess.Popen([sys.executable, "-m", "ssg.cli", "build", "-C", str(site), *args], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def build(site: Path, *args: str) -> str:
    p = ssg(site, *args)
    out, err = p.communicate(timeout=120)
    assert p.returncode == 0, out + err
    return err


def race(site: Path, marks: Path, start: str, save) -> None:
    """Build with the pacing on; once a load marks `start`, save, and let the loads go on."""
    p = ssg(site, "--jobs", "2", marks=marks)
    end = time.time() + 60
    while not (marks / start).exists() and p.poll() is None and time.time() < end:
        time.sleep(0.002)
    assert (marks / start).exists(), p.communicate()
    save()
    (marks / "edited").write_text("")
    out, err = p.communicate(timeout=120)
    assert p.returncode == 0, out + err


def assert_converges(site: Path, tmp_path: Path, files: list[str]) -> None:
    build(site, "--jobs", "2")
    build(site, "--jobs", "2")
    clean = tmp_path / "clean"
    shutil.copytree(site, clean, ignore=shutil.ignore_patterns("build", ".ssg-cache", "__pycache__"))
    build(clean, "--fresh", "--jobs", "1")
    for rel in files:
        assert (site / "build" / rel).read_text() == (clean / "build" / rel).read_text(), rel


def test_a_summary_saved_between_two_workers_reading_it_is_shown_again(tmp_path):
    """Worker 1 renders "/" with a post's summary; the post is saved; worker 2 renders
    "/late" with the new one. The record must not pair the new summary's hash with the
    old file's stamp, or "/" keeps the old summary for good."""
    site = write_site(tmp_path / "site", {
        **{f"content/posts/f{i:02d}.md": post(f"f{i}", i + 1, f"First paragraph of f{i}.") for i in range(20)},
        "content/posts/t.md": post("t", 25, "Target ORIGINAL."),
        "lib/__init__.py": "",
        "lib/pace.py": PACE,
        "routes/+page.py": "from ssg.content import collection\nfrom lib.pace import mark, wait_for\n\n"
                           "def load(event):\n    items = [p.preview() for p in collection('posts')]\n"
                           "    mark('first')\n    wait_for('second')\n    return {'items': items}\n",
        "routes/+page.html": LISTING,
        "routes/late/+page.py": "from ssg.content import collection\nfrom lib.pace import mark, wait_for, slow\n\n"
                                "def load(event):\n    posts = list(collection('posts'))\n    wait_for('edited')\n"
                                "    items = [p.preview() for p in posts]\n    mark('second')\n    slow(0.5)\n    return {'items': items}\n",
        "routes/late/+page.html": LISTING,
    })
    build(site, "--jobs", "2")
    for i in range(20):  # more than a few files changed: their summaries are not hashed before the build
        first_paragraph(site / f"content/posts/f{i:02d}.md", f"First paragraph of f{i}, edited.")
    first_paragraph(site / "content/posts/t.md", "Target VERSION-A.")
    marks = tmp_path / "marks"
    marks.mkdir()
    race(site, marks, "first", lambda: first_paragraph(site / "content/posts/t.md", "Target VERSION-B."))
    pids = {(marks / name).read_text() for name in ("first", "second")}
    assert len(pids) == 2, "the two pages must render in two workers for this race"
    assert_converges(site, tmp_path, ["index.html", "__data.json", "late/index.html", "late/__data.json"])


@pytest.mark.parametrize("how", ["edit shortcut", "incremental build"])
def test_a_summary_saved_while_a_listing_renders_is_shown_again(tmp_path, how):
    """p is edited before the build; q's first paragraph is saved while "/" (which shows
    every summary) renders. The record must not keep q's new stat beside its old hash."""
    site = write_site(tmp_path / "site", {
        "content/posts/p.md": post("p", 1, "Summary of p, ORIGINAL."),
        "content/posts/q.md": post("q", 2, "Summary of q, ORIGINAL."),
        "lib/__init__.py": "",
        "lib/pace.py": PACE,
        "routes/+page.py": "from ssg.content import collection\nfrom lib.pace import mark, wait_for, slow\n\n"
                           "def load(event):\n    mark('started')\n    wait_for('edited')\n"
                           "    items = [e.preview() for e in collection('posts')]\n    slow(1.3)\n    return {'items': items}\n",
        "routes/+page.html": LISTING + "<a href='/q'>q</a>\n",
        "routes/q/+page.py": "from ssg.content import collection\n\n"
                             "def load(event):\n    return {'items': [e.preview() for e in collection('posts') if e.slug == 'q']}\n",
        "routes/q/+page.html": LISTING,
    })
    build(site, "--jobs", "2")
    time.sleep(1.1)  # the first build's files are no longer written "just now"
    first_paragraph(site / "content/posts/p.md", "Summary of p, EDITED.")
    if how == "incremental build":
        (site / "static").mkdir()
        (site / "static/x.txt").write_text("x")  # no shortcut: the workers' build
    marks = tmp_path / "marks"
    marks.mkdir()
    race(site, marks, "started", lambda: first_paragraph(site / "content/posts/q.md", "Summary of q, SAVED DURING THE BUILD."))
    assert_converges(site, tmp_path, ["index.html", "__data.json", "q/index.html", "q/__data.json"])


@pytest.mark.parametrize("folder", [".shared", "node_modules"])
@pytest.mark.parametrize("first", [True, False], ids=["first read", "read before"])
def test_a_file_read_outside_the_walk_and_deleted_while_the_build_runs_is_looked_for_again(tmp_path, folder, first):
    """"/" includes the first of two files in a folder the walk passes over; it is deleted
    while "/zzz" renders. "missing" is not what "/" read: the next builds render it again."""
    site = write_site(tmp_path / "site", {
        f"{folder}/alt.html": "<p>ALT</p>",
        f"{folder}/note.html": "<p>note</p>",
        "routes/+page.html": '{%% include ["%s/alt.html", "%s/note.html"] %%}<a href="/zzz">z</a>\n' % (folder, folder),
        "lib/__init__.py": "",
        "lib/pace.py": PACE,
        "lib/m.py": "X = 1\n",
        "routes/zzz/+page.py": "from lib.m import X\nfrom lib.pace import mark, wait_for\n\n"
                               "def load(event):\n    mark('started')\n    wait_for('edited')\n    return {}\n",
        "routes/zzz/+page.html": "zzz",
    })
    if not first:
        time.sleep(1.1)  # older than "just now" when the first build hashes them
        build(site, "--jobs", "1")
        time.sleep(1.1)
        (site / "lib/m.py").write_text("X = 2\n")  # every path renders again
    marks = tmp_path / "marks"
    marks.mkdir()
    p = ssg(site, "--jobs", "1", marks=marks)
    end = time.time() + 60
    while not (marks / "started").exists() and p.poll() is None and time.time() < end:
        time.sleep(0.002)
    assert (marks / "started").exists(), p.communicate()
    (site / f"{folder}/alt.html").unlink()
    (marks / "edited").write_text("")
    p.communicate(timeout=120)
    assert_converges(site, tmp_path, ["index.html"])
    assert "note" in (site / "build/index.html").read_text()


def paced(site: Path, marks: Path, steps, *args: str) -> None:
    """Build with the pacing on; for each (mark, action, answer) of `steps`, once a load
    marks `mark`, do `action` and write `answer` for the loads waiting for it."""
    p = ssg(site, *args, marks=marks)
    for mark, action, answer in steps:
        end = time.time() + 60
        while not (marks / mark).exists() and p.poll() is None and time.time() < end:
            time.sleep(0.002)
        assert (marks / mark).exists(), p.communicate()
        action()
        (marks / answer).write_text("")
    out, err = p.communicate(timeout=120)
    assert p.returncode == 0, out + err


# "/" waits in its load until a file is made; /zzz, which "/" links to, waits until it is
# deleted: so the file comes after "/" started and goes after "/" rendered.
ROOT_WAITS = "from lib.pace import mark, wait_for\n\n{}def load(event):\n    mark('root')\n    wait_for('made')\n"
ZZZ_WAITS = "from lib.pace import mark, wait_for\n\ndef load(event):\n    mark('zzz')\n    wait_for('deleted')\n    return {}\n"


def made_and_deleted(site: Path, tmp_path: Path, file: Path, text: str, *args: str) -> None:
    """Build with the pacing on: `file` is made once "/" started, deleted once /zzz did."""
    marks = tmp_path / "marks"
    marks.mkdir()
    paced(site, marks, [("root", lambda: file.write_text(text), "made"), ("zzz", file.unlink, "deleted")], *args)


CAME_AND_WENT = {
    "template": ("partials/extra.html", "<p>EXTRA</p>"),
    "template outside the walk": (".shared/extra.html", "<p>EXTRA</p>"),
    "template at the site root": ("extra.html", "<p>EXTRA</p>"),
    "post": ("content/posts/extra.md", "---\ntitle: EXTRA\ndate: 2025-01-09\n---\nExtra.\n"),
}


@pytest.mark.parametrize("case", sorted(CAME_AND_WENT))
@pytest.mark.parametrize("first", [True, False], ids=["first build", "built before"])
def test_a_file_made_and_deleted_while_the_build_runs_is_not_shown_for_good(tmp_path, case, first):
    """A file appears while the build runs, "/" reads it (an include's first candidate, or a
    post its listing shows), and it is deleted before the build ends. The walks before and
    after the build both find it missing, yet "/" showed it: the next builds render "/" again."""
    rel, text = CAME_AND_WENT[case]
    include = rel.removeprefix("templates/") if case != "post" else "partials/base.html"
    site = write_site(tmp_path / "site", {
        "partials/base.html": "<p>base</p>",
        "content/posts/a.md": post("a", 1, "First."),
        "lib/__init__.py": "",
        "lib/pace.py": PACE,
        "lib/m.py": "X = 1\n",
        "routes/+page.py": "from ssg.content import collection\n" + ROOT_WAITS.format("")
                           + "    return {'titles': [p.title for p in collection('posts')]}\n",
        "routes/+page.html": '{%% include ["%s", "partials/base.html"] %%}{{ data.titles|join(",") }}<a href="/zzz">z</a>\n' % include,
        "routes/zzz/+page.py": "from lib.m import X\n" + ZZZ_WAITS,
        "routes/zzz/+page.html": "zzz",
    })
    (site / ".shared").mkdir()
    if not first:
        time.sleep(1.1)  # older than "just now" when the first build hashes them
        build(site, "--jobs", "1")
        time.sleep(1.1)
        (site / "lib/m.py").write_text("X = 2\n")  # every path renders again
    made_and_deleted(site, tmp_path, site / rel, text, "--jobs", "1")
    assert "EXTRA" in (site / "build/index.html").read_text(), "the race did not happen"
    assert_converges(site, tmp_path, ["index.html", "__data.json"])
    assert "EXTRA" not in (site / "build/index.html").read_text()


BASE_OR_EXTRA = '{% include ["partials/extra.html", "partials/base.html"] %}'


def test_a_file_made_while_the_build_runs_and_deleted_after_it_is_not_shown_for_good(tmp_path):
    """Made while the build runs and read by it, deleted once it is done: the walks before
    the build and after the deletion agree, so the build must not have vouched for itself."""
    site = write_site(tmp_path / "site", {
        "partials/base.html": "<p>base</p>",
        "lib/__init__.py": "",
        "lib/pace.py": PACE,
        "routes/+page.py": ROOT_WAITS.format("") + "    return {}\n",
        "routes/+page.html": BASE_OR_EXTRA,
    })
    marks = tmp_path / "marks"
    marks.mkdir()
    extra = site / "partials/extra.html"
    paced(site, marks, [("root", lambda: extra.write_text("<p>EXTRA</p>"), "made")], "--jobs", "1")
    assert "EXTRA" in (site / "build/index.html").read_text(), "the race did not happen"
    extra.unlink()
    assert_converges(site, tmp_path, ["index.html"])


def test_an_include_of_404_html_made_and_deleted_while_the_build_runs_is_not_shown_for_good(tmp_path):
    """404.html is rendered after every path, by the build itself: what it read is checked too."""
    site = write_site(tmp_path / "site", {
        "partials/base.html": "<p>base</p>",
        "lib/__init__.py": "",
        "lib/pace.py": PACE + "\n\nclass Pacer:\n    def __str__(self):\n        mark('rendered')\n        wait_for('deleted')\n        return ''\n",
        "routes/+layout.py": "from lib.pace import mark, wait_for, Pacer\n\ndef load(event):\n"
                             "    if event.url.rstrip('/').endswith('/404'):\n        mark('404')\n        wait_for('made')\n"
                             "        return {'pacer': Pacer()}\n    return {}\n",
        "routes/+layout.html": "{{ slot }}",
        "routes/+error.html": BASE_OR_EXTRA + "{{ data.pacer }}",
        "routes/+page.html": "home",
    })
    marks = tmp_path / "marks"
    marks.mkdir()
    extra = site / "partials/extra.html"
    paced(site, marks, [("404", lambda: extra.write_text("<p>EXTRA</p>"), "made"), ("rendered", extra.unlink, "deleted")], "--jobs", "1")
    assert "EXTRA" in (site / "build/404.html").read_text(), "the race did not happen"
    assert_converges(site, tmp_path, ["404.html"])


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_templates_the_edit_shortcut_loaded_before_it_gave_up_still_tell_what_they_read(tmp_path, jobs):
    """The shortcut renders in the build's own process and gives up (a page gained a link);
    the full build that follows reuses that process's compiled templates (its workers fork
    from it), and its pages still say which version of each they showed."""
    site = write_site(tmp_path / "site", {
        "partials/base.html": "<p>base</p>",
        "lib/__init__.py": "",
        "lib/pace.py": PACE,
        "routes/+page.py": ROOT_WAITS.format("") + "    return {}\n",
        "routes/+page.html": '{% include ["extra.html", "partials/base.html"] %}',
        # Seeded with "/" (no link needed): it waits for "/" to render before it marks.
        "routes/zzz/+page.py": "import asyncio\n" + ZZZ_WAITS.replace("def load(event):\n", "async def load(event):\n    await asyncio.sleep(0.5)\n"),
        "routes/zzz/+page.html": "zzz",
    })
    build(site, "--jobs", jobs)
    time.sleep(1.1)
    (site / "routes/+page.html").write_text('{% include ["extra.html", "partials/base.html"] %}<a href="/zzz">z</a>')
    (site / "routes/zzz/+page.html").write_text("zzz 2")
    made_and_deleted(site, tmp_path, site / "extra.html", "<p>EXTRA</p>", "--jobs", jobs)
    assert "EXTRA" in (site / "build/index.html").read_text(), "the race did not happen"
    assert_converges(site, tmp_path, ["index.html", "zzz/index.html"])


def test_a_template_first_loaded_inside_event_fetch_tells_what_it_read(tmp_path):
    """/ fetches /other, whose template is the first to load extra.html in the process: the
    version it read goes to the page that fetched it, and on to the build's record."""
    site = write_site(tmp_path / "site", {
        "partials/base.html": "<p>base</p>",
        "lib/__init__.py": "",
        "lib/pace.py": PACE,
        "routes/+page.py": ROOT_WAITS.format("async ") + "    return {'html': (await event.fetch('/other')).text}\n",
        "routes/+page.html": "{{ data.html|safe }}<a href='/zzz'>z</a>",
        "routes/other/+page.html": '{% include ["extra.html", "partials/base.html"] %}',
        "routes/zzz/+page.py": ZZZ_WAITS,
        "routes/zzz/+page.html": "zzz",
    })
    made_and_deleted(site, tmp_path, site / "extra.html", "<p>EXTRA</p>", "--jobs", "1")
    assert "EXTRA" in (site / "build/index.html").read_text(), "the race did not happen"
    assert_converges(site, tmp_path, ["index.html", "other/index.html"])


def test_a_static_file_fetched_while_it_came_and_went_is_fetched_again(tmp_path):
    """A load fetches static/extra.json while it exists; it is gone before the build ends."""
    site = write_site(tmp_path / "site", {
        "static/base.json": '{"v": "base"}',
        "lib/__init__.py": "",
        "lib/pace.py": PACE,
        "routes/+page.py": ROOT_WAITS.format("async ") + "    r = await event.fetch('/extra.json')\n"
                           "    if r.status_code != 200:\n        r = await event.fetch('/base.json')\n    return {'v': r.json()['v']}\n",
        "routes/+page.html": "{{ data.v }}<a href='/zzz'>z</a>",
        "routes/zzz/+page.py": ZZZ_WAITS,
        "routes/zzz/+page.html": "zzz",
    })
    made_and_deleted(site, tmp_path, site / "static/extra.json", '{"v": "EXTRA"}', "--jobs", "1")
    assert "EXTRA" in (site / "build/index.html").read_text(), "the race did not happen"
    assert_converges(site, tmp_path, ["index.html", "__data.json"])
