"""The crawler: pure HTML -> (links, ids). No I/O; tested with input.html -> output.json fixtures."""

from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser

# <meta property="og:image" content="..."> and friends hold URLs worth following.
_URL_METAS = frozenset({
    "og:image", "og:image:url", "og:image:secure_url", "og:audio", "og:video", "og:url",
    "twitter:image", "twitter:image:src", "twitter:player",
})


@dataclass(frozen=True)
class Found:
    links: tuple[str, ...]  # in document order, duplicates removed
    ids: frozenset[str]


class _Parser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: dict[str, None] = {}
        self.ids: set[str] = set()
        # What sits inside <template> is inert: not rendered, not linked, its ids not in the page.
        # (<script> and <style> bodies and comments never reach handle_starttag at all.)
        self.template_depth = 0
        # <textarea> and <title> hold text, so "<a href>" there is no tag, but older html.parser
        # versions parse it as one. Browsers end them at the first closing tag: a flag, no depth.
        self.in_text: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.in_text:
            return
        if not self.template_depth:
            self._element(tag, {k: v for k, v in attrs if v is not None})
        if tag == "template":
            self.template_depth += 1
        elif tag in ("textarea", "title"):
            self.in_text = tag

    handle_startendtag = handle_starttag  # <template/> and <textarea/> still open (HTML ignores the slash)

    def handle_endtag(self, tag: str) -> None:
        if self.in_text:
            if tag == self.in_text:
                self.in_text = None
        elif tag == "template" and self.template_depth:
            self.template_depth -= 1

    def _element(self, tag: str, a: dict[str, str]) -> None:
        if a.get("id"):
            self.ids.add(a["id"])
        if tag == "a" and a.get("name"):
            self.ids.add(a["name"])
        rels = a.get("rel", "").lower().split()
        if "href" in a and "external" not in rels and tag != "base":
            self._add(a["href"])
        if "src" in a:
            self._add(a["src"])
        if "srcset" in a:
            for url in _srcset_urls(a["srcset"]):
                self._add(url)
        if tag == "meta":
            key = (a.get("property") or a.get("name") or "").lower()
            if key in _URL_METAS and "content" in a:
                self._add(a["content"])
            if a.get("http-equiv", "").lower() == "refresh":
                self._add(_refresh_url(a.get("content", "")))

    def _add(self, url: str) -> None:
        url = url.strip()
        if url:
            self.links[url] = None


def _srcset_urls(srcset: str) -> list[str]:
    """Given `/a.png 1x, /b,c.png 2x`, return ["/a.png", "/b,c.png"].

    Candidates are split the way the HTML spec does: a URL runs to the next whitespace (so it
    may hold commas), a comma that ends it or follows its descriptors ends the candidate.
    """
    urls = []
    for m in _SRCSET_CANDIDATE.finditer(srcset):
        url = m.group(1).rstrip(",")
        if url:
            urls.append(url)
    return urls


# A URL (a run without whitespace), then descriptors up to the next comma.
_SRCSET_CANDIDATE = re.compile(r"[\s,]*(\S+)(?:(?<!,)[^,]*)?")

# `<delay>; url=<url>`: `;`, `,` or a space after the delay, `url=` optional, quotes allowed (HTML spec).
_REFRESH = re.compile(r"^\s*[\d.]+(?:(?:\s*[;,]\s*|\s+)(?:url\s*=\s*)?(?P<url>.*))?$", re.IGNORECASE | re.DOTALL)


def _refresh_url(content: str) -> str:
    """Given `0; url='/next'`, return `/next` ("" when there is no URL)."""
    m = _REFRESH.match(content)
    url = (m.group("url") or "").strip() if m else ""
    if url[:1] in ("'", '"'):
        url = url[1:].split(url[0], 1)[0]  # up to the matching quote
    return url


def find(html: str) -> Found:
    """Given an HTML document, return the URLs it references and the ids it defines.

    >>> find('<a href="/a" id="top"></a><img srcset="/x.png 1x, /y.png 2x">').links
    ('/a', '/x.png', '/y.png')
    """
    parser = _Parser()
    parser.feed(html)
    parser.close()
    return Found(tuple(parser.links), frozenset(parser.ids))
