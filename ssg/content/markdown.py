"""Markdown -> HTML: one configured markdown-it-py instance for the whole process.

CommonMark plus tables, strikethrough, footnotes and task lists; raw HTML passes through;
headings get ids (GitHub-style, unique per page) and make the table of contents; fenced
code is highlighted by Pygments into CSS classes (`highlight_css()` is the stylesheet).

The engine is a seam: `render(body, links=..., page_url=...)` is all the content store
calls. `MarkdownItEngine` is the reference; `engine()` picks `fastmd.FastEngine` (the Rust
port markdown-it-pyrs, for documents where its output is provably the same, this engine
for the rest) when markdown_it_pyrs is installed, unless SSG_MARKDOWN=reference.

markdown-it-py is imported when the reference engine first parses: FastEngine renders most
documents without it, and importing it costs about a tenth of a one-edit build.
"""

from __future__ import annotations

import importlib
import os
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property, lru_cache
from importlib.util import find_spec
from typing import TYPE_CHECKING, Any, Protocol

from ..errors import UsageError

if TYPE_CHECKING:
    from markdown_it import MarkdownIt
    from markdown_it.token import Token

LinkResolver = Callable[[str, int], str]
"""(link href or image src, 0-based line in the body) -> what to emit. May raise ContentError.
The line is for error messages: FastEngine passes its best guess, and if the resolver
raises, renders the body again with this engine, whose line the error then names."""

MORE = "<!--more-->"
MAX_NESTING = 20
"""Deepest nesting (lists in lists, quotes in quotes) rendered; deeper input is cut off
rather than recursing: a 10,000-level list renders its first 20 levels."""

# Ids ssg or the footnotes plugin put on a page; a heading must not take them.
_RESERVED = re.compile(r"^(?:ssg-data|fn\d+|fnref\d+(?::\d+)?)$")
_NOT_SLUG = re.compile(r"[^\w\- ]+")


@dataclass(frozen=True)
class Heading:
    level: int
    id: str
    text: str

    def __json__(self) -> dict[str, Any]:
        return {"level": self.level, "id": self.id, "text": self.text}


@dataclass(frozen=True)
class RenderedBody:
    html: str
    toc: tuple[Heading, ...]
    summary: str


class Engine(Protocol):
    def render(self, body: str, *, links: LinkResolver | None = None, page_url: str | None = None) -> RenderedBody: ...


def slugify(text: str) -> str:
    """Given a heading's text, return its id the way GitHub makes them.

    >>> slugify("Hello, World! (2024)")
    'hello-world-2024'
    """
    return _NOT_SLUG.sub("", text.strip().lower()).replace(" ", "-") or "section"


def heading_id(text: str, used: set[str]) -> str:
    """Given a heading's text and the ids already taken on the page, return its id (and
    take it): the slug, or the slug with -1, -2... when taken or reserved.

    >>> used = set()
    >>> heading_id("Intro", used), heading_id("Intro", used), heading_id("fn1", used)
    ('intro', 'intro-1', 'fn1-1')
    """
    base = slugify(text)
    slug, n = base, 0
    while slug in used or _RESERVED.match(slug):
        n += 1
        slug = f"{base}-{n}"
    used.add(slug)
    return slug


def escape_html(text: str) -> str:
    """markdown-it's escaping of text and attribute values: & < > and " (not ')."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def package_version(name: str) -> str | None:
    """The `__version__` a package declares: read from its `__init__.py` without importing
    it where it is a plain string there (markdown-it-py's import is most of its cost to a
    build that does not parse with it), else imported. None for a package not installed."""
    module = sys.modules.get(name)
    if module is None:
        spec = find_spec(name)
        if spec is None:
            return None
        try:
            with open(spec.origin or "", encoding="utf-8") as source:
                found = re.search(r"""^__version__\s*=\s*["']([^"']+)["']\s*$""", source.read(), re.M)
            if found:
                return found.group(1)
        except (OSError, ValueError):
            pass
        try:
            module = importlib.import_module(name)
        except ImportError:
            return None
    version = getattr(module, "__version__", None)
    return version if isinstance(version, str) else None


class MarkdownItEngine:
    """markdown-it-py with ssg's plugins and rules. One instance is shared by the build:
    the parser keeps no state between documents (each render gets its own `env`)."""

    @cached_property
    def md(self) -> MarkdownIt:
        """The parser, built on first use (see the module's docstring)."""
        from markdown_it import MarkdownIt
        from mdit_py_plugins.footnote import footnote_plugin
        from mdit_py_plugins.tasklists import tasklists_plugin

        md = MarkdownIt("commonmark", {"html": True, "maxNesting": MAX_NESTING, "highlight": highlight})
        md.enable(["table", "strikethrough"])
        md.use(footnote_plugin).use(tasklists_plugin)
        md.core.ruler.push("ssg_headings", _heading_ids)
        md.core.ruler.push("ssg_links", _rewrite_links)
        return md

    def render(self, body: str, *, links: LinkResolver | None = None, page_url: str | None = None) -> RenderedBody:
        env: dict[str, Any] = {"ssg_links": links, "ssg_toc": []}
        tokens = self.md.parse(body, env)
        html = self.md.renderer.render(tokens, self.md.options, env)
        summary = self.md.renderer.render(_summary_tokens(tokens, page_url), self.md.options, env)
        return RenderedBody(html, tuple(env["ssg_toc"]), summary)


def _heading_ids(state: Any) -> None:
    """Give every heading an id that is stable (from its text) and unique on the page."""
    used: set[str] = set()
    tokens = state.tokens
    for i, token in enumerate(tokens):
        if token.type != "heading_open":
            continue
        inline = tokens[i + 1]
        text = "".join(c.content for c in inline.children or () if c.type in ("text", "code_inline"))
        slug = heading_id(text, used)
        token.attrSet("id", slug)
        state.env["ssg_toc"].append(Heading(int(token.tag[1]), slug, text.strip()))


def _rewrite_links(state: Any) -> None:
    """Let the store turn links to .md files into page URLs (or fail naming both files)."""
    resolve: LinkResolver | None = state.env.get("ssg_links")
    if resolve is None:
        return
    for token in state.tokens:
        if token.type != "inline" or not token.children:
            continue
        for child in token.children:
            attr = "href" if child.type == "link_open" else "src" if child.type == "image" else None
            if attr:
                href = child.attrGet(attr)
                if href:
                    child.attrSet(attr, resolve(str(href), _line_of(token, child)))


def _line_of(inline: Token, link: Token) -> int:
    """The 0-based body line of a link: its paragraph's first line plus the newlines before it."""
    start = inline.map[0] if inline.map else 0
    before = 0
    for child in inline.children or ():
        if child is link:
            break
        if child.type in ("softbreak", "hardbreak"):
            before += 1
    return start + before


def _summary_tokens(tokens: list[Token], page_url: str | None) -> list[Token]:
    """The summary: everything before a `<!--more-->` line, else the first paragraph.
    Footnote references are dropped and `#id` links point at the entry's page, because a
    summary is shown on other pages (listings, feeds)."""
    part: list[Token] = []
    for i, token in enumerate(tokens):
        if token.type == "html_block" and token.level == 0 and token.content.strip() == MORE:
            part = tokens[:i]
            break
    else:
        for i, token in enumerate(tokens):
            if token.type == "paragraph_open" and token.level == 0:
                end = next(j for j in range(i, len(tokens)) if tokens[j].type == "paragraph_close" and tokens[j].level == 0)
                part = tokens[i : end + 1]
                break
    out = []
    for token in part:
        if token.type == "inline" and token.children:
            token = token.copy()
            children = []
            for child in token.children or ():
                if child.type == "footnote_ref":
                    continue
                if child.type == "link_open" and page_url and str(child.attrGet("href") or "").startswith("#"):
                    child = child.copy()
                    child.attrSet("href", page_url + str(child.attrGet("href")))
                children.append(child)
            token.children = children
        out.append(token)
    return out


# -- code highlighting ----------------------------------------------------------------------------


@lru_cache(maxsize=256)
def _lexer(lang: str) -> Any:
    from pygments.lexers import get_lexer_by_name
    from pygments.util import ClassNotFound

    try:
        return get_lexer_by_name(lang)
    except ClassNotFound:
        return None


@lru_cache(maxsize=1)
def _formatter() -> Any:
    from pygments.formatters import HtmlFormatter

    return HtmlFormatter(nowrap=True)


def highlight(code: str, lang: str, attrs: str) -> str:
    """markdown-it's highlight hook: Pygments spans in `<pre class="highlight">`, or "" to
    let markdown-it write the block plain (no language, one Pygments does not know, or
    highlighting turned off with the site's `highlight = false`)."""
    lexer = _lexer(lang.lower()) if lang and _highlight_code else None
    if lexer is None:
        return ""
    import pygments

    spans = pygments.highlight(code, lexer, _formatter())
    return f'<pre class="highlight"><code class="language-{escape_html(lang)}">{spans}</code></pre>'  # markdown-it adds the newline


def highlight_css(style: str = "default") -> str:
    """Given a Pygments style name, return the CSS for highlighted code (`.highlight ...`)."""
    from pygments.formatters import HtmlFormatter

    rules = HtmlFormatter(style=style).get_style_defs(".highlight").splitlines()
    # Only rules under .highlight: Pygments also styles every <pre> and line numbers.
    return "\n".join(r for r in rules if r.startswith(".highlight")) + "\n"


_highlight_code = True


def configure(*, highlight: bool) -> None:
    """Apply the site's Markdown options (config `highlight`) to the shared engine. The option
    is also kept on the engine as a plain attribute, so it is part of the engine's identity
    in the content cache on disk."""
    global _highlight_code
    current = engine()
    if getattr(current, "highlight_code", True) != highlight or _highlight_code != highlight:
        _highlight_code = highlight
        current.highlight_code = highlight  # type: ignore[attr-defined]
        from .diskcache import forget_identity

        forget_identity(current)


# -- the shared engine ------------------------------------------------------------------------------

_engine: Engine | None = None
ENGINES = ("auto", "fast", "reference")
"""Values of the SSG_MARKDOWN environment variable: auto (the default) is fast when
markdown_it_pyrs imports, else reference; fast requires it."""


def engine() -> Engine:
    """The process's Markdown engine, built on first use (see ENGINES)."""
    global _engine
    if _engine is None:
        _engine = _default_engine(os.environ.get("SSG_MARKDOWN", "").strip().lower() or "auto")
    return _engine


def _default_engine(choice: str) -> Engine:
    if choice not in ENGINES:
        raise UsageError(f"SSG_MARKDOWN={choice!r} is not a Markdown engine", hint=f"Use one of: {', '.join(ENGINES)}.")
    if choice == "reference":
        return MarkdownItEngine()
    try:
        from .fastmd import FastEngine
    except ImportError as exc:  # not installed, or a version FastEngine was not checked against
        if choice == "fast":
            raise UsageError(f"SSG_MARKDOWN=fast needs markdown-it-pyrs: {exc}",
                             hint="pip install 'markdown-it-pyrs>=0.4,<0.5', or unset SSG_MARKDOWN.") from None
        return MarkdownItEngine()
    return FastEngine()


def use_engine(new: Engine | None) -> None:
    """Replace the Markdown engine (None: back to the default, chosen again by `engine()`).
    Rendered bodies cached by the content store are not re-rendered; call this before
    the first build."""
    global _engine
    _engine = new
