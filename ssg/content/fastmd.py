"""A faster Markdown engine: markdown-it-pyrs (Rust) wherever its output is ssg's, byte for byte.

`FastEngine` renders with markdown-it-pyrs, then does on its HTML what `MarkdownItEngine`'s
rules do on tokens: heading ids and the TOC, Pygments for fenced code, links through the
LinkResolver, the summary. The Rust port (markdown-it 0.6) renders some input differently
from markdown-it-py 4: CommonMark 0.31 changes it predates (comments, Unicode symbols next
to `*`), its footnote and task list HTML, Unicode whitespace that Python's str.strip()
removes, punycode hosts, no cap on nesting, and a dozen corner cases, each found by
comparing the two. The pre-scan in fastscan.py (`fallback_reason()`) looks for every one of
them in the source; those documents, and any with a link the resolver rejects (so the
error names the reference's line), are rendered by the reference engine, which FastEngine
extends.

tests/test_markdown_engines.py holds the two to the same html, toc and summary on the
CommonMark spec examples, the benchmark corpus, the demo content, hostile input and
random documents.
"""

from __future__ import annotations

import re
from collections import Counter

import markdown_it_pyrs

from . import fastscan  # raises ImportError on versions the pre-scan was not checked against
from .markdown import Heading, LinkResolver, MarkdownItEngine, RenderedBody, escape_html, heading_id, highlight

PLUGINS = ["table", "strikethrough", "footnote", "tasklist"]
"""The Rust port's names for the reference's extensions (its footnotes and task lists render
differently, so documents with them never reach it; enabled so that nothing else changes)."""

# -- the HTML the Rust port writes ------------------------------------------------------------------

_LINK = re.compile(r'<(a|img) (href|src)="([^"]*)"')
_HEADING = re.compile(r"<h([1-6])>(.*?)</h\1>", re.S)
_ANY_TAG = re.compile(r"<[^>]*>")
_FENCE = re.compile(r'<pre><code class="language-([^"]*)">(.*?)</code></pre>\n', re.S)
_BLOCK = re.compile(r"<p>|<(/?)(?:blockquote|ul|ol)[ >]")


class _Fallback(Exception):
    """This document goes to the reference engine; the message says why."""


class FastEngine(MarkdownItEngine):
    """markdown-it-pyrs for the documents it renders exactly like the reference engine,
    the reference (this class's base) for the rest. `stats` counts renders: "fast", or
    the reason a document fell back."""

    def __init__(self) -> None:
        super().__init__()
        self.fast = markdown_it_pyrs.MarkdownIt("commonmark").enable_many(PLUGINS)
        self.stats: Counter[str] = Counter()

    def render(self, body: str, *, links: LinkResolver | None = None, page_url: str | None = None) -> RenderedBody:
        text = _normalize(body)
        try:
            reason = self.fallback_reason(text)
            if reason is None:
                rendered = self._render_fast(text, links, page_url)
                self.stats["fast"] += 1
                return rendered
        except _Fallback as exc:
            reason = str(exc)
        except BaseException as exc:
            # A bug here, or a panic in the Rust port (PanicException is a BaseException),
            # must not fail a page the reference renders.
            if not isinstance(exc, Exception) and type(exc).__name__ != "PanicException":
                raise
            reason = f"{type(exc).__name__} on the fast path"
        self.stats[reason] += 1
        return super().render(body, links=links, page_url=page_url)

    def fast_path(self, body: str) -> bool:
        """Whether the pre-scan lets `body` through (it still falls back if the resolver
        rejects a link, or a heading spans lines)."""
        return self.fallback_reason(_normalize(body)) is None

    def fallback_reason(self, text: str) -> str | None:
        """Given a body with "\\n" line ends, return why the Rust port may render it
        differently from the reference engine, or None when it renders it the same."""
        return fastscan.fallback_reason(text, self.fast)

    def _render_fast(self, text: str, links: LinkResolver | None, page_url: str | None) -> RenderedBody:
        html = self.fast.render(text)
        toc: list[Heading] = []
        if "<h" in html:  # before links: it may still fall back, and the resolver has side effects
            html = _heading_ids(html, toc)
        if links is not None:
            html = _resolve_links(html, text, links)
        if "<blockquote>\n</blockquote>" in html:  # the reference writes an empty quote on one line
            html = html.replace("<blockquote>\n</blockquote>", "<blockquote></blockquote>")
        if 'class="language-' in html:
            html = _FENCE.sub(_highlight, html)
        summary = _first_paragraph(html)
        if page_url and '<a href="#' in summary:
            # Shown on other pages (listings, feeds), so links within the page name it.
            summary = summary.replace('<a href="#', f'<a href="{escape_html(page_url)}#')
        return RenderedBody(html, tuple(toc), summary)


def _normalize(body: str) -> str:
    """What markdown-it does first, done here so that the pre-scan sees the same lines."""
    if "\r" in body:
        body = body.replace("\r\n", "\n").replace("\r", "\n")
    if "\0" in body:
        body = body.replace("\0", "\ufffd")
    return body

# -- HTML post-processing: the reference's rules, on the Rust port's HTML ----------------------------


def _heading_ids(html: str, toc: list[Heading]) -> str:
    """Give every heading the reference's id, from its text and code (not images or breaks)."""
    used: set[str] = set()

    def add_id(found: re.Match[str]) -> str:
        level, inner = found.groups()
        if "\n" in inner:  # a setext heading over several lines: the reference drops the breaks
            raise _Fallback("a heading over several lines")
        text = _unescape(_ANY_TAG.sub("", inner))
        slug = heading_id(text, used)
        toc.append(Heading(int(level), slug, text.strip()))
        return f'<h{level} id="{escape_html(slug)}">{inner}</h{level}>'

    return _HEADING.sub(add_id, html)


def _resolve_links(html: str, text: str, links: LinkResolver) -> str:
    """Send every link href and image src through the resolver, as the reference's core
    rule does, with a 0-based body line for its error messages.

    The line is where the destination is first found in the source, at or after the
    previous one's (the reference counts from the link's paragraph). The content store
    uses the line only in the error it raises, and a resolver that raises makes the
    reference engine render the body again, so errors name the reference's line."""
    cursor = line = seen = 0

    def resolve(found: re.Match[str]) -> str:
        nonlocal cursor, line, seen
        seen += 1
        tag, attr, value = found.groups()
        url = _unescape(value)
        if not url:
            return found.group()
        at = text.find(url, cursor)
        if at >= 0:
            line += text.count("\n", cursor, at)
            cursor = at
        try:
            return f'<{tag} {attr}="{escape_html(links(url, line))}"'
        except Exception as exc:
            raise _Fallback("the link resolver raised") from exc

    html = _LINK.sub(resolve, html)
    if html.count("<a ") + html.count("<img ") != seen:
        raise _Fallback("a link the resolver did not see")
    return html


def _highlight(found: re.Match[str]) -> str:
    lang, code = found.groups()
    highlighted = highlight(_unescape(code), _unescape(lang), "")
    return highlighted + "\n" if highlighted else found.group()


def _first_paragraph(html: str) -> str:
    """The first top-level paragraph: the summary, since the pre-scan sends documents with
    a <!--more--> to the reference engine."""
    start = 0 if html.startswith("<p>") else -1
    depth = 0
    if start:
        for found in _BLOCK.finditer(html):
            if found.group() != "<p>":
                depth += -1 if found.group(1) else 1
            elif not depth:
                start = found.start()
                break
    return html[start : html.index("</p>\n", start) + 5] if start >= 0 else ""


def _unescape(text: str) -> str:
    """Undo escape_html, the only escaping in the Rust port's text and attributes."""
    if "&" not in text:
        return text
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"').replace("&amp;", "&")
