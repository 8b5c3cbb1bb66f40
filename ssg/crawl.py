"""The crawler: pure HTML -> (links, ids). No I/O; tested with input.html -> output.json fixtures."""

from __future__ import annotations

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

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v for k, v in attrs if v is not None}
        if "id" in a:
            self.ids.add(a["id"])
        if tag == "a" and "name" in a:
            self.ids.add(a["name"])
        rels = a.get("rel", "").lower().split()
        if "href" in a and "external" not in rels and tag != "base":
            self._add(a["href"])
        if "src" in a:
            self._add(a["src"])
        if "srcset" in a:
            for candidate in a["srcset"].split(","):
                url = candidate.strip().split(" ")[0]
                self._add(url)
        if tag == "meta":
            key = (a.get("property") or a.get("name") or "").lower()
            if key in _URL_METAS and "content" in a:
                self._add(a["content"])
            if a.get("http-equiv", "").lower() == "refresh":
                self._add(_refresh_url(a.get("content", "")))

    handle_startendtag = handle_starttag

    def _add(self, url: str) -> None:
        url = url.strip()
        if url:
            self.links[url] = None


def _refresh_url(content: str) -> str:
    """Given `0; url=/next`, return `/next`."""
    _, _, rest = content.partition(";")
    rest = rest.strip()
    if rest.lower().startswith("url="):
        rest = rest[4:].strip().strip("'\"")
    return rest


def find(html: str) -> Found:
    """Given an HTML document, return the URLs it references and the ids it defines.

    >>> find('<a href="/a" id="top"></a><img srcset="/x.png 1x, /y.png 2x">').links
    ('/a', '/x.png', '/y.png')
    """
    parser = _Parser()
    parser.feed(html)
    parser.close()
    return Found(tuple(parser.links), frozenset(parser.ids))
