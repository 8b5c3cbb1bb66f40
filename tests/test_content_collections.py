"""SPEC §6 collections: listing, order, drafts, slugs, lookup, pagination, .md links, deps and caching."""

from __future__ import annotations

import json
import os

import pytest
from sitekit import open_site, render, write_site

from ssg.content import Collection, ContentError, Page, collection, entry, forget, paginate
from ssg.content import store
from ssg.content.diskcache import digest
from ssg.serialize import to_jsonable

ROUTES = {
    "routes/+layout.html": "<main>{{ slot }}</main>",
    "routes/blog/+page.py": """
        from ssg.content import collection

        def load(event):
            return {"posts": collection("blog")}
    """,
    "routes/blog/+page.html": "{% for p in data.posts %}<a href='{{ p.url }}'>{{ p.title }}</a>{% endfor %}",
    "routes/blog/[slug]/+page.py": """
        from ssg import error
        from ssg.content import collection

        def entries():
            return [{"slug": p.slug} for p in collection("blog")]

        def load(event):
            post = collection("blog").get(event.params["slug"])
            if post is None:
                error(404, "no such post")
            return {"post": post}
    """,
    "routes/blog/[slug]/+page.html": "<h1>{{ data.post.title }}</h1>{{ data.post.html }}",
    "content/blog/_collection.yaml": "route: /blog/[slug]\n",
}


def post(title: str, date: str | None = "2024-01-01", body: str = "Text.\n", **extra: str) -> str:
    lines = [f"title: {title}"] + ([f"date: {date}"] if date else []) + [f"{k}: {v}" for k, v in extra.items()]
    return "---\n" + "\n".join(lines) + "\n---\n" + body


def site_with(tmp_path, files: dict[str, str], **overrides):
    return open_site(write_site(tmp_path / "site", {**ROUTES, **files}), **overrides)


# -- listing and order ---------------------------------------------------------------------------


def test_newest_first_then_by_path_a_total_order(tmp_path):
    site_with(tmp_path, {
        "content/notes/b.md": post("B", "2024-01-02"),
        "content/notes/a.md": post("A", "2024-01-02"),
        "content/notes/old.md": post("Old", "2020-05-05"),
        "content/notes/timed.md": post("Timed", "2024-01-02T10:00:00+02:00"),
        "content/notes/undated.md": post("Undated", None),
        "content/notes/z/new.md": post("New", "2025-01-01"),
    })
    posts = collection("notes")
    assert isinstance(posts, Collection)
    # 10:00+02:00 is 08:00 UTC on the 2nd, after the midnight of the 2nd; a date-only tie goes by path.
    assert [p.path.split("/", 2)[2] for p in posts] == ["z/new.md", "timed.md", "a.md", "b.md", "old.md", "undated.md"]
    assert len(posts) == 6 and posts[0].slug == "z/new" and [p.slug for p in posts[1:3]] == ["timed", "a"]


def test_drafts_are_left_out_unless_the_build_has_drafts(tmp_path):
    files = {
        "content/blog/pub.md": post("Pub"),
        "content/blog/wip.md": post("WIP", "2030-01-01", draft="true"),
    }
    site_with(tmp_path, files)
    assert [p.slug for p in collection("blog")] == ["pub"]
    assert collection("blog").get("wip") is None
    assert entry("blog/wip.md").draft, "asked for by name, a draft is still returned"
    site_with(tmp_path / "drafts", files, drafts=True)
    assert [p.slug for p in collection("blog")] == ["wip", "pub"]
    assert collection("blog").get("wip").title == "WIP"


def test_slugs_drop_md_and_a_final_index(tmp_path):
    site_with(tmp_path, {
        "content/docs/index.md": post("Home"),
        "content/docs/guide/index.md": post("Guide"),
        "content/docs/guide/install.md": post("Install"),
        "content/docs/.hidden.md": post("Hidden"),
        "content/docs/.git/x.md": post("Hidden too"),
        "content/docs/notes.txt": "not markdown",
    })
    assert sorted(p.slug for p in collection("docs")) == ["", "guide", "guide/install"]
    assert collection("docs").get("guide").title == "Guide"


def test_two_files_with_one_slug_are_an_error(tmp_path):
    site_with(tmp_path, {"content/docs/guide.md": post("A"), "content/docs/guide/index.md": post("B")})
    with pytest.raises(ContentError, match=r"content/docs/guide/index.md: has the slug 'guide', like content/docs/guide.md"):
        list(collection("docs"))


def test_a_trusted_snapshot_gets_one_entry_without_listing_the_folder(tmp_path):
    # The edit shortcut (patch.py) trusts the files the last build listed without error.
    site_with(tmp_path, {
        "content/docs/a.md": post("A"), "content/docs/b/index.md": post("B"), "content/docs/draft.md": post("D", draft="true"),
        "content/docs/broken.md": "---\ntitle: [unclosed\n---\n", "content/docs/sub/x.md": post("X"),
    })
    snapshot = store.current()
    snapshot.trusted = True
    docs = collection("docs")  # no error yet: the folder is not listed
    assert docs.get("a").title == "A" and docs.get("b").title == "B" and docs.get("nope") is None
    assert docs.get("draft") is None, "a draft is left out as from the listing"
    assert "docs" not in snapshot._listings
    with pytest.raises(ContentError, match="broken.md"):
        docs.get("sub/x")  # not a plain slug: the folder is listed, and its errors reported
    with pytest.raises(ContentError, match="broken.md"):
        list(docs)


def test_a_trusted_snapshot_still_reports_two_files_with_one_slug(tmp_path):
    site_with(tmp_path, {"content/docs/guide.md": post("A"), "content/docs/guide/index.md": post("B")})
    store.current().trusted = True
    with pytest.raises(ContentError, match=r"has the slug 'guide', like content/docs/guide.md"):
        collection("docs").get("guide")


def test_get_tagged_tags_filter_and_slices(tmp_path):
    site_with(tmp_path, {
        "content/blog/a.md": post("A", "2024-01-03", tags="[py, web]"),
        "content/blog/b.md": post("B", "2024-01-02", tags="[py]"),
        "content/blog/c.md": post("C", "2024-01-01"),
    })
    posts = collection("blog")
    assert posts.get("b").title == "B" and posts.get("nope") is None
    assert [p.slug for p in posts.tagged("py")] == ["a", "b"]
    assert posts.tags() == ["py", "web"]
    assert [p.slug for p in posts.filter(lambda p: not p.tags)] == ["c"]
    assert [p.slug for p in posts[:2]] == ["a", "b"] and posts[-1].slug == "c"


def test_a_missing_collection_says_which_exist(tmp_path):
    site_with(tmp_path, {"content/blog/a.md": post("A")})
    with pytest.raises(ContentError, match=r"there is no collection 'blgo' \(did you mean 'blog'\?\)") as info:
        list(collection("blgo"))
    assert "Collections are the folders in content/: blog" in str(info.value)
    with pytest.raises(ContentError):
        collection("../routes")


def test_entry_by_path(tmp_path):
    site_with(tmp_path, {"content/blog/a.md": post("A"), "content/about.md": post("About")})
    assert entry("blog/a.md").title == "A"
    about = entry("about.md")
    assert (about.slug, about.collection, about.url) == ("about", "", None)
    with pytest.raises(ContentError, match="drop the leading content/"):
        entry("content/blog/a.md")
    for bad in ("../pyproject.md", "/etc/passwd.md", "blog/a.txt"):
        with pytest.raises(ContentError):
            entry(bad)


def test_every_bad_file_of_a_collection_is_reported_at_once(tmp_path):
    site_with(tmp_path, {
        "content/blog/a.md": "---\ntitle: [unclosed\n---\n",
        "content/blog/b.md": post("B"),
        "content/blog/c.md": "---\n- a list\n---\n",
    })
    with pytest.raises(ContentError) as info:
        list(collection("blog"))
    message = str(info.value)
    assert "2 content files have problems" in message
    assert "content/blog/a.md:2: invalid YAML" in message and "content/blog/c.md:2: front matter must be a mapping" in message
    assert (info.value.file, info.value.line) == ("content/blog/a.md", 2)


# -- pagination ------------------------------------------------------------------------------------


def test_paginate_gives_numbers_items_and_prev_next():
    pages = paginate(range(1, 12), 5)
    assert [(p.number, p.items, p.prev, p.next) for p in pages] == [
        (1, [1, 2, 3, 4, 5], None, 2), (2, [6, 7, 8, 9, 10], 1, 3), (3, [11], 2, None),
    ]
    assert pages[0].first and pages[2].last and pages[1].total == 3 and pages[1].count == 11
    assert pages[1].entry("n") == ({"n": "2"}, pages[1])
    assert to_jsonable(pages[2]) == {"number": 3, "total": 3, "per_page": 5, "count": 11, "prev": 2, "next": None, "items": [11]}


def test_an_empty_listing_has_one_empty_page():
    assert [(p.number, p.items, p.total) for p in paginate([], 10)] == [(1, [], 1)]


@pytest.mark.parametrize("per_page", [0, -1, 2.5, True])
def test_paginate_needs_a_positive_page_size(per_page):
    with pytest.raises(ValueError, match="per_page of 1 or more"):
        paginate([1], per_page)


def test_entries_can_use_paginate_directly(tmp_path):
    site = site_with(tmp_path, {
        **{f"content/blog/p{i}.md": post(f"P{i}", f"2024-01-{i + 1:02d}") for i in range(7)},
        "routes/blog/page/[n]/+page.py": """
            from ssg.content import collection, paginate

            def entries():
                return [page.entry("n") for page in paginate(collection("blog"), 3)]

            def load(event):
                return {"page": event.props}
        """,
        "routes/blog/page/[n]/+page.html": "{{ data.page.number }}/{{ data.page.total }}: {% for p in data.page.items %}{{ p.slug }} {% endfor %}",
    })
    r = render(site, "/blog/page/3", props=paginate(collection("blog"), 3)[2])
    assert r.status == 200, r.failure
    assert r.body.decode() == "<main>3/3: p0 </main>"
    assert isinstance(r.envelope["data"]["page"], dict) and r.envelope["data"]["page"]["number"] == 3
    assert isinstance(paginate(collection("blog"), 3)[0], Page)


# -- URLs and links between files ----------------------------------------------------------------


def test_entry_url_comes_from_the_route_in_collection_yaml(tmp_path):
    site_with(tmp_path, {"content/blog/hello.md": post("Hello")}, base_path="/docs")
    assert collection("blog").get("hello").url == "/docs/blog/hello/"


def test_md_links_resolve_to_page_urls_with_fragment_query_and_base_path(tmp_path):
    site_with(tmp_path, {
        "routes/docs/[...slug]/+page.html": "{{ data.doc.html }}",
        "routes/docs/[...slug]/+page.py": """
            from ssg.content import collection

            def load(event):
                return {"doc": collection("docs").get(event.params["slug"])}
        """,
        "content/docs/_collection.yaml": "route: /docs/[...slug]\n",
        "content/docs/index.md": post("Docs", body="Read [install](guide/install.md#steps) or [the blog](../blog/b.md).\n"),
        "content/docs/guide/install.md": post("Install", body="Up: [docs](../index.md?x=1), [site](/blog), [feed](/feed.xml).\n"),
        "content/blog/b.md": post("B"),
    }, base_path="/base")
    docs = collection("docs")
    assert '<a href="/base/docs/guide/install/#steps">install</a>' in docs.get("").html
    assert '<a href="/base/blog/b/">the blog</a>' in docs.get("").html
    html = docs.get("guide/install").html
    assert '<a href="/base/docs/?x=1">docs</a>' in html
    assert '<a href="/base/blog/">site</a>' in html, "a site path gets the base path and the trailing slash"
    assert '<a href="/base/feed.xml">feed</a>' in html


def test_a_link_to_a_missing_md_file_names_both_files_and_the_line(tmp_path):
    site_with(tmp_path, {"content/blog/a.md": post("A", body="Intro.\n\nSee\n[gone](gone.md) here.\n")})
    with pytest.raises(ContentError) as info:
        collection("blog").get("a").html
    err = info.value
    assert (err.file, err.line) == ("content/blog/a.md", 8)
    assert "content/blog/a.md:8: links to content/blog/gone.md, which does not exist" in str(err)


def test_a_link_to_a_draft_fails_unless_drafts_are_built(tmp_path):
    files = {"content/blog/a.md": post("A", body="[soon](wip.md)\n"), "content/blog/wip.md": post("WIP", draft="true")}
    site_with(tmp_path, files)
    with pytest.raises(ContentError, match="a.md:5: links to content/blog/wip.md, which is a draft"):
        collection("blog").get("a").html
    site_with(tmp_path / "d", files, drafts=True)
    assert '<a href="/blog/wip/">soon</a>' in collection("blog").get("a").html


def test_a_link_to_a_file_no_route_renders_says_how_to_declare_one(tmp_path):
    site_with(tmp_path, {"content/blog/a.md": post("A", body="[n](../notes/n.md)\n"), "content/notes/n.md": post("N")})
    with pytest.raises(ContentError, match="links to content/notes/n.md, but no route renders it") as info:
        collection("blog").get("a").html
    assert "content/notes/_collection.yaml: route: /notes/[slug]" in str(info.value)


def test_a_link_out_of_content_is_refused(tmp_path):
    site_with(tmp_path, {"content/blog/a.md": post("A", body="[x](../../README.md)\n")})
    with pytest.raises(ContentError, match="outside content/"):
        collection("blog").get("a").html


def test_a_route_that_does_not_exist_is_reported_in_collection_yaml(tmp_path):
    site_with(tmp_path, {"content/blog/_collection.yaml": "# the blog\nroute: /posts/[slug]\n", "content/blog/a.md": post("A")})
    with pytest.raises(ContentError, match=r"content/blog/_collection.yaml:2: route /posts/\[slug\] is not a route in routes/"):
        list(collection("blog"))


def test_a_route_needs_a_slug_param(tmp_path):
    site_with(tmp_path, {"content/blog/_collection.yaml": "route: /blog\n", "content/blog/a.md": post("A")})
    with pytest.raises(ContentError, match="must have one param, named slug"):
        list(collection("blog"))


def test_nested_entries_need_a_rest_route(tmp_path):
    site_with(tmp_path, {"content/blog/2024/a.md": post("A")})
    with pytest.raises(ContentError, match=r"2024/a.md: is in a subfolder .* takes a single segment") as info:
        list(collection("blog"))
    assert "[...slug]" in str(info.value)


# -- serialization ---------------------------------------------------------------------------------


def test_entry_json_ships_html_once_and_no_markdown(tmp_path):
    site_with(tmp_path, {"content/blog/a.md": post("A", body="# Top\n\nFirst **para**.\n\nSecond.\n", tags="[x]")})
    a = collection("blog").get("a")
    data = to_jsonable({"post": a})["post"]
    assert list(data) == ["slug", "path", "collection", "url", "title", "date", "data", "summary", "toc", "html"]
    assert data["data"] == {"title": "A", "date": "2024-01-01", "tags": ["x"]}
    assert data["toc"] == [{"level": 1, "id": "top", "text": "Top"}]
    assert data["summary"] == "<p>First <strong>para</strong>.</p>\n"
    text = json.dumps(data)
    assert "**para**" not in text, "the Markdown source is not shipped"
    assert text.count("Second.") == 1, "the body is in the JSON once"
    preview = to_jsonable(a.preview())
    assert "html" not in preview and "toc" not in preview and preview["url"] == "/blog/a/"
    assert to_jsonable(collection("blog")) == [preview], "a Collection ships as previews"


# -- dependencies, parse-once, laziness, caching -----------------------------------------------------


def test_every_read_is_recorded_as_a_dependency_of_the_page(tmp_path):
    site = site_with(tmp_path, {"content/blog/a.md": post("A"), "content/blog/b.md": post("B")})
    one = render(site, "/blog/a")
    assert one.status == 200, one.failure
    assert "content/blog/a.md" in one.deps and "content/blog/_collection.yaml" in one.deps
    assert "content/blog/b.md" not in one.deps, "get(slug) depends on one file only"
    listing = render(site, "/blog")
    # The listing shows summaries: it depends on those, not on the whole bodies.
    assert {"content/blog/", "content/blog/a.md#summary", "content/blog/b.md#summary", "content/blog/_collection.yaml"} <= set(listing.deps)
    assert not {"content/blog/a.md", "content/blog/b.md"} & set(listing.deps)
    summaries = {dep for dep in listing.digests if dep.endswith("#summary")}
    assert summaries == {"content/blog/a.md#summary", "content/blog/b.md#summary"}, "each summary's hash goes with it"
    # So does each template's: the file as the page read it.
    templates = {dep for dep in listing.deps if dep.endswith(".html")}
    assert "routes/blog/+page.html" in templates and set(listing.digests) - summaries == templates
    stamp_size_digest = listing.digests["routes/blog/+page.html"]
    assert stamp_size_digest[1:] == ((site.root / "routes/blog/+page.html").stat().st_size, digest((site.root / "routes/blog/+page.html").read_bytes()))


def test_each_file_is_parsed_once_and_bodies_render_only_when_asked(tmp_path, monkeypatch):
    site = site_with(tmp_path, {f"content/blog/p{i}.md": post(f"P{i}") for i in range(5)})
    parses, renders = [], []
    real_parse, real_render = store.Files._parse, store.engine().render
    monkeypatch.setattr(store.Files, "_parse", lambda self, rel, stamp: parses.append(rel) or real_parse(self, rel, stamp))
    monkeypatch.setattr(store.engine(), "render", lambda body, **kw: renders.append(body) or real_render(body, **kw))
    for _ in range(3):
        assert [p.title for p in collection("blog")] == [f"P{i}" for i in range(5)]
    assert len(parses) == 5 and renders == [], "front matter is known before any body is rendered"
    for path in ["/blog"] + [f"/blog/p{i}" for i in range(5)] * 2:
        assert render(site, path).status == 200
    assert len(parses) == 5 and len(renders) == 5, "each body rendered once, however many pages read it"


def test_a_second_site_in_the_same_process_reuses_unchanged_files(tmp_path, monkeypatch):
    root = write_site(tmp_path / "site", {**ROUTES, "content/blog/a.md": post("A"), "content/blog/b.md": post("B")})
    open_site(root)
    assert [p.html for p in collection("blog")]
    parses, renders = [], []
    real_parse, real_render = store.Files._parse, store.engine().render
    monkeypatch.setattr(store.Files, "_parse", lambda self, rel, stamp: parses.append(rel) or real_parse(self, rel, stamp))
    monkeypatch.setattr(store.engine(), "render", lambda body, **kw: renders.append(body) or real_render(body, **kw))
    open_site(root)  # a new Site, as a rebuild in the dev server makes
    assert [p.html for p in collection("blog")] and parses == [] and renders == []
    changed = root / "content/blog/b.md"
    changed.write_text(post("B2", body="Changed body, longer than before.\n"))
    os.utime(changed, ns=(1, 1))
    open_site(root)
    assert [p.title for p in collection("blog")] == ["A", "B2"]
    assert parses == ["content/blog/b.md"]
    assert "Changed body" in collection("blog").get("b").html and len(renders) == 1


def test_forget_makes_a_long_lived_site_see_new_files(tmp_path):
    site = site_with(tmp_path, {"content/blog/a.md": post("A")})
    assert len(collection("blog")) == 1
    (site.root / "content/blog/b.md").write_text(post("B"))
    assert len(collection("blog")) == 1, "one snapshot per build: content/ is not re-scanned per load"
    forget(site)
    assert len(collection("blog")) == 2


def test_a_load_that_reads_bad_content_fails_the_page_with_file_and_line(tmp_path):
    site = site_with(tmp_path, {"content/blog/a.md": post("A", body="Text.\n\n[x](nope.md)\n")})
    r = render(site, "/blog/a")
    assert r.status == 500
    assert (r.failure.file, r.failure.line) == ("content/blog/a.md", 7)
    assert "content/blog/a.md:7: links to content/blog/nope.md" in r.failure.message


def test_entry_by_path_records_its_file(tmp_path):
    from ssg.context import tracking

    site_with(tmp_path, {"content/about.md": post("About")})
    deps: set[str] = set()
    with tracking(deps):
        assert entry("about.md").html
    assert deps == {"content/about.md"}


def test_the_public_surface_is_sorted_and_complete():
    import ssg.content

    assert ssg.content.__all__ == sorted(ssg.content.__all__)
    assert all(hasattr(ssg.content, name) for name in ssg.content.__all__)
    assert {"collection", "entry", "paginate", "atom", "rss", "Entry"} <= set(ssg.content.__all__)
