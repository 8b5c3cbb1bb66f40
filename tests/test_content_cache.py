"""The content cache on disk (.ssg-cache/content/): rendered bodies and parsed front matter
reused by the next process, never at the cost of a different output."""

from __future__ import annotations

import datetime
import json
import multiprocessing
import os
import shutil
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from sitekit import journal_lines, open_site, replace_records, saved_records, write_site

from ssg.content import ContentError, Heading, collection, diskcache, entry, files, frontmatter, store
from ssg.content.markdown import MarkdownItEngine, engine, use_engine

REPO = Path(__file__).resolve().parent.parent

ROUTES = {
    "routes/+layout.html": "<main>{{ slot }}</main>",
    "routes/blog/[slug]/+page.py": """
        from ssg.content import collection

        def entries():
            return [{"slug": p.slug} for p in collection("blog")]

        def load(event):
            return {"post": collection("blog").get(event.params["slug"])}
    """,
    "routes/blog/[slug]/+page.html": "{{ data.post.html }}",
    "routes/docs/[slug]/+page.html": "doc",
    "routes/guide/[slug]/+page.html": "guide",
    "content/blog/_collection.yaml": "route: /blog/[slug]\n",
    "content/docs/_collection.yaml": "route: /docs/[slug]\n",
}

BODY = """\
Intro with [a link](b.md#usage), [docs](../docs/setup.md) and [the feed](/blog/atom.xml).
See [usage](#usage)[^1].

<!--more-->

## Usage

```python
def hello():
    return "world"
```

| a | b |
| - | - |
| 1 | 2 |

- [x] done
- [ ] not yet

[^1]: A footnote.
"""


def post(title: str, body: str = "Text.\n", date: str = "2024-01-01", **extra: str) -> str:
    lines = [f"title: {title}", f"date: {date}", *(f"{k}: {v}" for k, v in extra.items())]
    return "---\n" + "\n".join(lines) + "\n---\n" + body


FILES = {
    "content/blog/a.md": post("A", BODY),
    "content/blog/b.md": post("B", "## Usage\n\nPlain *text* and `code`.\n"),
    "content/blog/c.md": post("C", "First paragraph.\n\n```js\nlet x = 1;\n```\n"),
    "content/docs/setup.md": post("Setup", "Set it up.\n"),
}


@pytest.fixture(autouse=True)
def fresh_state(monkeypatch):
    """Each test starts like a new process, with the cache on, and leaves no state behind."""
    monkeypatch.delenv("SSG_CONTENT_CACHE", raising=False)
    diskcache.configure()
    store.reset()
    yield
    files.end_prefetch()  # one a failed test began
    diskcache.configure()
    store.reset()
    use_engine(None)


def new_process(root: Path, **overrides):
    """What the next build sees: nothing in memory, the disk cache as the last one left it."""
    store.reset()
    return open_site(root, **overrides)


def bodies(name: str = "blog") -> dict[str, tuple]:
    return {p.path: (str(p.html), p.toc, str(p.summary)) for p in collection(name)}


def forbid_rendering(monkeypatch) -> list[str]:
    """Make the engine fail the test if asked to render; returns the bodies it was asked for."""
    asked: list[str] = []

    def render(body, **kwargs):
        asked.append(body)
        raise AssertionError("rendered instead of read from the cache")

    monkeypatch.setattr(engine(), "render", render)
    return asked


def count_renders(monkeypatch) -> list[str]:
    asked: list[str] = []
    real = engine().render
    monkeypatch.setattr(engine(), "render", lambda body, **kw: asked.append(body) or real(body, **kw))
    return asked


def rows(root: Path) -> int:
    with sqlite3.connect(root / ".ssg-cache/content/bodies.sqlite") as db:
        return db.execute(f"select count(*) from {diskcache._TABLE}").fetchone()[0]


# -- a cached body is the body ---------------------------------------------------------------------


def demo_site(tmp_path: Path) -> Path:
    root = tmp_path / "demo"
    for name in ("content", "routes", "lib", "static"):
        if (REPO / name).is_dir():
            shutil.copytree(REPO / name, root / name)
    (root / "ssg.toml").write_text('origin = "https://ssg.example.com"\n')
    return root


@pytest.mark.parametrize("which", ["default engine", "reference engine"])
def test_a_cached_body_equals_a_fresh_render(tmp_path, monkeypatch, which):
    if which == "reference engine":
        use_engine(MarkdownItEngine())
    roots = [write_site(tmp_path / "site", {**ROUTES, **FILES}), demo_site(tmp_path)]
    for root in roots:
        new_process(root, drafts=True)
        first = bodies()
        assert rows(root) == len(first), "every body was written"
        # A fresh render, the cache not read:
        diskcache.configure(read=False)
        new_process(root, drafts=True)
        fresh = bodies()
        diskcache.configure()
        # And from the cache only:
        new_process(root, drafts=True)
        with monkeypatch.context() as m:
            asked = forbid_rendering(m)
            cached = bodies()
        assert asked == []
        assert cached == fresh == first
        assert all(isinstance(h, Heading) for toc in (v[1] for v in cached.values()) for h in toc)
    new_process(roots[0])
    html = entry("blog/a.md").html
    assert 'href="/blog/b/#usage"' in html and 'href="/docs/setup/"' in html and 'class="highlight"' in html


def test_a_cached_body_is_used_without_reading_the_file_or_its_yaml(tmp_path, monkeypatch):
    root = write_site(tmp_path / "site", {**ROUTES, **FILES})
    new_process(root)
    first = bodies()
    new_process(root)
    forbid_rendering(monkeypatch)
    monkeypatch.setattr(frontmatter, "parse", lambda *a: pytest.fail("front matter parsed again"))
    real_read = Path.read_bytes
    monkeypatch.setattr(Path, "read_bytes", lambda self: pytest.fail(f"read {self}") if self.suffix == ".md" else real_read(self))
    assert bodies() == first
    assert [p.data["title"] for p in collection("blog")] == ["A", "B", "C"]


def test_a_process_keeps_few_bodies_whole_and_every_summary(tmp_path, monkeypatch):
    monkeypatch.setattr(files, "WHOLE_BODIES", 3)
    posts = {f"content/blog/p{i}.md": f"---\ntitle: P{i}\n---\nFirst {i}.\n\n## Part\n\nMore {i}.\n" for i in range(10)}
    root = write_site(tmp_path / "site", {**ROUTES, **posts})
    new_process(root)
    first = bodies()
    kept = [p for p in store.current().files.parsed.values() if p.rendered is not None and p.rendered.whole]
    assert len(kept) == 3, "only the last few bodies stay whole in memory"
    with monkeypatch.context() as m:
        forbid_rendering(m)  # summaries come from memory, the rest from the disk cache
        assert [str(p.summary) for p in collection("blog")] == [v[2] for v in first.values()]
        assert bodies() == first
    assert "<p>More 5.</p>" in entry("blog/p5.md").html


def test_a_listing_reads_summaries_without_their_html(tmp_path, monkeypatch):
    """Summaries come from the disk cache by their own checksum: a listing of thousands of
    entries reads none of their HTML; a damaged summary is rendered again."""
    root = write_site(tmp_path / "site", {**ROUTES, **FILES})
    new_process(root)
    first = bodies()
    new_process(root)
    with monkeypatch.context() as m:
        forbid_rendering(m)
        m.setattr(diskcache.Bodies, "get", lambda self, key: pytest.fail("read a whole body for a summary"))
        assert [str(p.summary) for p in collection("blog")] == [v[2] for v in first.values()]
    assert bodies() == first, "the HTML, asked for afterwards, still comes whole"
    with sqlite3.connect(root / ".ssg-cache/content/bodies.sqlite") as db:
        (key,) = db.execute(f"select key from {diskcache._TABLE} where summary like '%First%'").fetchone()
        db.execute(f"update {diskcache._TABLE} set summary = replace(summary, 'First', 'Forged') where key = ?", (key,))
    new_process(root)
    renders = count_renders(monkeypatch)
    assert [str(p.summary) for p in collection("blog")] == [v[2] for v in first.values()]
    assert len(renders) == 1, "the damaged row's body was rendered again"


def test_a_files_front_matter_dep_is_one_string_for_every_reader():
    """A listing records each entry's front matter dep, and every page that reads it keeps
    the record: one string per file, not one per record."""
    from ssg.context import front_matter

    first, again = front_matter("content/blog/" + "a.md"), front_matter("content/blog/a" + ".md")
    assert first == again == "content/blog/a.md#front-matter" and first is again


def test_an_entrys_json_reads_its_body_once(tmp_path, monkeypatch):
    """An entry as JSON (an endpoint's json(post), a page's __data.json) needs its whole
    body, which holds its summary: no lookup of the summary on its own, cold or warm."""
    root = write_site(tmp_path / "site", {**ROUTES, **FILES})
    from ssg.serialize import to_jsonable

    for cache in ("empty", "warm"):
        new_process(root)
        summaries: list[str] = []
        with monkeypatch.context() as m:
            real = diskcache.DiskCache.get_summary
            m.setattr(diskcache.DiskCache, "get_summary", lambda self, key: summaries.append(key) or real(self, key))
            found = to_jsonable(entry("blog/a.md"))
        assert summaries == [], f"the summary was looked up apart from its body ({cache} cache)"
        assert list(found) == ["slug", "path", "collection", "url", "title", "date", "data", "summary", "toc", "html"]
        assert found["summary"].startswith("<p>Intro with") and 'id="usage"' in found["html"]


# -- what changes the output -------------------------------------------------------------------------


def test_editing_a_body_changes_the_output(tmp_path, monkeypatch):
    root = write_site(tmp_path / "site", {**ROUTES, **FILES})
    new_process(root)
    before = bodies()
    path = root / "content/blog/c.md"
    path.write_text(path.read_text().replace("First", "Freshly edited"))
    new_process(root)
    renders = count_renders(monkeypatch)
    after = bodies()
    assert "Freshly edited paragraph" in after["content/blog/c.md"][0] and "Freshly edited" in after["content/blog/c.md"][2]
    assert len(renders) == 1 and {k: v for k, v in after.items() if k != "content/blog/c.md"} == {
        k: v for k, v in before.items() if k != "content/blog/c.md"
    }, "only the edited body is rendered again"
    # Back to the old text: its rendering is still in the cache.
    path.write_text(FILES["content/blog/c.md"])
    new_process(root)
    renders.clear()
    assert bodies() == before and renders == []


def test_a_linked_files_new_url_renders_the_body_again(tmp_path, monkeypatch):
    root = write_site(tmp_path / "site", {**ROUTES, **FILES})
    new_process(root)
    bodies()
    assert 'href="/docs/setup/"' in entry("blog/a.md").html
    (root / "content/docs/_collection.yaml").write_text("route: /guide/[slug]\n")
    new_process(root)
    renders = count_renders(monkeypatch)
    html = entry("blog/a.md").html
    assert 'href="/guide/setup/"' in html and 'href="/docs/setup/"' not in html
    assert len(renders) == 1, "a.md links to setup.md, whose URL changed"
    assert "/guide/" not in entry("blog/c.md").html and len(renders) == 1, "c.md links to nothing: reused"


def test_the_base_path_and_drafts_reach_cached_bodies(tmp_path, monkeypatch):
    root = write_site(tmp_path / "site", {**ROUTES, **FILES})
    new_process(root)
    assert 'href="/blog/atom.xml"' in entry("blog/a.md").html
    new_process(root, base_path="/sub")
    html, summary = entry("blog/a.md").html, entry("blog/a.md").summary
    assert 'href="/sub/blog/b/#usage"' in html and 'href="/sub/blog/atom.xml"' in html
    assert 'href="/sub/blog/a/#usage"' in summary
    # The linked file becomes a draft: the link is an error again, not a cached URL.
    (root / "content/blog/b.md").write_text(post("B", "Draft.\n", draft="true"))
    new_process(root)
    with pytest.raises(ContentError, match="links to content/blog/b.md, which is a draft"):
        entry("blog/a.md").html
    # ... and gone: the error names the missing file.
    (root / "content/blog/b.md").unlink()
    new_process(root)
    with pytest.raises(ContentError, match="links to content/blog/b.md, which does not exist"):
        entry("blog/a.md").html


def test_the_engine_is_part_of_the_key(tmp_path, monkeypatch):
    root = write_site(tmp_path / "site", {**ROUTES, **FILES})
    default, reference = diskcache.engine_identity(engine()), diskcache.engine_identity(MarkdownItEngine())
    assert default and reference
    assert type(engine()) is MarkdownItEngine or default != reference, "FastEngine and markdown-it-py: two keys"
    monkeypatch.setenv("SSG_MARKDOWN", "reference")
    assert diskcache._identity(MarkdownItEngine()) != reference, "SSG_MARKDOWN is part of it"
    monkeypatch.delenv("SSG_MARKDOWN")

    class Custom:
        def render(self, body, *, links=None, page_url=None):
            return MarkdownItEngine().render(body.upper(), links=links, page_url=page_url)

    assert diskcache.engine_identity(Custom()) is None, "an engine ssg cannot vouch for is not cached"
    new_process(root)
    bodies()
    use_engine(Custom())
    new_process(root)
    assert "TEXT" in entry("blog/b.md").html, "not the default engine's cached body"


# -- damage, sharing, switches ------------------------------------------------------------------------


def test_a_corrupt_cache_is_ignored(tmp_path, monkeypatch):
    root = write_site(tmp_path / "site", {**ROUTES, **FILES})
    new_process(root)
    good = bodies()
    cache = root / ".ssg-cache/content"
    store.reset()
    table = diskcache._TABLE
    with sqlite3.connect(cache / "bodies.sqlite") as db:
        keys = [k for (k,) in db.execute(f"select key from {table} order by key")]
        db.execute(f"update {table} set toc = ? where key = ?", ("[[1, 2", keys[0]))  # truncated JSON
        db.execute(f"update {table} set html = ? where key = ?", (1, keys[1]))  # not text
        db.execute(f"update {table} set html = replace(html, 'p>', 'b>') where key = ?", (keys[2],))  # damaged on disk
    (cache / "files.json").write_text('{"key": "')  # truncated
    new_process(root)
    renders = count_renders(monkeypatch)
    assert bodies() == good and len(renders) == 3, "three damaged rows: three bodies rendered again"
    # A database that is not one: the body is rendered; the next build starts a new database.
    store.reset()
    (cache / "bodies.sqlite").write_bytes(b"garbage" * 1000)
    for suffix in ("-wal", "-shm"):
        (cache / f"bodies.sqlite{suffix}").unlink(missing_ok=True)
    new_process(root)
    renders.clear()
    assert bodies() == good and len(renders) == 3
    diskcache.start_build(root)
    new_process(root)
    bodies()
    assert rows(root) == 3, "start_build replaced the damaged database"
    new_process(root)
    renders.clear()
    assert bodies() == good and renders == []


def test_damaged_front_matter_records_are_parsed_again(tmp_path):
    root = write_site(tmp_path / "site", {**ROUTES, **FILES})
    new_process(root)
    want = {p.path: p.data for p in collection("blog")}
    records = saved_records(root)
    records["content/blog/a.md"][5] = "not a mapping"
    records["content/blog/b.md"][6] = [[1, 2, 3]]  # lines: not [path, line] pairs
    records["content/blog/c.md"] = ["short"]
    replace_records(root, records)
    new_process(root)
    assert {p.path: p.data for p in collection("blog")} == want


FRONT_MATTER = """\
---
title: Types
date: 2024-02-29
when: 2024-01-02T10:00:00.123456+02:00
naive: 2024-01-02 10:00:00
utc: 2024-01-02T10:00:00Z
n: 3
x: 1.5
big: 123456789012345678901234567890
inf: .inf
flag: true
none: null
empty: ""
quoted: "2024-01-01"
nested: {a: [1, {b: [2024-03-01, "c"]}], "0": zero}
unicode: "caf\\u00e9 \\U0001F600"
---
Body.
"""


def test_front_matter_comes_back_identical(tmp_path, monkeypatch):
    root = write_site(tmp_path / "site", {**ROUTES, "content/notes/t.md": FRONT_MATTER,
                                           "content/notes/s.md": "---\ntitle: S\nthings: !!set {a: null}\n---\nS.\n",
                                           "content/notes/k.md": "---\ntitle: K\nmap: {1: one, 2024-01-01: day}\n---\nK.\n"})
    new_process(root)
    want = {p.path: (p.data, store.current().files.get(p.path).lines, store.current().files.get(p.path).body_line) for p in collection("notes")}
    parses: list[str] = []
    real = frontmatter.parse
    monkeypatch.setattr(frontmatter, "parse", lambda text, rel: parses.append(rel) or real(text, rel))
    new_process(root)
    got = {p.path: (p.data, store.current().files.get(p.path).lines, store.current().files.get(p.path).body_line) for p in collection("notes")}
    assert got == want
    for path, (data, _, _) in got.items():
        for key, value in data.items():
            assert type(value) is type(want[path][0][key]), (path, key)
    when = got["content/notes/t.md"][0]["when"]
    assert when.utcoffset() == datetime.timedelta(hours=2) and when.microsecond == 123456
    assert type(got["content/notes/t.md"][0]["date"]) is datetime.date
    assert sorted(parses) == ["content/notes/k.md", "content/notes/s.md"], "a set or non-string keys: parsed each time"


def test_a_new_mtime_with_the_same_bytes_is_a_hit(tmp_path, monkeypatch):
    root = write_site(tmp_path / "site", {**ROUTES, **FILES})
    new_process(root)
    first = bodies()
    for path in (root / "content").rglob("*.md"):
        os.utime(path, ns=(1, 1_000_000_000))  # a fresh checkout
    new_process(root)
    monkeypatch.setattr(frontmatter, "parse", lambda *a: pytest.fail("front matter parsed again"))
    forbid_rendering(monkeypatch)
    assert bodies() == first
    st = (root / "content/blog/a.md").stat()
    assert saved_records(root)["content/blog/a.md"][:2] == [max(st.st_mtime_ns, st.st_ctime_ns), st.st_size], "the new stamp is noted"


SHARE = """
import sys, json
from sitekit import open_site
from ssg.content import collection, store
from ssg.content.markdown import engine
open_site(__import__("pathlib").Path(sys.argv[1]))
if sys.argv[2] == "read":
    engine().render = lambda *a, **k: sys.exit("rendered instead of reading the cache")
print(json.dumps({p.path: [str(p.html), str(p.summary)] for p in collection("blog")}))
"""


def test_two_processes_share_entries(tmp_path):
    posts = {f"content/blog/p{i}.md": post(f"P{i}", f"Post {i}.\n\n```py\nx = {i}\n```\n") for i in range(20)}
    root = write_site(tmp_path / "site", {**ROUTES, **FILES, **posts})
    env = {**os.environ, "PYTHONPATH": str(REPO / "tests")}
    env.pop("SSG_CONTENT_CACHE", None)

    def run(mode: str) -> subprocess.Popen:
        return subprocess.Popen([sys.executable, "-c", SHARE, str(root), mode], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    # Two writers at once (the workers of one build), then a reader that may not render.
    writers = [run("write"), run("write")]
    outs = [w.communicate(timeout=120) for w in writers]
    assert all(w.returncode == 0 for w in writers), outs
    reader = run("read")
    out, err = reader.communicate(timeout=120)
    assert reader.returncode == 0, err
    assert json.loads(out) == json.loads(outs[0][0]) == json.loads(outs[1][0])
    assert rows(root) == 23


def test_forked_workers_share_bodies_through_the_cache(tmp_path):
    """`ssg build --jobs 2`: a body one worker rendered is read by the other, and by the next build."""
    posts = {f"content/blog/p{i:02}.md": post(f"P{i}", f"Post {i}.\n\n```py\nx = {i}\n```\n") for i in range(30)}
    routes = {k: v for k, v in ROUTES.items() if "docs" not in k and "guide" not in k}
    root = write_site(tmp_path / "site", {**routes, **posts, "routes/+page.py": """
        from ssg.content import collection

        def load(event):
            return {"posts": [p.preview() for p in collection("blog")]}
    """, "routes/+page.html": "{% for p in data.posts %}<a href='{{ p.url }}'>{{ p.summary }}</a>{% endfor %}",
        # A file no listing reads, parsed only in a worker: its front matter is kept too.
        "routes/about/+page.py": """
        from ssg.content import entry

        def load(event):
            return {"about": entry("about.md")}
    """, "routes/about/+page.html": "{{ data.about.html }}", "content/about.md": post("About", "About us.\n")})
    counter = tmp_path / "renders"
    plugin = tmp_path / "plugin" / "sitecustomize.py"
    plugin.parent.mkdir()
    plugin.write_text(textwrap.dedent(f"""
        # Count the bodies every process of the build renders.
        import os
        from ssg.content import markdown, store
        real = markdown.engine
        def counted():
            e = real()
            if not getattr(e, "_counted", False):
                render = e.render
                def count(body, **kw):
                    with open({str(counter)!r}, "a") as f:
                        f.write(f"{{os.getpid()}}\\n")
                    return render(body, **kw)
                e.render, e._counted = count, True
            return e
        markdown.engine = store.engine = counted
    """))
    env = {**os.environ, "PYTHONPATH": str(plugin.parent), "SOURCE_DATE_EPOCH": "1700000000"}
    env.pop("SSG_CONTENT_CACHE", None)

    def build(*args: str) -> list[str]:
        counter.write_text("")
        command = ["build", "-C", str(root), "--out", str(tmp_path / "out"), "--jobs", "2", *args]
        result = subprocess.run([sys.executable, "-m", "ssg.cli", *command], env=env, capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr
        return counter.read_text().split()

    cold = build()
    assert len(cold) >= 31 and rows(root) == 31
    assert "content/about.md" in saved_records(root), "a worker's parse is saved when it exits"
    first = (tmp_path / "out/index.html").read_text()
    (root / "content/blog/p07.md").write_text(post("P7", "Post 7, edited.\n"))
    edited = build()
    assert 1 <= len(edited) <= 2, f"one edited body, {len(edited)} renders: the other 30 came from the cache"
    page = (tmp_path / "out/index.html").read_text()
    assert "Post 7, edited." in page and page.replace("Post 7, edited.", "Post 7.") == first
    assert len(build("--fresh")) >= 31, "--fresh renders every body again"
    assert (tmp_path / "out/index.html").read_text() == page


def test_fresh_reads_nothing_but_writes(tmp_path, monkeypatch):
    root = write_site(tmp_path / "site", {**ROUTES, **FILES})
    new_process(root)
    bodies()
    diskcache.start_build(root, fresh=True)
    new_process(root)
    renders = count_renders(monkeypatch)
    parses: list[str] = []
    real = frontmatter.parse
    monkeypatch.setattr(frontmatter, "parse", lambda text, rel: parses.append(rel) or real(text, rel))
    bodies()
    assert len(renders) == 3 and len(parses) == 4, "every body rendered, every file parsed (a.md links to docs/setup.md)"
    diskcache.start_build(root, fresh=False)
    new_process(root)
    renders.clear()
    bodies()
    assert renders == []


def test_a_fresh_builds_workers_share_the_bodies_it_rendered(tmp_path, monkeypatch):
    """--fresh renders every body once, not once per worker: a worker (a process that
    inherited the build's id) reads what another rendered for this build, and the next
    --fresh build reads none of it."""
    root = write_site(tmp_path / "site", {**ROUTES, **FILES})
    new_process(root)
    expected = bodies()  # an earlier build's rows, which --fresh must not read
    renders = count_renders(monkeypatch)
    diskcache.start_build(root, fresh=True)
    new_process(root)
    assert bodies() == expected and len(renders) == 3, "no row of the earlier build is read"
    renders.clear()
    new_process(root)  # another worker of the same build: nothing in memory, the same build id
    assert bodies() == expected and renders == [], "the rows this build wrote are read"
    diskcache.start_build(root, fresh=True)
    new_process(root)
    assert bodies() == expected and len(renders) == 3, "a new --fresh build renders every body again"


def test_the_cache_can_be_turned_off(tmp_path, monkeypatch):
    monkeypatch.setenv("SSG_CONTENT_CACHE", "off")
    root = write_site(tmp_path / "site", {**ROUTES, **FILES})
    diskcache.start_build(root)
    new_process(root)
    bodies()
    assert not (root / ".ssg-cache/content").exists()


def test_prune_drops_bodies_no_build_used_for_a_month(tmp_path):
    root = write_site(tmp_path / "site", {**ROUTES, **FILES})
    new_process(root)
    bodies()
    store.reset()
    db_file = root / ".ssg-cache/content/bodies.sqlite"

    def age(seconds: int, *, one: bool) -> None:
        with sqlite3.connect(db_file) as db:
            (key,) = db.execute(f"select key from {diskcache._TABLE} order by key limit 1").fetchone()
            db.execute(f"update {diskcache._TABLE} set used = used - ? {'where key = ?' if one else ''}", (seconds, key) if one else (seconds,))

    age(diskcache.KEEP + 60, one=True)
    diskcache.start_build(root)
    assert rows(root) == 2, "a body unused for a month before the newest one is dropped"
    age(diskcache.KEEP + 60, one=True)
    diskcache.start_build(root)
    assert rows(root) == 2, "at most one prune a day"
    (root / ".ssg-cache/content/.pruned").unlink()
    age(10 * diskcache.KEEP, one=False)
    diskcache.start_build(root)
    assert rows(root) == 1, "ages count back from the newest body, not from the clock: the newest survives a quiet year"
    store.reset()
    # The prune's queries read an index of the uses, not every row of the table.
    with sqlite3.connect(db_file) as db:
        for query in (f"select max(used) from {diskcache._TABLE}", f"select key from {diskcache._TABLE} where used < 1 or used is null"):
            plan = " ".join(row[-1] for row in db.execute(f"explain query plan {query}"))
            assert "INDEX" in plan and "SCAN" not in plan.replace("SCAN USING", ""), plan


def test_held_bodies_are_read_back_and_written_in_bounded_batches(tmp_path, monkeypatch):
    # A worker holds the bodies of its batch of paths; a listing that renders thousands of
    # bodies itself must not hold them all.
    (tmp_path / ".ssg-cache").mkdir()
    db_file = tmp_path / ".ssg-cache/content/bodies.sqlite"
    held = diskcache.Bodies(db_file, tmp_path)
    monkeypatch.setattr(diskcache, "HELD_ROWS", 4)

    def on_disk() -> int:
        if not db_file.exists():
            return 0
        with sqlite3.connect(db_file) as db:
            return db.execute(f"select count(*) from {diskcache._TABLE}").fetchone()[0]

    with held.held():
        for n in range(10):
            held.put(f"k{n}", (f"<p>{n}</p>", f"<p>{n}</p>", "[]", "[]"))
            assert len(held._held) < 4
        assert held.get("k9") == ("<p>9</p>", "<p>9</p>", "[]", "[]"), "a held row is read back before it is written"
        assert held.get_summaries(["k9", "k0"]) == {"k9": ("<p>9</p>", "[]"), "k0": ("<p>0</p>", "[]")}
        assert on_disk() == 8, "written four at a time"
    assert on_disk() == 10 and held._held is None
    held.close()


# -- a collection's first scan parses on several processes ----------------------------------------


def test_scan_on_several_processes_reads_what_one_process_reads(tmp_path, monkeypatch):
    """A build with jobs > 1 parses a big collection's front matter on forked processes:
    the entries, their order and the disk cache's records are those of one process, and a
    bad file is still reported with its line."""
    posts = {f"content/blog/p{i:02}.md": post(f"P{i}", f"Post {i}.\n", date=f"2024-01-{i % 28 + 1:02}", tags=f"[t{i % 3}]")
             for i in range(40)}
    routes = {k: v for k, v in ROUTES.items() if "docs" not in k and "guide" not in k}
    root = write_site(tmp_path / "site", {**routes, **posts})
    parsers = tmp_path / "parsers"
    real = frontmatter.parse

    def parse(text, file):
        with open(parsers, "a") as f:
            f.write(f"{os.getpid()}\n")
        time.sleep(0.005)  # long enough that one process cannot take both halves before the other starts
        return real(text, file)

    monkeypatch.setattr(frontmatter, "parse", parse)
    monkeypatch.setattr(files, "PREFETCH_MIN", 1)
    monkeypatch.delenv("SSG_CONTENT_CACHE", raising=False)

    def start(jobs: int) -> None:
        """A build's start with no cache: every file is parsed again."""
        store.reset()
        shutil.rmtree(root / ".ssg-cache", ignore_errors=True)
        parsers.write_text("")
        site = open_site(root)
        site.jobs = jobs
        diskcache.start_build(root)

    def scan(jobs: int) -> tuple[list, dict, set[str]]:
        start(jobs)
        listed = [(e.slug, e.path, e.date, e.tags, e.title) for e in collection("blog")]
        diskcache.save()
        saved = saved_records(root)
        return listed, saved, set(parsers.read_text().split())

    one, one_saved, one_pids = scan(1)
    two, two_saved, two_pids = scan(2)
    assert one_pids == {str(os.getpid())}
    assert len(two_pids) == 2 and str(os.getpid()) not in two_pids, "two forked processes parsed the files"
    assert two == one and len(one) == 40
    assert two_saved == one_saved and len(one_saved) == 40

    (root / "content/blog/p17.md").write_text("---\ntitle: P17\ndate: 2024-01-01\ntags: [unclosed\n---\nText.\n")
    for jobs in (1, 2):
        store.reset()
        site = open_site(root)
        site.jobs = jobs
        with pytest.raises(ContentError) as caught:
            list(collection("blog"))
        assert caught.value.file == "content/blog/p17.md" and caught.value.line == 4, (jobs, str(caught.value))

    # A file that parses but breaks the schema: a forked process sends its lines back as
    # text, and the message still names the key's line.
    (root / "content/blog/p17.md").write_text(post("P17", "Text.\n", date="2024-01-01", tags="[t1]"))
    (root / "content/blog/_collection.yaml").write_text("route: /blog/[slug]\nfields:\n  rank: {type: int}\n")
    (root / "content/blog/p23.md").write_text("---\ntitle: P23\ndate: 2024-01-02\n\nrank: high\n---\nText.\n")
    for jobs in (2, 1):
        start(jobs)
        with pytest.raises(ContentError) as caught:
            list(collection("blog"))
        assert (caught.value.file, caught.value.line) == ("content/blog/p23.md", 5), (jobs, str(caught.value))
        assert "rank" in str(caught.value)
        assert len(set(parsers.read_text().split()) - {str(os.getpid())}) == (2 if jobs == 2 else 0)


def test_a_cold_builds_parse_starts_before_the_scan_and_the_scan_takes_it(tmp_path, monkeypatch):
    """`ssg build` starts parsing every content file on other processes before it imports
    the renderer, when no earlier build left parsed front matter (or with --fresh). The
    first scan takes what they parsed: no file is parsed twice, a file edited since is
    parsed again, and the entries are those of a scan on one process."""
    posts = {f"content/blog/p{i:02}.md": post(f"P{i}", f"Post {i}.\n", date=f"2024-01-{i % 28 + 1:02}") for i in range(30)}
    root = write_site(tmp_path / "site", {**{k: v for k, v in ROUTES.items() if "docs" not in k and "guide" not in k}, **posts})
    log = tmp_path / "parsed"
    real = frontmatter.parse

    def parse(text, file):
        with open(log, "a") as f:
            f.write(f"{os.getpid()} {file}\n")
        return real(text, file)

    monkeypatch.setattr(frontmatter, "parse", parse)
    monkeypatch.setattr(files, "PREFETCH_MIN", 1)
    rels = sorted(posts) + ["content/blog/_collection.yaml", "routes/+layout.html"]

    def parsed() -> list[tuple[str, str]]:
        return [tuple(line.split(" ")) for line in log.read_text().splitlines()] if log.exists() else []

    def scan(jobs: int, *, early: bool, edit: bool = False) -> list:
        store.reset()
        log.write_text("")
        if early:
            assert files.start_prefetch(root, rels, jobs, fresh=False) is not None
            deadline = time.monotonic() + 30
            while len(parsed()) < len(posts) and time.monotonic() < deadline:
                time.sleep(0.01)  # parsed: an edit now is one the scan must see
        if edit:
            (root / "content/blog/p07.md").write_text(post("P7 edited", "Post 7.\n", date="2024-01-08"))
        site = open_site(root)
        site.jobs = jobs
        diskcache.start_build(root)
        return [(e.slug, e.title, e.date) for e in collection("blog")]

    one = scan(1, early=False)
    shutil.rmtree(root / ".ssg-cache", ignore_errors=True)
    two = scan(2, early=True, edit=True)
    me = str(os.getpid())
    assert [title for _, title, _ in two if title.startswith("P7")] == ["P7 edited"]
    assert two == [(slug, "P7 edited" if slug == "p07" else title, date) for slug, title, date in one]
    by_process = parsed()
    assert sorted(rel for _, rel in by_process if _ != me) == sorted(posts), "each file parsed once, on other processes"
    assert len({pid for pid, _ in by_process} - {me}) in (1, 2)  # two processes: one may take both halves
    assert [rel for pid, rel in by_process if pid == me] == ["content/blog/p07.md"], "here: only the file edited since"

    # Once a build has left parsed front matter (files.json, or here its journal), nothing is
    # started: most files need no parsing, and an edit's shortcut none at all. With --fresh,
    # all are parsed.
    diskcache.save()
    assert saved_records(root).keys() == posts.keys()
    assert files.start_prefetch(root, rels, 2, fresh=False) is None
    assert files.start_prefetch(root, rels, 2, fresh=True) is not None
    started = multiprocessing.active_children()
    assert len(started) == 2
    files.end_prefetch()  # no scan took it: its processes end before the render workers start

    def gone(process) -> bool:
        # The pool's own thread may reap a process just before this one asks: is_alive()
        # then says True (waitpid finds no child), so ask whether the process still exists.
        if process.exitcode is not None:
            return True
        try:
            os.kill(process.pid, 0)
        except ProcessLookupError:
            return True
        return False

    deadline = time.monotonic() + 10
    while not all(gone(process) for process in started) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert all(gone(process) for process in started)
    assert files.start_prefetch(root, rels, 1, fresh=True) is None, "one job: the build parses as it scans"


def test_an_edit_appends_its_record_to_the_journal_and_files_json_stays(tmp_path, monkeypatch):
    monkeypatch.setattr(diskcache, "JOURNAL_RECORDS", 2)  # the four posts are "many": saved whole
    root = write_site(tmp_path / "site", {**ROUTES, **FILES})
    new_process(root)
    list(collection("blog"))
    store.reset()
    folder = root / ".ssg-cache/content"
    index = folder / "files.json"
    assert index.is_file() and not (folder / "files.journal").exists(), "a first scan writes files.json whole"
    before = (index.stat().st_ino, index.stat().st_mtime_ns, index.read_bytes())
    (root / "content/blog/a.md").write_text(post("A, edited", "Edited.\n"))
    new_process(root)
    list(collection("blog"))
    store.reset()
    assert (index.stat().st_ino, index.stat().st_mtime_ns, index.read_bytes()) == before, "one record: files.json is not written again"
    lines = journal_lines(root)
    assert len(lines) == 1 and list(lines[0]["files"]) == ["content/blog/a.md"]
    # The next process takes the edited record from the journal: no YAML is parsed.
    new_process(root)
    monkeypatch.setattr(frontmatter, "parse", lambda *a: pytest.fail("front matter parsed again"))
    assert {p.title for p in collection("blog")} >= {"A, edited"}


def test_a_torn_journal_line_costs_a_parse_and_a_big_save_folds_the_journal_in(tmp_path, monkeypatch):
    monkeypatch.setattr(diskcache, "JOURNAL_RECORDS", 2)
    root = write_site(tmp_path / "site", {**ROUTES, **FILES})
    new_process(root)
    list(collection("blog"))
    folder = root / ".ssg-cache/content"
    (root / "content/blog/a.md").write_text(post("A2"))
    new_process(root)
    list(collection("blog"))
    store.reset()
    journal = folder / "files.journal"
    journal.write_bytes(journal.read_bytes()[:-20])  # a process killed while it wrote
    parsed = []
    real = frontmatter.parse
    monkeypatch.setattr(frontmatter, "parse", lambda text, rel: parsed.append(rel) or real(text, rel))
    new_process(root)
    assert {p.title for p in collection("blog")} >= {"A2"}
    assert parsed == ["content/blog/a.md"], "only the file whose record was cut short is parsed again"
    store.reset()
    for name in ("b", "c", "d"):  # more records than a journal line takes: files.json written whole
        (root / f"content/blog/{name}.md").write_text(post(name.upper() + "2"))
    new_process(root)
    list(collection("blog"))
    assert not journal.exists(), "folded into files.json"
    folded = saved_records(root)
    assert [folded[f"content/blog/{name}.md"][0] for name in "abcd"] == [(root / f"content/blog/{name}.md").stat().st_mtime_ns for name in "abcd"]


@pytest.mark.parametrize("file", ["files.json", "files.journal"])
def test_a_record_with_a_bit_flipped_is_not_trusted(tmp_path, monkeypatch, file):
    """One bit of a title flipped in files.json or in a journal line (still valid JSON, a
    valid record): its checksum tells, and the file is parsed again."""
    if file == "files.json":
        monkeypatch.setattr(diskcache, "JOURNAL_RECORDS", 2)  # the posts are "many": saved whole
    root = write_site(tmp_path / "site", {**ROUTES, **FILES})
    new_process(root)
    list(collection("blog"))
    store.reset()
    saved = root / ".ssg-cache/content" / file
    data = saved.read_bytes()
    at = data.index(b'\\"B\\"') + 2  # the title's one letter, in the record's JSON text of the front matter
    saved.write_bytes(data[:at] + bytes([data[at] ^ 0x20]) + data[at + 1 :])  # "B" -> "b"
    new_process(root)
    assert sorted(p.title for p in collection("blog")) == ["A", "B", "C"]


@pytest.mark.parametrize("damage", ["a folder", "a dangling link"])
def test_a_bodies_database_that_cannot_be_opened_is_given_up_at_once(tmp_path, monkeypatch, damage):
    """Not taken for a database another process holds (tried again and again: a CI build
    ran 15 times slower). A folder at its name is .ssg-cache's own litter: removed."""
    path = tmp_path / ".ssg-cache/content/bodies.sqlite"
    path.parent.mkdir(parents=True)
    if damage == "a folder":
        path.mkdir()
    else:
        path.symlink_to(tmp_path / "gone/bodies.sqlite")
    opened = []
    real = diskcache._open
    monkeypatch.setattr(diskcache, "_open", lambda p: opened.append(p) or real(p))
    bodies = diskcache.Bodies(path, tmp_path)
    bodies.put("k", ("<p>x</p>", "", "[]", "[]"))
    assert bodies.get("k") == ("<p>x</p>", "", "[]", "[]") if damage == "a folder" else bodies.get("k") is None
    assert len(opened) == 1 and (bodies.off == (damage != "a folder"))
    bodies.close()
