"""Incremental builds of small sites, each built around one kind of read the build cache
must see: an edit to what was read (or to what was looked for and not found) gives the
same output, and the same exit status, as a clean build of the same sources."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import run_ssg
from sitekit import write_site

ENV = {**os.environ, "SOURCE_DATE_EPOCH": "1700000000"}


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def assert_incremental_is_clean(
    tmp_path: Path, files: dict[str, str], change: Callable[[Path], None], *, jobs: str = "1", settle: float = 0,
    before: Callable[[Path], None] | None = None,
) -> None:
    site = write_site(tmp_path / "site", files)
    if before is not None:
        before(site)  # what write_site cannot make (symlinks)
    time.sleep(settle)  # sources older than the build by more than a tick of the clock: compared by status only
    out = tmp_path / "out"

    def build(root: Path, folder: Path, *args: str):
        return run_ssg("build", "-C", str(root), "--out", str(folder), "--jobs", jobs, *args, env=ENV)

    first = build(site, out)
    assert first.returncode == 0, first.stderr
    change(site)
    incremental = build(site, out, "--explain")
    clean_site = tmp_path / "clean"
    shutil.copytree(site, clean_site, ignore=shutil.ignore_patterns(".ssg-cache"))
    clean = build(clean_site, tmp_path / "out-clean", "--fresh")
    assert incremental.returncode == clean.returncode, (incremental.stderr, clean.stderr)
    if clean.returncode == 0:
        assert snapshot(out) == snapshot(tmp_path / "out-clean"), incremental.stderr
    else:
        assert errors(incremental.stderr, site) == errors(clean.stderr, clean_site)


def errors(stderr: str, root: Path) -> list[str]:
    return sorted(line.replace(str(root), "SITE") for line in stderr.splitlines() if line.startswith("error"))



def post_route(name: str = "posts", slugs: str = '[p.slug for p in collection("NAME")]', template: str = "{{ data.post.html }}") -> dict[str, str]:
    """routes/NAME/[slug]/: one page per slug of `slugs` (an expression), showing that entry."""
    return {
        f"content/{name}/_collection.yaml": f"route: /{name}/[slug]\n",
        f"routes/{name}/[slug]/+page.py": """
            from ssg.content import collection

            def entries():
                return [{"slug": slug} for slug in SLUGS]

            def load(event):
                return {"post": collection("NAME").get(event.params["slug"])}
        """.replace("SLUGS", slugs).replace("NAME", name),
        f"routes/{name}/[slug]/+page.html": template,
    }


def write(rel: str, text: str) -> Callable[[Path], None]:
    def change(site: Path) -> None:
        (site / rel).parent.mkdir(parents=True, exist_ok=True)
        (site / rel).write_text(text)

    return change


def replace(rel: str, old: str, new: str) -> Callable[[Path], None]:
    def change(site: Path) -> None:
        text = (site / rel).read_text()
        assert old in text
        (site / rel).write_text(text.replace(old, new))

    return change


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_an_entry_url_shown_on_a_listing_follows_its_routes_trailing_slash(tmp_path, jobs):
    """An entry's URL is computed once per process (the seed computes a page of previews
    for props): every page that shows it reads the entry route's module."""
    posts = {f"content/posts/{s}.md": f"---\ntitle: {s.upper()}\n---\nText {s}.\n" for s in "abcdef"}
    files = {
        **posts,
        "content/posts/_collection.yaml": "route: /posts/[slug]\n",
        "routes/posts/[slug]/+page.py": """
            from ssg.content import collection
            trailing_slash = "always"

            def entries():
                return [{"slug": p.slug} for p in collection("posts")]

            def load(event):
                return {"post": collection("posts").get(event.params["slug"])}
        """,
        "routes/posts/[slug]/+page.html": "<h1>{{ data.post.title }}</h1>",
        "routes/+page.py": """
            from ssg.content import collection

            def load(event):
                return {"posts": [{"title": p.title, "url": p.url} for p in collection("posts")]}
        """,
        "routes/+page.html": '{% for p in data.posts %}<a href="{{ p.url }}">{{ p.title }}</a>{% endfor %}',
        "routes/page/[n]/+page.py": """
            from ssg.content import collection, paginate

            def entries():
                return [pg.entry("n") for pg in paginate([p.preview() for p in collection("posts")], 2)[1:]]

            def load(event):
                return {"page": event.props}
        """,
        "routes/page/[n]/+page.html": '{% for p in data.page["items"] %}<a href="{{ p.url }}">{{ p.title }}</a>{% endfor %}',
    }
    change = replace("routes/posts/[slug]/+page.py", '"always"', '"never"')
    assert_incremental_is_clean(tmp_path, files, change, jobs=jobs)


ENDPOINT = {
    "routes/+page.html": '<a href="/api/x.json">x</a> <a href="/api/y.json">y</a>',
    "routes/api/[name].json/+server.py": """
        from ssg import json

        def GET(event):
            return json({"name": event.params["name"]})
    """,
}


def test_a_static_file_added_where_a_linked_endpoint_was_replaces_it(tmp_path):
    """Whether a link is to static/ is decided when the crawl follows it, also for a
    page replayed from the record."""
    assert_incremental_is_clean(tmp_path, ENDPOINT, write("static/api/x.json", '{"static": true}\n'))


def test_a_deleted_static_file_that_a_page_links_to_fails_the_build(tmp_path):
    files = {"routes/+page.html": '<p>home <a href="/a.txt">a</a></p>', "static/a.txt": "a\n", "static/b.txt": "b\n"}
    assert_incremental_is_clean(tmp_path, files, lambda site: (site / "static/a.txt").unlink())


def test_an_entry_asked_for_before_it_exists(tmp_path):
    files = {
        "routes/+page.py": """
            from ssg.content import entry

            def load(event):
                try:
                    notice = entry("notice.md").title
                except Exception:
                    notice = None
                return {"notice": notice}
        """,
        "routes/+page.html": "<p>notice: {{ data.notice }}</p>",
    }
    assert_incremental_is_clean(tmp_path, files, write("content/notice.md", "---\ntitle: Big news\n---\n"))


def test_a_helper_module_in_routes(tmp_path):
    files = {
        "routes/_shared.py": 'GREETING = "Hello"\n',
        "routes/+page.py": """
            from routes._shared import GREETING

            def load(event):
                return {"greeting": GREETING}
        """,
        "routes/+page.html": "<p>{{ data.greeting }}</p>",
    }
    assert_incremental_is_clean(tmp_path, files, replace("routes/_shared.py", "Hello", "Howdy"))


@pytest.mark.parametrize("include", ['"partials/extra.html" ignore missing', '["partials/extra.html", "partials/plain.html"]'])
def test_an_include_added_after_the_build_that_missed_it(tmp_path, include):
    files = {"routes/+page.html": "<h1>Home</h1>{% include " + include + " %}", "partials/plain.html": "<p>plain</p>"}
    assert_incremental_is_clean(tmp_path, files, write("partials/extra.html", "<p>extra</p>"))


def test_a_data_file_beside_a_site_module(tmp_path):
    """lib/authors.py reads lib/authors.json when imported: a file beside the site's
    modules is code too."""
    files = {
        "lib/__init__.py": "",
        "lib/authors.json": '{"name": "Ann"}',
        "lib/authors.py": """
            import json, pathlib
            AUTHOR = json.loads((pathlib.Path(__file__).parent / "authors.json").read_text())["name"]
        """,
        "routes/+page.py": """
            from lib.authors import AUTHOR

            def load(event):
                return {"author": AUTHOR}
        """,
        "routes/+page.html": "<p>by {{ data.author }}</p>",
    }
    assert_incremental_is_clean(tmp_path, files, write("lib/authors.json", '{"name": "Bob"}'))


def test_a_fetched_static_file_that_was_missing(tmp_path):
    files = {
        "routes/+page.py": """
            async def load(event):
                r = await event.fetch("/banner.txt")
                return {"banner": r.text if r.status_code == 200 else "none"}
        """,
        "routes/+page.html": "<p>{{ data.banner }}</p>",
        "routes/+error.html": "{{ page.status }}",
    }
    assert_incremental_is_clean(tmp_path, files, write("static/banner.txt", "SALE\n"))


@pytest.mark.parametrize("folder", ["partials", "routes/about"])
def test_an_include_named_at_run_time(tmp_path, folder):
    """A page's templates are those it loads as it renders, also by a computed name."""
    files = {
        "routes/+page.html": '{% set name = "note" %}<p>{% include "' + folder + '/" ~ name ~ ".html" %}</p>',
        f"{folder}/note.html": "OLD",
        "routes/about/+page.html": "about",
    }
    assert_incremental_is_clean(tmp_path, files, write(f"{folder}/note.html", "NEW"))


def test_a_linked_post_that_becomes_a_draft(tmp_path):
    """A body's link to another post reads whether that post is there and is a draft."""
    files = {
        **post_route(),
        "content/posts/a.md": "---\ntitle: A\n---\nSee [b](b.md).\n",
        "content/posts/b.md": "---\ntitle: B\n---\nB body.\n",
        "routes/+page.html": "<p>home</p>",
    }
    assert_incremental_is_clean(tmp_path, files, replace("content/posts/b.md", "title: B", "title: B\ndraft: true"))


def test_a_broken_link_names_the_first_page_in_path_order_that_links_it(tmp_path):
    """Which page a message says a path was linked from does not depend on the order the
    pages were rendered or replayed in (nor on which worker finished first)."""
    files = {
        **post_route(),
        **{f"content/posts/{p}.md": f"---\ntitle: {p}\n---\nbody {p}\n" for p in "abc"},
        "routes/+page.html": '<a href="/about/">about</a>',
        "routes/about/+page.html": "<p>about</p>",
    }

    def links_to_a_missing_page(site: Path) -> None:
        with open(site / "routes/about/+page.html", "a") as f:
            f.write('<a href="/nope/">x</a>')
        with open(site / "content/posts/c.md", "a") as f:
            f.write("See [gone](/nope/).\n")

    assert_incremental_is_clean(tmp_path, files, links_to_a_missing_page, jobs="2")
    clean = run_ssg("build", "-C", str(tmp_path / "clean"), "--out", str(tmp_path / "again"), "--jobs", "2", env=ENV)
    assert errors(clean.stderr, tmp_path / "clean") == ["error: 404 /nope (linked from /about/)"]


@pytest.mark.parametrize("slugs", ['"a", "b"', '"a", "b", "c"'])
def test_a_bad_post_fails_the_pages_that_read_it_and_no_other(tmp_path, slugs):
    """get(slug) reads the one file it needs, so a page fails for that file's errors only:
    a clean build fails the same pages as a build that reuses the rest."""
    files = {
        **post_route(slugs=f"({slugs},)"),
        **{f"content/posts/{p}.md": f"---\ntitle: {p}\n---\nbody {p}\n" for p in "abc"},
        "routes/+page.html": "<p>home</p>",
    }
    assert_incremental_is_clean(tmp_path, files, write("content/posts/c.md", "---\ntitle: [c\n---\nbody c\n"))


@pytest.mark.parametrize("slugs", ['["a"]', None], ids=["get alone", "get after entries() listed the folder"])
def test_a_post_added_beside_one_with_the_same_slug_fails_its_page(tmp_path, slugs):
    """get("a") read content/posts/a.md alone; a/index.md added later gives the slug twice.
    Also when the process listed the folder first (then the page, reached by a link, fails
    as entries() does)."""
    files = {
        **(post_route(slugs=slugs) if slugs else post_route()),
        "content/posts/a.md": "---\ntitle: a\n---\nbody a\n",
        "routes/+page.html": '<a href="/posts/a/">a</a>',
    }
    assert_incremental_is_clean(tmp_path, files, write("content/posts/a/index.md", "---\ntitle: a2\n---\nbody\n"))


def test_get_of_the_slug_index_answers_as_the_listing_does(tmp_path):
    """content/docs/index.md has the slug "", so get("index") is None whether or not the
    process listed the folder first (here: the edit shortcut renders the page alone)."""
    files = {
        "content/docs/index.md": "---\ntitle: Docs home\n---\nHome.\n",
        "content/docs/a.md": "---\ntitle: A\n---\nA.\n",
        "routes/docs/[...slug]/+page.py": """
            from ssg.content import collection

            def entries():
                return [{"slug": p.slug} for p in collection("docs")]

            def load(event):
                return {"post": collection("docs").get(event.params["slug"] or "")}
        """,
        "routes/docs/[...slug]/+page.html": "{{ data.post.title }}",
        "routes/+page.py": """
            from ssg.content import collection

            def load(event):
                found = collection("docs").get("index")
                return {"peek": found.title if found else "none"}
        """,
        "routes/+page.html": "<p>peek: {{ data.peek }}</p>",
    }
    assert_incremental_is_clean(tmp_path, files, replace("routes/+page.html", "peek:", "peek -"))
    assert "peek - none" in (tmp_path / "out/index.html").read_text()


def test_an_edit_that_keeps_the_size_and_sets_the_old_mtime_back(tmp_path):
    """The ctime moves with every write, and no program can set it back."""
    files = {
        **post_route("blog"),
        "content/blog/a.md": "---\ntitle: A\n---\nHello world.\n",
    }
    def same_size_old_mtime(site: Path) -> None:
        path = site / "content/blog/a.md"
        st = path.stat()
        with open(path, "r+b") as f:  # in place: the same inode
            f.write(path.read_bytes().replace(b"Hello world.", b"Howdy world."))
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))

    assert_incremental_is_clean(tmp_path, files, same_size_old_mtime, settle=1.2)
    assert "Howdy" in (tmp_path / "out/blog/a/index.html").read_text()


def test_a_linked_post_that_becomes_a_draft_when_the_body_was_read_once(tmp_path):
    """The link's target is recorded when the body is first rendered too, not only when a
    rendered body is reused (here the page reads `html` once)."""
    files = {
        **post_route("p", template="{{ data.h }}"),
        "content/p/a.md": "---\ntitle: A\n---\nSee [b](b.md).\n",
        "content/p/b.md": "---\ntitle: B\n---\nB body\n",
        "routes/+page.html": "home",
    }
    files["routes/p/[slug]/+page.py"] = files["routes/p/[slug]/+page.py"].replace(
        'return {"post": collection("p").get(event.params["slug"])}', 'return {"h": collection("p").get(event.params["slug"]).html}')
    assert_incremental_is_clean(tmp_path, files, replace("content/p/b.md", "title: B", "title: B\ndraft: true"))


def test_a_file_added_beside_the_site_modules(tmp_path):
    """lib/m.py reads lib/extra.txt when it exists: a file added to lib/ is a change."""
    files = {
        "lib/__init__.py": "",
        "lib/m.py": 'import pathlib\np = pathlib.Path(__file__).parent / "extra.txt"\nNAME = p.read_text() if p.exists() else "none"\n',
        "routes/+page.py": "from lib.m import NAME\n\ndef load(event):\n    return {'n': NAME}\n",
        "routes/+page.html": "<p>{{ data.n }}</p>",
    }
    assert_incremental_is_clean(tmp_path, files, write("lib/extra.txt", "hello"), settle=1.2)


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_get_reads_one_file_also_after_the_folder_failed_to_list(tmp_path, jobs):
    """A page that lists the collection fails for its bad post; one that asks for another
    post with get() does not, whichever page the worker rendered first."""
    files = {
        "content/posts/a.md": "---\ntitle: A\n---\nA.\n",
        "content/posts/b.md": "---\ntitle: B\n---\nB.\n",
        "routes/+page.py": 'from ssg.content import collection\n\ndef load(event):\n    return {"n": len(collection("posts"))}\n',
        "routes/+page.html": '<a href="/x/">x</a> {{ data.n }}',
        "routes/x/+page.py": 'from ssg.content import collection\n\ndef load(event):\n    return {"t": collection("posts").get("a").title}\n',
        "routes/x/+page.html": "{{ data.t }}",
    }
    assert_incremental_is_clean(tmp_path, files, write("content/posts/b.md", "---\ntitle: [b\n---\nB.\n"), jobs=jobs)


LIST_NOTES = {
    "content/notes/n1.md": "---\ntitle: N1\n---\nOne.\n",
    "content/other.md": "---\ntitle: Other\n---\nOther.\n",
    "routes/+page.py": """
        from ssg.content import collection

        def load(event):
            notes = collection("notes")
            return {"t": ",".join(p.title for p in notes), "g": [bool(notes.get(s)) for s in ("node_modules", "pkg", "n1")]}
    """,
    "routes/+page.html": "{{ data.t }} {{ data.g }}",
}


@pytest.mark.parametrize("folder", ["node_modules", "__pycache__", ".hidden"])
def test_a_post_in_a_folder_left_aside_is_not_listed(tmp_path, folder):
    """A collection lists no Markdown below node_modules, __pycache__ or hidden folders,
    as the no-change check, the edit shortcut and ssg serve's watcher leave them aside."""

    def add(site: Path) -> None:
        write(f"content/notes/{folder}/index.md", "---\ntitle: PKG\n---\nP.\n")(site)
        write(f"content/notes/{folder}/pkg.md", "---\ntitle: PKG\n---\nP.\n")(site)
        write("content/new.md", "---\ntitle: New\n---\nNew.\n")(site)  # a change the no-change check sees

    assert_incremental_is_clean(tmp_path, LIST_NOTES, add)
    assert (tmp_path / "out-clean/index.html").read_text().startswith("N1 [False, False, True]")


def test_a_file_beside_the_posts_that_no_collection_lists_renders_nothing(tmp_path):
    """An editor's swap file, a hidden file or an image added to a collection's folder
    leaves its listing as it was: no page that lists it is rendered again."""
    site = write_site(tmp_path / "site", LIST_NOTES)
    out = tmp_path / "out"
    assert run_ssg("build", "-C", str(site), "--out", str(out), env=ENV).returncode == 0
    (site / "content/notes/.n1.md.swp").write_bytes(b"vim swap")
    (site / "content/notes/n1.png").write_bytes(b"png")
    (site / "content/notes/.drafts").mkdir()
    (site / "content/notes/.drafts/n2.md").write_text("---\ntitle: N2\n---\n")
    result = run_ssg("build", "-C", str(site), "--out", str(out), "--explain", env=ENV)
    assert result.returncode == 0 and "rendered /" not in result.stderr, result.stderr


SITE_MODULE = {  # a page that shows a constant of lib/m.py
    "lib/__init__.py": "",
    "lib/m.py": 'NAME = "m"\n',
    "routes/+page.py": "from lib.m import NAME\n\ndef load(event):\n    return {'n': NAME}\n",
    "routes/+page.html": "<p>{{ data.n }}</p>",
}


def test_a_swap_file_beside_the_site_modules_during_a_build_leaves_the_next_build_incremental(tmp_path):
    """While vim has lib/m.py open, its swap file sits beside it: the build that renders an
    edited post records lib/ as it lists it, and the next edit renders that post alone."""
    site = write_site(tmp_path / "site", {
        **SITE_MODULE,
        "content/posts/a.md": "---\ntitle: A1\n---\nA.\n",
        "routes/a/+page.py": 'from ssg.content import collection\n\ndef load(event):\n    return {"t": collection("posts").get("a").title}\n',
        "routes/a/+page.html": "{{ data.t }}",
    })
    out = tmp_path / "out"
    assert run_ssg("build", "-C", str(site), "--out", str(out), env=ENV).returncode == 0
    (site / "lib/.m.py.swp").write_bytes(b"vim swap")
    for title in ("A2", "A3"):
        (site / "content/posts/a.md").write_text(f"---\ntitle: {title}\n---\nA.\n")
        result = run_ssg("build", "-C", str(site), "--out", str(out), "--explain", env=ENV)
        assert result.returncode == 0 and "rendered /a:" in result.stderr and "rendered /:" not in result.stderr, result.stderr
        assert (out / "a/index.html").read_text() == title


def test_an_editors_swap_file_beside_the_site_modules_renders_nothing(tmp_path):
    site = write_site(tmp_path / "site", {**SITE_MODULE, "routes/about/+page.html": "about"})
    out = tmp_path / "out"
    assert run_ssg("build", "-C", str(site), "--out", str(out), env=ENV).returncode == 0
    (site / "lib/.m.py.swp").write_bytes(b"vim swap")
    (site / "lib/m.py~").write_text("backup")
    result = run_ssg("build", "-C", str(site), "--out", str(out), "--explain", env=ENV)
    assert result.returncode == 0 and "rendered /" not in result.stderr, result.stderr


@pytest.mark.parametrize("have, added, text", [
    ("routes/+layout.html", "routes/+layout.py", 'def load(event):\n    return {"title": "From the layout"}\n'),
    ("routes/+layout.html", "routes/+layout.py", 'trailing_slash = "never"\n'),
    ("routes/+layout.py", "routes/+layout.html", "<main>{{ data.title }}</main>{{ slot }}"),
])
def test_a_layout_file_added_beside_the_other_one(tmp_path, have, added, text):
    """A layout folder that had a template gains a module (its load, its options), or the
    other way round: the chain of every page below it changed."""
    files = {
        have: "<header>{{ data.title | default('none') }}</header>{{ slot }}" if have.endswith(".html") else 'def load(event):\n    return {"title": "T"}\n',
        "routes/+page.html": '<a href="/about/">about</a>',
        "routes/about/+page.html": '<a href="/">home</a>',
    }
    assert_incremental_is_clean(tmp_path, files, write(added, text))


@pytest.mark.parametrize("case", ["target-outside-edited", "link-retargeted"])
def test_a_route_template_that_is_a_symlink(tmp_path, case):
    """A route's template is a source by its own name: an edit to the file it points to, or
    the link pointed elsewhere, renders its pages again."""
    outside = tmp_path / "shared-layout.html"
    outside.write_text("<main>{{ slot }}</main>")
    files = {
        "routes/+page.html": '<a href="/about/">about</a>',
        "routes/about/x.html": "<h1>X</h1>",
        "routes/about/y.html": "<h1>Y</h1>",
    }

    def link(site: Path) -> None:
        (site / "routes/+layout.html").symlink_to(outside)
        (site / "routes/about/+page.html").symlink_to("x.html")

    def change(site: Path) -> None:
        if case == "target-outside-edited":
            outside.write_text('<main class="edited">{{ slot }}</main>')
        else:
            (site / "routes/about/+page.html").unlink()
            (site / "routes/about/+page.html").symlink_to("y.html")

    assert_incremental_is_clean(tmp_path, files, change, before=link)


LINKED_ROUTE = {
    "routes/+layout.html": '<nav><a href="{{ url(\'/notes\') }}">notes</a></nav>{{ slot }}',
    "routes/+page.html": "home",
    "routes/about/+page.html": "about",
    "routes/notes/+page.py": 'def load(event):\n    return {"t": "Notes"}\n',
    "routes/notes/+page.html": "{{ data.t }}",
}


def test_an_edit_to_a_linked_routes_load_renders_that_route_alone(tmp_path):
    """Every page links to /notes, and so reads whether its module sets trailing_slash;
    an edit to its load leaves that answer as it was."""
    site = write_site(tmp_path / "site", LINKED_ROUTE)
    out = tmp_path / "out"
    assert run_ssg("build", "-C", str(site), "--out", str(out), env=ENV).returncode == 0
    (site / "routes/notes/+page.py").write_text('def load(event):\n    return {"t": "Notes, edited"}\n')
    result = run_ssg("build", "-C", str(site), "--out", str(out), "--explain", env=ENV)
    assert result.returncode == 0, result.stderr
    assert [line for line in result.stderr.splitlines() if line.startswith("rendered /")] == ["rendered /notes: routes/notes/+page.py changed"]
    assert (out / "notes/index.html").read_text().endswith("Notes, edited")


@pytest.mark.parametrize("module", [
    'trailing_slash = "never"\n\ndef load(event):\n    return {"t": "Notes"}\n',
    'prerender = False\n\ndef load(event):\n    return {"t": "Notes"}\n',
    "def load(event):\n    return {'t': 'Notes'}\n\nraise RuntimeError('broken')\n",
])
@pytest.mark.parametrize("jobs", ["1", "2"])
def test_an_option_of_a_linked_route_changed(tmp_path, module, jobs):
    """...but one that changes what a link to it reads renders the pages that link to it."""
    assert_incremental_is_clean(tmp_path, LINKED_ROUTE, write("routes/notes/+page.py", module), jobs=jobs)


@pytest.mark.parametrize("call", ['len(collection("node_modules"))', 'collection("node_modules").get("a")'])
def test_a_collection_named_like_a_folder_left_aside_is_an_error(tmp_path, call):
    """Neither the check for changes nor ssg serve looks below node_modules or hidden
    folders: a collection there could never be built incrementally, so it is refused,
    by its listing and by get() alike."""
    site = write_site(tmp_path / "site", {
        "content/node_modules/a.md": "---\ntitle: A\n---\nA.\n",
        "routes/+page.py": f"from ssg.content import collection\n\ndef load(event):\n    return {{'x': str({call})}}\n",
        "routes/+page.html": "{{ data.x }}",
    })
    result = run_ssg("build", "-C", str(site), "--out", str(tmp_path / "out"), env=ENV)
    assert result.returncode == 1 and "names a folder ssg leaves aside" in result.stderr, result.stderr


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_draft_that_get_did_not_return_is_published(tmp_path, jobs):
    files = {
        "content/posts/x.md": "---\ntitle: X\ndraft: true\n---\nX.\n",
        "content/posts/y.md": "---\ntitle: Y\n---\nY.\n",
        "routes/+page.py": 'from ssg.content import collection\n\ndef load(event):\n    return {"n": len(collection("posts"))}\n',
        "routes/+page.html": '{{ data.n }} <a href="/one/">one</a>',
        "routes/one/+page.py": 'from ssg.content import collection\n\ndef load(event):\n    x = collection("posts").get("x")\n    return {"t": x.title if x else "none"}\n',
        "routes/one/+page.html": "<p>{{ data.t }}</p>",
    }
    assert_incremental_is_clean(tmp_path, files, write("content/posts/x.md", "---\ntitle: X\ndraft: false\n---\nX.\n"), jobs=jobs)
    assert (tmp_path / "out/one/index.html").read_text() == "<p>X</p>"


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_redirect_from_an_endpoint_is_named_by_its_layouts_trailing_slash(tmp_path, jobs):
    """An endpoint imports no layout, yet the page its redirect is written as takes its
    file name from the layout's trailing_slash: read, so recorded."""
    files = {
        "routes/+layout.py": 'trailing_slash = "never"\n',
        "routes/+layout.html": "{{ slot }}",
        "routes/+page.html": '<a href="/go">go</a>',
        "routes/go/+server.py": 'from ssg import redirect\n\ndef GET(event):\n    redirect(308, "/")\n',
    }
    assert_incremental_is_clean(tmp_path, files, write("routes/+layout.py", 'trailing_slash = "always"\n'), jobs=jobs)
    assert (tmp_path / "out/go/index.html").is_file()


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_an_option_a_route_module_takes_from_a_site_module(tmp_path, jobs):
    """routes/notes/+page.py sets trailing_slash from lib/: the option's hash is asked of the
    module each build, not kept by +page.py's time stamp (a lib/ edit left it stale)."""
    files = {
        **LINKED_ROUTE,
        "lib/__init__.py": "",
        "lib/conf.py": 'SLASH = "always"\n',
        "routes/notes/+page.py": 'from lib.conf import SLASH as trailing_slash\n\ndef load(event):\n    return {"t": "Notes"}\n',
    }

    def two_edits(site: Path) -> None:
        (site / "lib/conf.py").write_text('SLASH = "never"\n')
        result = run_ssg("build", "-C", str(site), "--out", str(tmp_path / "out"), "--jobs", jobs, env=ENV)
        assert result.returncode == 0, result.stderr
        (site / "routes/notes/+page.py").write_text('trailing_slash = "always"\n\ndef load(event):\n    return {"t": "Notes"}\n')

    assert_incremental_is_clean(tmp_path, files, two_edits, jobs=jobs, settle=1.1)  # +page.py's stamp trusted
    assert '<a href="/notes/">' in (tmp_path / "out/index.html").read_text()
