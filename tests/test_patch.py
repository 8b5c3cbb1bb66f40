"""An edit's shortcut (patch.py): when a few content files or route templates change and
the crawl cannot, only the paths that read them are rendered, and written in place. The
output must still be byte for byte what a clean build of the same sources writes; any edit
the shortcut cannot vouch for goes to the full incremental build."""

from __future__ import annotations

import os
import re
import shutil
import sys
from pathlib import Path

import pytest
from conftest import SITES, run_ssg
from sitekit import write_site
from test_incremental import EPOCH, edit, read_record, rendered_paths, snapshot, statuses
from test_incremental_reads import post_route

from ssg.cache import FEW

PATCHED = "rendered again in place"
UNCHANGED = "nothing changed since the last build"


def build(site: Path, out: Path, *args: str, ok: bool = True):
    result = run_ssg("build", "-C", str(site), "--out", str(out), *args, env={**os.environ, "SOURCE_DATE_EPOCH": EPOCH})
    assert (result.returncode == 0) == ok, result.stderr
    return result


@pytest.fixture
def site(tmp_path) -> Path:
    site = tmp_path / "site"
    shutil.copytree(SITES / "incremental", site)
    build(site, tmp_path / "out")
    return site


def clean_build(site: Path, tmp_path: Path) -> dict[str, bytes]:
    clean = tmp_path / "clean"
    shutil.copytree(site, clean, ignore=shutil.ignore_patterns(".ssg-cache"))
    build(clean, tmp_path / "out-clean", "--fresh")
    return snapshot(tmp_path / "out-clean")


def test_a_body_edit_renders_only_its_readers_and_keeps_every_other_file(site, tmp_path):
    out = tmp_path / "out"
    before = statuses(out)
    edit(site, "content/posts/post-2.md", "More text.", "Changed text.")
    result = build(site, out, "--explain")
    assert PATCHED in result.stderr, result.stderr
    assert "10 of 12 paths kept as they were" in result.stderr
    assert rendered_paths(result.stderr) == {"/", "/posts/post-2"}
    assert snapshot(out) == clean_build(site, tmp_path)
    after = statuses(out)
    rewritten = {rel for rel in after if after[rel] != before.get(rel)}
    # The two pages and their data, plus the two extras every build writes again.
    assert rewritten == {"index.html", "__data.json", "posts/post-2/index.html", "posts/post-2/__data.json", "404.html", "sitemap.xml"}
    # Both records were brought up to date: the next build has nothing to do.
    assert UNCHANGED in build(site, out).stderr


def test_edits_patched_one_after_another_equal_a_clean_build(site, tmp_path):
    out = tmp_path / "out"
    for round, n in enumerate((1, 3, 2, 1)):
        post = site / f"content/posts/post-{n}.md"
        post.write_text(post.read_text() + f"\nEdit {round}.\n")
        assert PATCHED in build(site, out).stderr
    assert snapshot(out) == clean_build(site, tmp_path)


def test_a_route_template_edit_is_patched_into_every_page_that_uses_it(site, tmp_path):
    out = tmp_path / "out"
    edit(site, "routes/+layout.html", "<nav>", "<nav class=main>")
    result = build(site, out, "--explain")
    assert PATCHED in result.stderr, result.stderr
    assert "/about" in rendered_paths(result.stderr) and "/posts/post-1" in rendered_paths(result.stderr)
    assert snapshot(out) == clean_build(site, tmp_path)


def test_a_new_link_goes_to_the_full_build_which_crawls_it(site, tmp_path):
    out = tmp_path / "out"
    (site / "content/posts/post-2.md").write_text((site / "content/posts/post-2.md").read_text() + "\nSee [the extra page](/extra/c/).\n")
    result = build(site, out, "--explain")
    assert PATCHED not in result.stderr
    assert re.search(r"\d+ of \d+ paths reused", result.stderr), result.stderr
    assert snapshot(out) == clean_build(site, tmp_path)
    assert (out / "extra/c/index.html").is_file(), "the crawl must reach the page the edit links to"


def test_a_new_broken_link_fails_the_build_and_keeps_the_output(site, tmp_path):
    out = tmp_path / "out"
    before = snapshot(out)
    (site / "content/posts/post-2.md").write_text((site / "content/posts/post-2.md").read_text() + "\n[Gone](/nope/)\n")
    result = build(site, out, ok=False)
    assert "404 /nope" in result.stderr and "linked from /posts/post-2/" in result.stderr
    assert snapshot(out) == before


FULL_BUILD_EDITS = {
    "front matter that entries() reads": ("content/posts/post-2.md", "title: Post 2", "title: Post Two"),
    "a static file (copied, read by no path)": ("static/style.css", "black", "navy"),
    "a route module (entries() and page options live there)": ("routes/about/+page.py", "return", "return"),
}


@pytest.mark.parametrize("name", list(FULL_BUILD_EDITS))
def test_edits_the_shortcut_cannot_vouch_for_go_to_the_full_build(site, tmp_path, name):
    out = tmp_path / "out"
    rel, old, new = FULL_BUILD_EDITS[name]
    edit(site, rel, old, new)
    (site / rel).write_text((site / rel).read_text() + "\n")  # a change even where old == new
    result = build(site, out)
    assert PATCHED not in result.stderr, result.stderr
    assert snapshot(out) == clean_build(site, tmp_path)


def test_an_output_file_edited_by_hand_is_repaired_by_the_patch(site, tmp_path):
    out = tmp_path / "out"
    with open(out / "posts/post-1/index.html", "a") as f:
        f.write("edited by hand")
    edit(site, "content/posts/post-2.md", "More text.", "Changed text.")
    result = build(site, out, "--explain")
    assert PATCHED in result.stderr, result.stderr
    assert "rendered /posts/post-1: its files in the output were changed or deleted" in result.stderr
    assert snapshot(out) == clean_build(site, tmp_path)


def test_a_file_no_build_reads_changes_nothing(site, tmp_path):
    out = tmp_path / "out"
    (site / "NOTES.txt").write_text("v1")
    build(site, out)
    before = snapshot(out)
    (site / "NOTES.txt").write_text("v2, longer")
    result = build(site, out, "--explain")
    assert "none of them read what changed" in result.stderr, result.stderr
    assert rendered_paths(result.stderr) == set()
    assert snapshot(out) == before


@pytest.fixture
def own_lib(monkeypatch):
    """A build in this process imports the site's lib/: another test site's is put aside
    meanwhile, and this one's is dropped afterwards (with the site folder on sys.path)."""
    for name in [n for n in sys.modules if n == "lib" or n.startswith("lib.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setattr(sys, "path", list(sys.path))
    yield
    for name in [n for n in sys.modules if n == "lib" or n.startswith("lib.")]:
        del sys.modules[name]


def test_the_shortcut_parses_the_edited_file_without_loading_the_front_matter_index(site, tmp_path, monkeypatch, own_lib):
    # files.json holds every file's front matter (21 MB at 40,000 posts); an edit needs none of it.
    from ssg import config as config_mod, uptodate
    from ssg.build import build as build_site
    from ssg.content import diskcache, store

    # An index of titles only: a post's body is read by its own page alone.
    (site / "routes/+page.py").write_text('from ssg.content import collection\n\n\ndef load(event):\n    return {"posts": [{"slug": p.slug, "data": p.data, "date": p.date} for p in collection("posts")]}\n')
    build(site, tmp_path / "out")
    edit(site, "content/posts/post-2.md", "More text.", "Changed text.")
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    cfg = config_mod.load(site).replace(out=str(tmp_path / "out"))
    store.reset()
    monkeypatch.setattr(diskcache.DiskCache, "_load_index", lambda self: pytest.fail("files.json was loaded"))
    try:
        summary = build_site(cfg, jobs=1, uptodate=uptodate.Check(cfg))
        assert summary.ok and summary.patched and [path for path, _ in summary.rendered] == ["/posts/post-2"]
    finally:
        monkeypatch.undo()
        store.reset()
    assert snapshot(tmp_path / "out") == clean_build(site, tmp_path)


def _journal_entry(site: Path, *entry) -> bytes:
    """A build.journal entry for the record build.cache holds now."""
    import marshal

    from ssg.content.diskcache import seal

    record = read_record((site / ".ssg-cache/build.cache").read_bytes())
    data = seal(marshal.dumps((record["id"], *entry)))
    return len(data).to_bytes(4, "little") + data


def test_a_patch_is_appended_to_the_journal_and_build_cache_is_left_as_it_was(site, tmp_path):
    out, cache = tmp_path / "out", site / ".ssg-cache/build.cache"
    before = (cache.stat().st_ino, cache.stat().st_mtime_ns, cache.read_bytes())
    for n in (1, 2):
        edit(site, f"content/posts/post-{n}.md", "More text.", "Changed text.")
        assert PATCHED in build(site, out).stderr
    assert (cache.stat().st_ino, cache.stat().st_mtime_ns, cache.read_bytes()) == before
    assert (site / ".ssg-cache/build.journal").stat().st_size > 0
    # The record with its patches vouches for the output: an edit touching nothing renders nothing.
    (site / "content/posts/post-3.md").touch()
    result = build(site, out, "--explain")
    assert "none of them read what changed" in result.stderr, result.stderr
    assert snapshot(out) == clean_build(site, tmp_path)


def test_a_full_build_writes_the_record_whole_and_drops_the_journal(site, tmp_path):
    out = tmp_path / "out"
    edit(site, "content/posts/post-1.md", "More text.", "Changed text.")
    assert PATCHED in build(site, out).stderr
    assert (site / ".ssg-cache/build.journal").exists()
    edit(site, "routes/about/+page.py", "return", "return")
    (site / "routes/about/+page.py").write_text((site / "routes/about/+page.py").read_text() + "\n")
    assert PATCHED not in build(site, out).stderr
    assert not (site / ".ssg-cache/build.journal").exists()
    edit(site, "content/posts/post-2.md", "More text.", "Changed text.")
    assert PATCHED in build(site, out).stderr
    assert snapshot(out) == clean_build(site, tmp_path)


@pytest.mark.parametrize("damage", ["a patch begun and never finished", "a patch cut short"])
def test_a_journal_without_its_last_patch_whole_leaves_no_record_to_trust(site, tmp_path, damage):
    # As if the shortcut had been killed while it moved its files in, or wrote its patch.
    out = tmp_path / "out"
    edit(site, "content/posts/post-2.md", "More text.", "Changed text.")
    assert PATCHED in build(site, out).stderr
    journal = site / ".ssg-cache/build.journal"
    if damage == "a patch cut short":
        journal.write_bytes(journal.read_bytes()[:-3])
    else:
        journal.write_bytes(journal.read_bytes() + _journal_entry(site, "begin"))
    edit(site, "content/posts/post-1.md", "More text.", "Changed text.")
    result = build(site, out, "--explain")
    assert "rendered /about: no previous build" in result.stderr, result.stderr
    assert snapshot(out) == clean_build(site, tmp_path)


@pytest.mark.parametrize("stat", [3, ["x", 1.5, "h", False], [1 << 70, 1, "h", False], [1, 2, None, False]])
def test_a_journal_patch_with_a_damaged_stat_makes_the_cache_unreadable(site, tmp_path, stat):
    out = tmp_path / "out"
    edit(site, "content/posts/post-2.md", "More text.", "Changed text.")
    assert PATCHED in build(site, out).stderr
    journal = site / ".ssg-cache/build.journal"
    damaged = _journal_entry(site, "patch", [], {}, {"deps": {}, "paths": {}}, {"content/posts/post-1.md": stat})
    journal.write_bytes(journal.read_bytes() + damaged)
    edit(site, "content/posts/post-1.md", "More text.", "Changed text.")
    result = build(site, out, "--explain")
    assert "the build cache is unreadable (TypeError)" in result.stderr, result.stderr
    assert snapshot(out) == clean_build(site, tmp_path)


def test_the_journal_is_folded_into_the_record_after_its_last_patch(site, tmp_path, monkeypatch, own_lib):
    from ssg import cache

    monkeypatch.setattr(cache, "JOURNAL_PATCHES", 2)
    out = tmp_path / "out"
    for n in (1, 2, 3):
        edit(site, f"content/posts/post-{n}.md", "More text.", "Changed text.")
        # In this process, so the limit above holds (a build like `ssg build`'s).
        assert PATCHED in _build_here(site, out, monkeypatch)
        assert (site / ".ssg-cache/build.journal").exists() == (n < 3)
    assert snapshot(out) == clean_build(site, tmp_path)


def _build_here(site: Path, out: Path, monkeypatch) -> str:
    from ssg import config as config_mod, uptodate
    from ssg.build import build as build_site
    from ssg.content import store

    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    cfg = config_mod.load(site).replace(out=str(out))
    store.reset()
    try:
        summary = build_site(cfg, jobs=1, uptodate=uptodate.Check(cfg))
    finally:
        store.reset()
    assert summary.ok
    return PATCHED if summary.patched else "built"


def test_a_journal_with_a_bit_flipped_is_not_trusted(site, tmp_path):
    """A patch's record of a page's links with one bit flipped still reads as a record:
    its checksum tells, and the cache is ignored with a warning."""
    out = tmp_path / "out"
    edit(site, "content/posts/post-2.md", "More text.", "Changed text.")
    assert PATCHED in build(site, out).stderr
    journal = site / ".ssg-cache/build.journal"
    data = journal.read_bytes()
    at = data.rindex(b"/posts/post-2")
    journal.write_bytes(data[:at] + bytes([data[at] ^ 0x20]) + data[at + 1 :])
    edit(site, "content/posts/post-1.md", "More text.", "Changed text.")
    result = build(site, out, "--explain")
    assert "the build cache is unreadable (ValueError)" in result.stderr, result.stderr
    assert snapshot(out) == clean_build(site, tmp_path)


def test_summaries_recorded_just_after_their_files_were_written_are_checked_by_content(tmp_path):
    """A site written and built at once (a checkout, a generated site) records its
    summaries within a tick of their files' time stamps: not proof they are unchanged.
    After an edit's shortcut kept those records, a full build (--report) asked the files'
    contents, not rendered every listing again for a summary that had not changed."""
    site = write_site(tmp_path / "site", {
        **{f"content/posts/p{i}.md": f"---\ntitle: P{i}\n---\nFirst paragraph {i}.\n\nMore text.\n" for i in range(FEW + 8)},
        **post_route(template="<article>{{ data.post.html }}</article>"),
        "routes/+page.py": 'from ssg.content import collection\n\ndef load(event):\n    return {"posts": [(p.slug, p.summary) for p in collection("posts")]}\n',
        "routes/+page.html": '{% for slug, summary in data.posts %}<a href="/posts/{{ slug }}">{{ summary }}</a>{% endfor %}',
    })
    out = tmp_path / "out"
    build(site, out)
    edit(site, "content/posts/p3.md", "More text.", "Changed text.")
    assert PATCHED in build(site, out).stderr
    template = site / "routes/posts/[slug]/+page.html"
    template.write_text(template.read_text().replace("article", "section"))
    result = build(site, out, "--report", str(tmp_path / "report.json"), "--explain")
    assert rendered_paths(result.stderr) == {f"/posts/p{i}" for i in range(FEW + 8)}, result.stderr
    assert snapshot(out) == clean_build(site, tmp_path)


@pytest.mark.parametrize("policy", ["ignore", "warn"])
def test_a_link_that_answered_an_error_is_followed_again_once_an_edit_makes_it_answer(tmp_path, policy):
    """A crawled link that answered 404 (ignored, or a warning) is in no record: only a
    full build can tell whether an edit makes it answer, so the shortcut leaves it one."""
    site = write_site(tmp_path / "site", {
        "ssg.toml": f'[prerender]\non_http_error = "{policy}"\n',
        "content/notes/_collection.yaml": "route: /notes/[slug]\n",
        "content/notes/a.md": "---\ntitle: A\n---\nSee [zz](/tags/zz).\n",
        "routes/+page.html": "<a href=\"{{ url('/notes/a') }}\">a</a>\n",
        "routes/notes/[slug]/+page.py": "from ssg.content import collection\n\n"
                                        "def load(event):\n    return {'n': collection('notes').get(event.params['slug'])}\n",
        "routes/notes/[slug]/+page.html": "{{ data.n.html }}\n",
        "routes/tags/[tag]/+page.py": "from ssg import error\nfrom ssg.content import collection\n\n"
                                      "def load(event):\n    ns = [n.title for n in collection('notes').tagged(event.params['tag'])]\n"
                                      "    if not ns:\n        error(404, 'no such tag')\n    return {'ns': ns}\n",
        "routes/tags/[tag]/+page.html": "{{ data.ns }}\n",
    })
    out = tmp_path / "out"
    build(site, out)
    assert not (out / "tags/zz/index.html").exists()
    edit(site, "content/notes/a.md", "title: A\n", "title: A\ntags: [zz]\n")
    result = build(site, out)
    assert PATCHED not in result.stderr, result.stderr
    assert (out / "tags/zz/index.html").read_text() == "[&#39;A&#39;]\n"
    assert snapshot(out) == clean_build(site, tmp_path)


def test_the_shortcut_applies_when_the_crawl_is_off(tmp_path):
    """With `crawl = false` pages record no links: rendered again, they must not start to."""
    site = write_site(tmp_path / "site", {
        "ssg.toml": "[prerender]\ncrawl = false\nentries = [\"/\", \"/about\"]\n",
        "content/a.md": "---\ntitle: A\n---\nbody [x](/about)\n",
        "routes/+page.py": "from ssg.content import entry\n\ndef load(event):\n    return {'h': entry('a.md').html}\n",
        "routes/+page.html": "{{ data.h }}\n",
        "routes/about/+page.html": "about\n",
    })
    out = tmp_path / "out"
    build(site, out)
    edit(site, "content/a.md", "body [x]", "body two [x]")
    assert PATCHED in build(site, out).stderr
    assert snapshot(out) == clean_build(site, tmp_path)


def test_site_code_first_imported_by_a_path_the_shortcut_renders_goes_to_the_full_build(tmp_path):
    """A load imports helpers/fancy.py only for a post marked `fancy`: the edit that marks
    one makes the module part of the site, which only a full build records."""
    site = write_site(tmp_path / "site", {
        "content/blog/_collection.yaml": "route: /blog/[slug]\n",
        "content/blog/p0.md": "---\ntitle: P0\n---\nbody 0.\n",
        "content/blog/p1.md": "---\ntitle: P1\n---\nbody 1.\n",
        "routes/+page.html": "<a href=\"{{ url('/blog/p0') }}\">p0</a><a href=\"{{ url('/blog/p1') }}\">p1</a>\n",
        "routes/blog/[slug]/+page.py": "from ssg.content import collection\n\n"
                                       "def load(event):\n    p = collection('blog').get(event.params['slug'])\n    extra = ''\n"
                                       "    if p.data.get('fancy'):\n        from helpers.fancy import deco\n        extra = deco()\n"
                                       "    return {'p': p, 'x': extra}\n",
        "routes/blog/[slug]/+page.html": "{{ data.x }}{{ data.p.html }}\n",
        "helpers/__init__.py": "",
        "helpers/fancy.py": "def deco():\n    return 'F1'\n",
    })
    out = tmp_path / "out"
    build(site, out)
    edit(site, "content/blog/p1.md", "title: P1\n", "title: P1\nfancy: true\n")
    assert PATCHED not in build(site, out).stderr
    edit(site, "helpers/fancy.py", "F1", "F2")
    build(site, out)
    assert (out / "blog/p1/index.html").read_text().startswith("F2")
    assert snapshot(out) == clean_build(site, tmp_path)
