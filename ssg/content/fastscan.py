"""The pre-scan: which Markdown documents markdown-it-pyrs may render differently from ssg's.

`fastmd.FastEngine` renders with markdown-it-pyrs only the documents `fallback_reason()`
lets through, and sends the rest to the reference engine (`MarkdownItEngine`). This module
is the list of known differences between markdown-it-pyrs 0.4 (the Rust port, markdown-it
0.6) and markdown-it-py 4 with ssg's plugins (tables, strikethrough, footnotes, task
lists), each found by comparing the two: CommonMark 0.31 changes the Rust port predates
(comments, Unicode symbols next to `*`), its footnote and task list HTML, Unicode
whitespace that Python's str.strip() removes, punycode hosts, no cap on nesting, and a
dozen corner cases, each with a comment below saying how the two differ. Most checks are a
regular expression on the source behind a one-character search; the two rarest (raw HTML,
code right after a list item's text) ask the Rust port's syntax tree.

Other versions may differ elsewhere: importing this module (and so fastmd) raises
ImportError on them. tests/test_markdown_engines.py holds FastEngine to the reference's
output, so a difference missing from the list fails there.
"""

from __future__ import annotations

import re
import unicodedata

import markdown_it_pyrs

from .markdown import package_version

_REFERENCE_VERSION = package_version("markdown_it") or "?"
if not (markdown_it_pyrs.__version__.startswith("0.4.") and _REFERENCE_VERSION.startswith("4.")):
    # The pre-scan lists how these two versions differ; others may differ elsewhere.
    raise ImportError(
        f"FastEngine is checked against markdown-it-pyrs 0.4 and markdown-it-py 4, "
        f"not {markdown_it_pyrs.__version__} and {_REFERENCE_VERSION}"
    )

MAX_PREFIX = 15
"""Widest run of container markers (`>`, list markers, their indent) a line may start with.
Each nested quote or list item takes a column of it per nesting level the reference counts
(lists take two columns for two levels), which keeps documents under its cap of 20."""
MAX_BRACKETS = 10
"""Deepest nesting of [brackets] (links in images in links) sent to the Rust port."""

# -- the pre-scan -----------------------------------------------------------------------------------
# Patterns that start with "\n" run on "\n" + text: a literal first character is searched
# for quickly, where a multiline "^" is tried at every position.

_MARKER = r"(?:>|[-+*]|\d{1,9}[.)])"
_PREFIX = "[ \t>*+\\-\\d.)]"  # what container markers and their indent are made of
_TASK = re.compile(rf"\n{_PREFIX}*\[[ xX]\]")  # where a list item's text starts
# Comments (<!--more-->), declarations, CDATA, processing instructions: the Rust port has
# CommonMark 0.30's comments.
_DECLARATION = re.compile(r"<[!?]")
# Unicode whitespace that str.strip() and str.split() take and the Rust port keeps.
_ODD_SPACE = re.compile("[\x0b\x0c\x1c-\x1f\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]")
_ODD_ASCII_SPACE = "\x0b\x0c\x1c\x1d\x1e\x1f"
_PUNYCODE = re.compile(r"-(?<=[xX][nN]-)-")  # "xn--": the reference shows such hosts decoded
# A delimiter next to a non-ASCII character, whose category decides emphasis (0.31 counts
# symbols as punctuation, the Rust port does not).
_DELIMITER_NEIGHBOUR = re.compile(r"(?<=[*_~])[^\x00-\x7f]|[^\x00-\x7f](?=[*_~])")
# A non-ASCII link destination or autolink: the reference punycodes its host.
_URL_NON_ASCII = re.compile(r"\](?:\(|:)\s*(?:<[^>\n]*|\S*)[^\x00-\x7f]|<[A-Za-z][A-Za-z0-9.+-]{1,31}:[^\s<>]*[^\x00-\x7f]")
# The reference ends a quote's lazy paragraph at any list item; CommonMark (and the Rust
# port) only at one that may interrupt a paragraph, so not at "2." or an empty item.
_QUOTE_CHUNK = re.compile(rf"\n{_PREFIX}*>.*(?:\n[ \t]*\S.*)*")
_WEAK_ITEM = re.compile(r"\d{1,9}[.)](?:[ \t]|$)|[-+*][ \t]*$")
# The two start and end tables differently: only tables set off by blank lines, each row
# starting with "|", a letter or a number, are the same.
_DELIMITER_ROW = re.compile(r"[ \t|:]*-[ \t|:-]*")
_ANY_DELIMITER_ROW = re.compile(r"\n[ \t>|:]*-[ \t|:-]*(?=\n|$)")
_QUOTE_MARKERS = re.compile(r"^(?:[ ]{0,3}>[ ]?)+")
_TABLE_ROW = re.compile(r" {0,3}(?:\||[^\W\d]|\d+(?![\d.)]))")
# Tabs among container markers: the two expand them differently.
_TAB_IN_PREFIX = re.compile(rf"^[ \t]*{_MARKER}{_PREFIX}*\t|^ *\t[ \t]*{_MARKER}", re.M)
_LONG_PREFIX = re.compile(rf"\n{_PREFIX}{{{MAX_PREFIX + 1}}}")
_CONTAINERS = re.compile(r"^(?:[ \t]*(?:>|[-+*](?=[ \t]|$)|\d{1,9}[.)](?=[ \t]|$)))+", re.M)
# markdown-it 0.6 panics on a backtick run scanned twice after one failed to close ("[`x"):
# every run must close on its line (in its table cell), as code spans pair up.
_TICKS = re.compile(r"`+")
_TICK_IN_ANGLES = re.compile(r"<[^<>\n]*`[^<>\n]*>")  # an autolink can hide a backtick
# Up to three spaces after the markers: four could be a lazy line's code span.
_FENCE_LINE = re.compile(r"(?:[ \t>*+\-\d.)]*[>*+\-.)])?[ ]{0,3}`{3}")
_IMAGE = re.compile(r"!\[")
_ESCAPE = re.compile(r"\\.", re.S)
_INNERMOST = re.compile(r"\[[^\[\]]*\]")
# <destination>: the reference trims spaces at its ends (mdurl), the Rust port encodes them.
_ANGLE_DESTINATION = re.compile(r"\](?:\(|:)\s*<((?:[^<>\n\\]|\\.)*)>")
# An inline link's "(destination 'title')" on one line, with no backslash and parentheses
# nested once at most: the reference reads others differently (a title's indent on the next
# line; a failed one followed by "[label]" becomes a reference link).
_LINK_START = re.compile(r"\]\(")
_LINK_TAIL = re.compile(
    r"""\]\([ \t]*(?:<([^<>\n\\]*)>|([^\s()<>\\]*(?:\([^\s()\\]*\)[^\s()\\]*)*))"""
    r"""(?:[ \t]+(?:"[^"\n\\]*"|'[^'\n\\]*'|\([^()\n\\]*\)))?[ \t]*\)"""
)
# Link reference definitions: one line each with no backslash, not in a list or quote (the
# two end a title over several lines at different lines, strip a container's indent
# differently, and disagree on a destination ending in "\\").
_DEFINITION = re.compile(r"\]:")
_DEFINITION_LINE = re.compile(r"^.*\]:.*$", re.M)
_SIMPLE_DEFINITION = re.compile(
    r" {0,3}\[[^\[\]\\\n]+\]:[ \t]*(?:<([^<>\n\\]*)>|([^\s<\\][^\s\\]*))"
    r"""(?:[ \t]+(?:"[^"\n\\]*"|'[^'\n\\]*'|\([^()\n\\]*\)))?[ \t]*$"""
)
# A URL whose host the reference's mdurl would rewrite ("foo:@x", "[::1]", "(x"): a scheme
# (or "//") and then anything but "user@host:port" made of plain characters. Autolinks
# also show the URL, which the reference percent-decodes: no "%" there.
_URL_SCHEME = re.compile(r"[A-Za-z0-9.+-]+:")
_PLAIN_AUTHORITY = re.compile(r"(?:[A-Za-z0-9._+-]+(?::[A-Za-z0-9._+-]*)?@)?[A-Za-z0-9._-]*(?::\d*)?")
_AUTHORITY_END = re.compile(r"[/?#]")
_PLAIN_HTTP = re.compile(r"https?://[A-Za-z0-9._-]*(?:[/?#]|\Z)")
_AUTOLINK = re.compile(r"<([A-Za-z0-9.+-]{2,32}:[^\s<>]*|[^\s<>@]+@[^\s<>]+)>")
_PLAIN_EMAIL = re.compile(r"[A-Za-z0-9._+-]+@[A-Za-z0-9.-]+")
_NESTED_DEFINITION = re.compile(rf"^{_PREFIX}+\[(?:[^\]\\]|\\.)*\]:", re.M)
# A fence in a container: right after a tight list item's text, the reference writes no
# line break before it (the parse tree says).
_NESTED_FENCE = re.compile(rf"\n{_PREFIX}+(?:```|~~~)")
# Could open a tag (an autolink cannot): the parse tree says whether it is raw HTML.
_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9-]*(?![A-Za-z0-9-]|:)")
_HTML_NODES = frozenset(("html_block", "html_inline"))
_BLOCK_NODES = frozenset((
    "paragraph", "heading", "bullet_list", "ordered_list", "list_item", "blockquote",
    "fence", "code_block", "hr", "table", "html_block", "definition", "lheading",
))


def fallback_reason(text: str, parser: markdown_it_pyrs.MarkdownIt) -> str | None:
    """Given a body with "\\n" line ends, return why the Rust port may render it
    differently from the reference engine, or None when it renders it the same. `parser`
    is the Rust port as FastEngine sets it up, for the checks that need its syntax tree."""
    # Each check first looks for a character it needs: a one-character search is fast.
    lined = "\n" + text
    if "^" in text and ("[^" in text or "^[" in text):
        return "footnotes"
    if "[" in text and _TASK.search(lined):
        return "a task list"
    if "<" in text and _DECLARATION.search(text):
        return "an HTML comment or declaration"
    if any(c in text for c in _ODD_ASCII_SPACE) or (not text.isascii() and _ODD_SPACE.search(text)):
        return "Unicode whitespace"
    if "-" in text and _PUNYCODE.search(text):
        return "a punycode host name"
    if not text.isascii():
        if any(unicodedata.category(c)[0] not in "LN" for c in _DELIMITER_NEIGHBOUR.findall(text)):
            return "Unicode punctuation or a symbol next to *, _ or ~"
        if _URL_NON_ASCII.search(text):
            return "a non-ASCII link destination"
    if not text.endswith("\n") and ("```" in text or "~~~" in text):
        return "a code fence at the end without a newline"
    if "\t" in text and _TAB_IN_PREFIX.search(text):
        return "a tab among list or quote markers"
    if _LONG_PREFIX.search(lined) and any(len(m) + 3 * m.count("\t") > MAX_PREFIX for m in _CONTAINERS.findall(text)):
        return f"blocks nested deeper than {MAX_PREFIX} columns"
    if text.count("[") > MAX_BRACKETS and _brackets_deeper_than(text, MAX_BRACKETS):
        return f"brackets nested deeper than {MAX_BRACKETS}"
    if ">" in text and _weak_item_after_quote(lined):
        return "a list item that may end a quote"
    if "-" in text and _ANY_DELIMITER_ROW.search(lined) and _loose_table(text):
        return "a table not set off by blank lines"
    if "`" in text and _unclosed_backticks(text):
        return "a code span left open or over several lines"
    if "!" in text and _IMAGE.search(text) and _alt_text_breaks(text):
        return "an image description with an escape, entity, autolink or line break"
    if "<" in text and any(d != d.strip() for d in _ANGLE_DESTINATION.findall(text)):
        return "a <link destination> with spaces at an end"
    for start in _LINK_START.finditer(text):
        link = _LINK_TAIL.match(text, start.start())
        if not link:
            return "a link destination or title that is not simple"
        if _rewritten_host(link.group(1) or link.group(2) or ""):
            return "a link host the reference rewrites"
    if "<" in text and any(_odd_autolink(url) for url in _AUTOLINK.findall(text)):
        return "an autolink the reference rewrites"
    if _DEFINITION.search(text) and (_NESTED_DEFINITION.search(text) or _unusual_definition(text)):
        return "a link reference definition in a list or quote, or over several lines"
    nested_fence = ("`" in text or "~" in text) and _NESTED_FENCE.search(lined)
    if nested_fence or ("<" in text and _TAG.search(text)):  # both rare: worth a parse
        for node in parser.tree(text).walk():
            if node.name in _HTML_NODES:
                return "raw HTML"
            if nested_fence and node.name == "list_item" and _text_then_code(node):
                return "a code block right after a list item's text"
    return None


# -- pre-scan helpers --------------------------------------------------------------------------------


def _brackets_deeper_than(text: str, limit: int) -> bool:
    """Whether [brackets] nest deeper than `limit`: strip innermost pairs `limit` times."""
    text = _ESCAPE.sub("", text)
    for _ in range(limit):
        text, n = _INNERMOST.subn("", text)
        if not n:
            return False
    return _INNERMOST.search(text) is not None


def _weak_item_after_quote(lined: str) -> bool:
    """Whether a list item that cannot interrupt a paragraph comes after a quote's line,
    with no blank line between (the reference ends the quote, the Rust port goes on)."""
    for chunk in _QUOTE_CHUNK.findall(lined):
        if any(_WEAK_ITEM.match(line.lstrip(" \t>")) for line in chunk.split("\n")[2:]):
            return True
    return False


def _loose_table(text: str) -> bool:
    """Whether a table may start or end where the two disagree (the Rust port takes
    "a\\n--:" for one): a delimiter row under a line needs a "|", and so does its header,
    with a blank line (or nothing) above, and rows that start with "|", a letter or a
    number down to a blank line (inside any quote markers)."""
    lines = text.split("\n")
    for i, line in enumerate(lines):
        if "-" not in line or i == 0:
            continue
        line = _unquote(line)
        header = _unquote(lines[i - 1])
        if not header.strip() or not _DELIMITER_ROW.fullmatch(line):
            continue
        if "|" not in header and "|" not in line and ":" not in line:
            continue  # a setext underline or a rule
        if "|" not in line or "|" not in header or not _TABLE_ROW.match(header) or (i > 1 and _unquote(lines[i - 2]).strip()):
            return True
        for row in lines[i + 1 :]:
            row = _unquote(row)
            if not row.strip():
                break
            if "|" not in row or not _TABLE_ROW.match(row):
                return True
    return False


def _unquote(line: str) -> str:
    return _QUOTE_MARKERS.sub("", line, 1) if ">" in line else line


def _unclosed_backticks(text: str) -> bool:
    """Whether a code span may be left open: a line (or table cell) whose backtick runs do
    not pair up, an escaped backtick, or one inside <...>. Fence lines do not count."""
    if "\\`" in text or _TICK_IN_ANGLES.search(text):
        return True
    tick = text.find("`")
    while tick != -1:
        end = text.find("\n", tick)
        end = len(text) if end == -1 else end
        line = text[text.rfind("\n", 0, tick) + 1 : end]
        tick = text.find("`", end)
        if "``" not in line and "|" not in line:  # the common case: single backticks pair up
            if line.count("`") % 2:
                return True
            continue
        fence = _FENCE_LINE.match(line)
        if fence:
            line = line[fence.end() :].lstrip("`")
        for cell in line.split("|"):
            open_len = 0
            for run in _TICKS.findall(cell):
                if not open_len:
                    open_len = len(run)
                elif len(run) == open_len:
                    open_len = 0
            if open_len:
                return True
    return False


def _alt_text_breaks(text: str) -> bool:
    """Whether an image's description (up to its closing bracket) holds what the Rust port
    leaves out of alt="": a backslash escape, an entity, an autolink, a hard break."""
    start = text.find("![")
    while start != -1:
        depth, end = 0, start + 1
        while end < len(text):
            char = text[end]
            if char == "[":
                depth += 1
            elif char == "]":
                depth -= 1
                if not depth:
                    break
            elif char in "\\&<" or (char == "\n" and text[end - 2 : end].isspace()):
                return True
            end += 1
        start = text.find("![", end)
    return False


def _unusual_definition(text: str) -> bool:
    """Whether a line with "]:" may belong to a link reference definition that is more
    than one simple line ("[label]: destination 'title'", no title on the next line)."""
    for found in _DEFINITION_LINE.finditer(text):
        line = found.group()
        definition = _SIMPLE_DEFINITION.match(line)
        if definition and _rewritten_host(definition.group(1) or definition.group(2) or ""):
            return True
        if not definition:
            above = text[text.rfind("\n", 0, max(found.start() - 1, 0)) + 1 : found.start()]
            if line.lstrip().startswith("[") or "[" in above:
                return True
        if text[found.end() + 1 : found.end() + 80].lstrip(" \t")[:1] in ('"', "'", "("):
            return True
    return False


def _rewritten_host(url: str) -> bool:
    """Whether the reference's mdurl may rewrite a link's URL: one with a scheme (or "//")
    whose user, host and port are not plain."""
    if _PLAIN_HTTP.match(url):
        return False  # the common case, said quickly: http(s)://host and then a path or nothing
    scheme = _URL_SCHEME.match(url)
    rest = url[scheme.end() :] if scheme else url
    if not scheme and not rest.startswith("//"):
        return False  # a path: no host to parse
    rest = rest[2:] if rest.startswith("//") else rest
    return not _PLAIN_AUTHORITY.fullmatch(_AUTHORITY_END.split(rest, 1)[0])


def _odd_autolink(url: str) -> bool:
    if "%" in url:
        return True
    if ":" not in url:  # an e-mail address
        return not _PLAIN_EMAIL.fullmatch(url)
    return _rewritten_host(url)


def _text_then_code(item: markdown_it_pyrs.Node) -> bool:
    """Whether a list item's text (a tight list's paragraph, which the tree leaves out) is
    followed by a fenced or indented code block."""
    names = [child.name for child in item.children]
    return any(name in ("fence", "code_block") and i and names[i - 1] not in _BLOCK_NODES for i, name in enumerate(names))
