"""The demo site and the starter site build clean through the real command line."""

from __future__ import annotations

import json

import feedparser

from conftest import REPO, run_ssg


def test_demo_site_builds(tmp_path):
    out = tmp_path / "out"
    result = run_ssg("build", "-C", str(REPO), "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert (out / "index.html").is_file()
    data = json.loads((out / "blog" / "hello-world" / "__data.json").read_text())
    assert data["route"] == "/blog/[slug]"
    assert data["params"] == {"slug": "hello-world"}
    post = data["data"]["post"]
    assert post["path"] == "content/blog/hello-world.md" and post["url"] == "/blog/hello-world/"
    assert post["data"]["tags"] == ["news"] and "html" in post
    assert (out / "blog" / "tags" / "news" / "index.html").is_file(), "tag pages are reached by the crawl"
    # Eleven published posts, five a page: /blog/, /blog/page/2/, /blog/page/3/.
    assert (out / "blog" / "page" / "3" / "index.html").is_file() and not (out / "blog" / "page" / "4").exists()
    index = json.loads((out / "blog" / "__data.json").read_text())["data"]["page"]
    assert (index["number"], index["total"], index["count"]) == (1, 3, 11)
    assert "html" not in index["items"][0], "the index ships previews, not bodies"
    assert not (out / "blog" / "upcoming-features").exists(), "drafts are left out"
    feed = feedparser.parse((out / "blog" / "atom.xml").read_bytes())
    assert not feed.bozo and len(feed.entries) == 11
    assert feed.entries[0].link == "https://ssg.example.com/blog/deterministic-builds/"
    assert not feedparser.parse((out / "blog" / "rss.xml").read_bytes()).bozo
    layout = (out / "blog" / "code-highlighting" / "index.html").read_text()
    assert '<link rel="stylesheet" href="/blog/highlight.css">' in layout
    assert 'rel="alternate" type="application/atom+xml"' in layout and '<pre class="highlight">' in layout
    assert ".highlight .k" in (out / "blog" / "highlight.css").read_text()
    # A relative .md link became the URL of the page that renders it.
    assert '<a href="/blog/routes-are-folders/#params">params</a>' in (out / "blog" / "loads-and-layouts" / "index.html").read_text()


def test_demo_site_builds_drafts_with_the_flag(tmp_path):
    out = tmp_path / "out"
    result = run_ssg("build", "-C", str(REPO), "--out", str(out), "--drafts")
    assert result.returncode == 0, result.stderr
    assert (out / "blog" / "upcoming-features" / "index.html").is_file()
    assert len(feedparser.parse((out / "blog" / "atom.xml").read_bytes()).entries) == 12


def test_new_site_builds(tmp_path):
    site = tmp_path / "site"
    assert run_ssg("new", str(site)).returncode == 0
    result = run_ssg("build", "-C", str(site))
    assert result.returncode == 0, result.stderr
    assert (site / "build" / "notes" / "first" / "index.html").is_file()
    assert "0 errors" in result.stderr
