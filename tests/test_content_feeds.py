"""SPEC §6 feeds: Atom and RSS from an endpoint, absolute URLs, parsed back by feedparser."""

from __future__ import annotations

import datetime

import feedparser
import pytest
from sitekit import open_site, render, write_site

from ssg.content import ContentError, atom, collection, entry

FILES = {
    "routes/+layout.html": "{{ slot }}",
    "routes/blog/[slug]/+page.html": "{{ data.post.html }}",
    "routes/blog/[slug]/+page.py": """
        from ssg.content import collection

        def load(event):
            return {"post": collection("blog").get(event.params["slug"])}
    """,
    "routes/blog/+page.html": "blog",
    "routes/blog/atom.xml/+server.py": """
        from ssg.content import atom, collection

        def GET(event):
            return atom(collection("blog"), title="The <blog> & more", url=event.url, home="/blog", subtitle="Notes")
    """,
    "routes/blog/rss.xml/+server.py": """
        from ssg.content import rss, collection

        def GET(event):
            return rss(collection("blog"), title="The <blog> & more", url=event.url, home="/blog", description="Notes")
    """,
    "content/blog/_collection.yaml": "route: /blog/[slug]\n",
    "content/blog/first.md": """
        ---
        title: First & <best>
        date: 2024-01-02
        tags: [news, "a&b"]
        ---
        Hello [second](second.md), see [below](#more) and ![pic](/img/p.png).

        ## More

        Text with a footnote.[^1]

        [^1]: The note.
    """,
    "content/blog/second.md": """
        ---
        title: "Second\\u2028line </script><!-- ]]>"
        date: 2024-03-04T05:06:07+01:00
        updated: 2024-04-01
        author: Ann
        ---
        Only a paragraph with a control char \x0b here.
    """,
}


def feed_site(tmp_path, **overrides):
    return open_site(write_site(tmp_path / "site", FILES), **overrides)


def fetch(site, path):
    r = render(site, path)
    assert r.status == 200, r.failure or r.body
    return r


def test_atom_feed_is_valid_and_absolute(tmp_path):
    site = feed_site(tmp_path, origin="https://example.com", base_path="/docs")
    r = fetch(site, "/blog/atom.xml")
    assert r.content_type == "application/atom+xml; charset=utf-8"
    feed = feedparser.parse(r.body)
    assert not feed.bozo, feed.get("bozo_exception")
    assert feed.version == "atom10"
    assert feed.feed.title == "The <blog> & more"
    assert feed.feed.subtitle == "Notes"
    assert feed.feed.id == "https://example.com/docs/blog/"
    assert {(link.rel, link.href) for link in feed.feed.links} == {
        ("self", "https://example.com/docs/blog/atom.xml"), ("alternate", "https://example.com/docs/blog/"),
    }
    assert feed.feed.updated == "2024-04-01T00:00:00Z", "the newest entry's time, not the clock"
    second, first = feed.entries
    assert first.title == "First & <best>"
    assert first.link == first.id == "https://example.com/docs/blog/first/"
    assert first.published == "2024-01-02T00:00:00Z"
    assert [t.term for t in first.tags] == ["news", "a&b"]
    assert feed.feed.author == "The <blog> & more", "Atom needs an author: the title when none is given"
    assert "author" not in first
    content = first.content[0].value
    assert 'href="https://example.com/docs/blog/second/"' in content
    assert 'href="https://example.com/docs/blog/first/#more"' in content
    assert 'src="https://example.com/docs/img/p.png"' in content
    assert 'href="https://example.com/docs/blog/first/#fn1"' in content
    assert first.summary.startswith("<p>Hello <a href=\"https://example.com/docs/blog/second/\">second</a>")
    assert second.title == "Second\u2028line </script><!-- ]]>"
    assert second.author == "Ann"
    assert second.published == "2024-03-04T04:06:07Z" and second.updated == "2024-04-01T00:00:00Z"
    assert "\x0b" not in second.content[0].value, "characters XML cannot hold are dropped"


def test_rss_feed_is_valid_and_absolute(tmp_path):
    site = feed_site(tmp_path, origin="https://example.com")
    r = fetch(site, "/blog/rss.xml")
    assert r.content_type == "application/rss+xml; charset=utf-8"
    feed = feedparser.parse(r.body)
    assert not feed.bozo, feed.get("bozo_exception")
    assert feed.version == "rss20"
    assert feed.feed.title == "The <blog> & more" and feed.feed.link == "https://example.com/blog/"
    second, first = feed.entries
    assert first.link == first.id == "https://example.com/blog/first/"
    assert first.published_parsed[:3] == (2024, 1, 2)
    assert 'href="https://example.com/blog/second/"' in first.description
    assert [t.term for t in first.tags] == ["news", "a&b"]
    assert second.title == "Second\u2028line </script><!-- ]]>"


def test_feeds_are_deterministic(tmp_path):
    site = feed_site(tmp_path, origin="https://example.com")
    assert fetch(site, "/blog/atom.xml").body == fetch(site, "/blog/atom.xml").body


def test_without_origin_urls_fall_back_to_localhost(tmp_path):
    site = feed_site(tmp_path)
    feed = feedparser.parse(fetch(site, "/blog/atom.xml").body)
    assert feed.entries[1].link == "http://localhost/blog/first/"


def test_summary_only_feed(tmp_path):
    feed_site(tmp_path, origin="https://example.com")
    feed = feedparser.parse(atom(collection("blog"), title="t", url="/blog/atom.xml", content=False).body)
    assert not feed.bozo
    assert "content" not in feed.entries[1] and feed.entries[1].summary.startswith("<p>Hello")
    assert "#fn1" not in feed.entries[1].summary


def test_an_entry_without_a_page_cannot_be_in_a_feed(tmp_path):
    site = open_site(write_site(tmp_path / "s", {**FILES, "content/notes/n.md": "---\ntitle: N\n---\n"}))
    assert site
    with pytest.raises(ContentError, match="content/notes/n.md: is in a feed, but no route renders it"):
        atom([entry("notes/n.md")], title="t", url="/x.xml")


def test_an_empty_feed_is_dated_by_the_build(tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    feed_site(tmp_path)
    feed = feedparser.parse(atom([], title="t", url="/x.xml").body)
    assert not feed.bozo and feed.entries == []
    assert feed.feed.updated_parsed[:6] == datetime.datetime.fromtimestamp(1700000000, datetime.timezone.utc).timetuple()[:6]
