"""Atom 1.0 and RSS 2.0 feeds of entries, returned by an endpoint.

    # routes/blog/atom.xml/+server.py
    from ssg.content import atom, collection

    def GET(event):
        return atom(collection("blog")[:20], title="The blog", url=event.url, home="/blog/")

Every URL in a feed is absolute (config `origin` + base path), links inside the entries'
HTML included, because feed readers show it away from the site. Time stamps come from
the entries (`updated`, else `date`), never from the clock, so feeds are reproducible.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable
from typing import Any

from ..context import active_site
from ..http import Response
from .entry import Entry
from .errors import ContentError

# Characters XML 1.0 cannot carry at all, even escaped.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_SITE_LINK = re.compile(r'(\s(?:href|src)=")(/(?!/)|#)')


def _x(text: Any) -> str:
    """Escape for XML text and attribute values."""
    text = _NOT_XML.sub("", str(text))
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def _origin() -> str:
    return active_site().config.origin.rstrip("/") or "http://localhost"


def _absolute(url: str) -> str:
    """A site path without the base path ("/blog", as for url()) or an absolute URL -> an absolute URL."""
    if url.startswith(("http://", "https://")):
        return url
    if not url.startswith("/"):
        raise ValueError(f"feed URLs are absolute or start with '/', not {url!r}")
    return _origin() + active_site().url(url)


def _absolute_html(html: str, page_url: str) -> str:
    """Make the site-relative links of entry HTML absolute ("/x" and "#id")."""
    origin = _origin()
    return _SITE_LINK.sub(lambda m: m.group(1) + (origin + "/" if m.group(2) == "/" else page_url + "#"), html)


def _utc(value: Any) -> datetime.datetime | None:
    if isinstance(value, datetime.datetime):
        if value.tzinfo is None:
            return value.replace(tzinfo=datetime.timezone.utc)  # a naive time is taken as UTC
        return value.astimezone(datetime.timezone.utc)
    if isinstance(value, datetime.date):
        return datetime.datetime(value.year, value.month, value.day, tzinfo=datetime.timezone.utc)
    return None


def _rfc3339(when: datetime.datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def _items(entries: Iterable[Entry]) -> list[tuple[Entry, str, datetime.datetime | None, datetime.datetime | None]]:
    out = []
    for e in entries:
        if e.url is None:
            raise ContentError(e.path, None, "is in a feed, but no route renders it, so it has no URL",
                               hint=f"Declare route: in content/{e.collection}/_collection.yaml.")
        published = _utc(e.date)
        updated = _utc(e.data.get("updated")) or published
        out.append((e, _origin() + e.url, published, updated))
    return out


def _feed_updated(items: list[Any]) -> datetime.datetime:
    stamps = [u for *_, u in items if u is not None]
    if stamps:
        return max(stamps)
    # No dated entry: the build's own time stamp (SOURCE_DATE_EPOCH when set).
    return datetime.datetime.fromisoformat(active_site().generated_at.replace("Z", "+00:00"))


def atom(
    entries: Iterable[Entry],
    *,
    title: str,
    url: str,
    home: str = "/",
    subtitle: str | None = None,
    author: str | None = None,
    content: bool = True,
) -> Response:
    """Given entries (newest first), return an Atom 1.0 feed as an endpoint's Response.

    `url` is the feed's own URL (`event.url`, or a path like "/blog/atom.xml"); `home` the
    page it mirrors. `author` defaults to the feed's title (Atom requires one).
    `content=False` ships summaries only.
    """
    items = _items(entries)
    home_url = _absolute(home)
    out = [
        '<?xml version="1.0" encoding="utf-8"?>',
        '<feed xmlns="http://www.w3.org/2005/Atom">',
        f"  <title>{_x(title)}</title>",
    ]
    if subtitle:
        out.append(f"  <subtitle>{_x(subtitle)}</subtitle>")
    out += [
        f'  <link href="{_x(_absolute(url))}" rel="self" type="application/atom+xml"/>',
        f'  <link href="{_x(home_url)}" rel="alternate" type="text/html"/>',
        f"  <id>{_x(home_url)}</id>",
        f"  <updated>{_rfc3339(_feed_updated(items))}</updated>",
        f"  <author><name>{_x(author or title)}</name></author>",
        "  <generator>ssg</generator>",
    ]
    for e, link, published, updated in items:
        out += [
            "  <entry>",
            f'    <title type="text">{_x(e.title)}</title>',
            f'    <link href="{_x(link)}" rel="alternate" type="text/html"/>',
            f"    <id>{_x(link)}</id>",
        ]
        if published:
            out.append(f"    <published>{_rfc3339(published)}</published>")
        out.append(f"    <updated>{_rfc3339(updated or _feed_updated(items))}</updated>")
        entry_author = e.data.get("author")
        if isinstance(entry_author, str) and entry_author:
            out.append(f"    <author><name>{_x(entry_author)}</name></author>")
        out += [f'    <category term="{_x(tag)}"/>' for tag in e.tags]
        out.append(f'    <summary type="html">{_x(_absolute_html(e.summary, link))}</summary>')
        if content:
            out.append(f'    <content type="html">{_x(_absolute_html(e.html, link))}</content>')
        out.append("  </entry>")
    out.append("</feed>\n")
    return Response("\n".join(out), headers={"content-type": "application/atom+xml; charset=utf-8"})


def rss(
    entries: Iterable[Entry],
    *,
    title: str,
    url: str,
    home: str = "/",
    description: str | None = None,
    content: bool = True,
) -> Response:
    """Given entries (newest first), return an RSS 2.0 feed as an endpoint's Response.

    Arguments as for `atom()`; `description` defaults to the title (RSS requires one).
    """
    from email.utils import format_datetime  # RFC 822 dates; here: most builds write no RSS

    items = _items(entries)
    out = [
        '<?xml version="1.0" encoding="utf-8"?>',
        '<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom">',
        "  <channel>",
        f"    <title>{_x(title)}</title>",
        f"    <link>{_x(_absolute(home))}</link>",
        f"    <description>{_x(description or title)}</description>",
        f'    <atom:link href="{_x(_absolute(url))}" rel="self" type="application/rss+xml"/>',
        f"    <lastBuildDate>{format_datetime(_feed_updated(items), usegmt=True)}</lastBuildDate>",
        "    <generator>ssg</generator>",
    ]
    for e, link, published, _updated in items:
        out += [
            "    <item>",
            f"      <title>{_x(e.title)}</title>",
            f"      <link>{_x(link)}</link>",
            f'      <guid isPermaLink="true">{_x(link)}</guid>',
        ]
        if published:
            out.append(f"      <pubDate>{format_datetime(published, usegmt=True)}</pubDate>")
        out += [f"      <category>{_x(tag)}</category>" for tag in e.tags]
        body = e.html if content else e.summary
        out += [f"      <description>{_x(_absolute_html(body, link))}</description>", "    </item>"]
    out += ["  </channel>", "</rss>\n"]
    return Response("\n".join(out), headers={"content-type": "application/rss+xml; charset=utf-8"})
