"""Front matter: bytes -> text -> (YAML mapping, Markdown body), with every error on the file's own line.

Pure: takes text and a file name for messages, touches no disk.

YAML is loaded with PyYAML's C loader when libyaml is present (about 10x faster), and
always safely: plain data only, no Python tags. Before anything is built, the node graph
is checked so that hostile input fails fast with a line number instead of eating memory
or the C stack: nesting deeper than MAX_DEPTH, aliases that would expand past
MAX_VALUES values ("billion laughs"), recursive aliases, duplicate keys.
"""

from __future__ import annotations

import codecs
import re
from typing import Any

import yaml

from .errors import ContentError

Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

MAX_DEPTH = 64
"""Deepest nesting of lists and mappings a front matter block may have."""
MAX_VALUES = 100_000
"""Most values a YAML document may expand to once its aliases are followed."""

_CLOSE = re.compile(r"^(?:---|\.\.\.)[ \t]*$", re.M)
_STR = "tag:yaml.org,2002:str"
_MERGE = "tag:yaml.org,2002:merge"
_TIMESTAMP = "tag:yaml.org,2002:timestamp"
# Python objects run code; binary values cannot become JSON.
_UNSAFE_TAGS = ("tag:yaml.org,2002:python/", "!python", "!!python", "tag:yaml.org,2002:binary")
# Each level of nesting needs one of these characters, so their count bounds the depth.
_NESTERS = "[{-:?"

Lines = dict[tuple[Any, ...], int]
"""Where things are: ("title",) -> 3, ("tags", 1) -> 6 (1-based lines of the file)."""


def decode(raw: bytes, file: str) -> str:
    """Given a file's bytes, return its text: UTF-8, BOM dropped, newlines as "\\n".

    >>> decode(b"\\xef\\xbb\\xbf---\\r\\ntitle: x\\r\\n---\\r\\n", "a.md")
    '---\\ntitle: x\\n---\\n'
    """
    if raw.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        raise ContentError(file, None, "is UTF-32 text; ssg reads content as UTF-8", hint="Save the file as UTF-8.")
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or _looks_utf16(raw):
        raise ContentError(file, None, "is UTF-16 text; ssg reads content as UTF-8", hint="Save the file as UTF-8.")
    nul = raw.find(b"\x00")
    if nul != -1:
        line = raw.count(b"\n", 0, nul) + 1
        raise ContentError(file, line, "is a binary file (it holds a NUL byte), not Markdown text")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise ContentError(
            file, line, f"is not valid UTF-8 (byte 0x{raw[exc.start]:02x})", hint="Save the file as UTF-8."
        ) from None
    if text.startswith("\ufeff"):
        text = text[1:]
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text


def _looks_utf16(raw: bytes) -> bool:
    # UTF-16 without a BOM: ASCII text with a NUL beside every character.
    head = raw[:64]
    return len(head) >= 4 and (head[1::2].count(0) > len(head) // 4 or head[0::2].count(0) > len(head) // 4)


def split(text: str, file: str) -> tuple[str | None, str, int]:
    """Given a file's text, return (YAML text or None, Markdown body, line the body starts on).

    Front matter is a first line of exactly `---`, then YAML, then a line of `---` (or
    `...`). Anything else on the first line means the file has no front matter.

    >>> split("---\\ntitle: Hi\\n---\\nBody\\n", "a.md")
    ('title: Hi\\n', 'Body\\n', 4)
    """
    if not text.startswith("---"):
        return None, text, 1
    end_first = text.find("\n")
    first = text if end_first == -1 else text[:end_first]
    if first.rstrip(" \t") != "---":
        return None, text, 1  # "----" is a thematic break, "--- x" is text
    close = _CLOSE.search(text, end_first + 1) if end_first != -1 else None
    if close is None:
        raise ContentError(
            file, 1, "front matter opened with --- on line 1 is never closed",
            hint="End the front matter with a line of just ---, or remove the first line if the file has none.",
        )
    body_start = close.end() + 1 if close.end() < len(text) else close.end()
    return text[end_first + 1 : close.start()], text[body_start:], text.count("\n", 0, body_start) + 1


def load(text: str, file: str, *, first_line: int = 1, what: str = "front matter") -> tuple[Any, Lines]:
    """Given YAML text starting on line `first_line` of `file`, return (data, lines).

    `lines` maps key paths up to three levels deep to their 1-based line in the file, for
    messages about a field. Fails with ContentError naming the file and line.
    """
    offset = first_line  # YAML marks count lines from 0
    if not text.strip():
        return None, {}
    if sum(text.count(c) for c in _NESTERS) > MAX_DEPTH:
        _check_depth(text, file, offset)
    loader = Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, {}
        lines = _check(node, file, offset, aliases="*" in text and "&" in text)
        try:
            data = loader.construct_document(node)
        except (ValueError, TypeError, OverflowError) as exc:  # e.g. !!int "x"
            raise ContentError(file, offset + node.start_mark.line, f"invalid value in {what}: {exc}") from None
    except yaml.MarkedYAMLError as exc:
        mark, context = exc.problem_mark, exc.context_mark
        if context is not None and (mark is None or mark.line >= text.count("\n")):
            mark = context  # noticed only at the end of the block: point at what was left open
        line = offset + min(mark.line, _last_line(text)) if mark else first_line
        problem = exc.problem or exc.context or "invalid YAML"
        column = f" (column {mark.column + 1})" if mark and mark is not context else ""
        opened = f", {exc.context} that starts on line {offset + min(context.line, _last_line(text))}" if exc.context and context else ""
        raise ContentError(file, line, f"invalid YAML in {what}: {problem}{column}{opened}") from None
    except yaml.YAMLError as exc:
        raise ContentError(file, first_line, f"invalid YAML in {what}: {exc}") from None
    except RecursionError:
        raise ContentError(file, first_line, f"{what} is nested too deeply") from None
    finally:
        loader.dispose()
    return data, lines


def parse(text: str, file: str) -> tuple[dict[str, Any], Lines, str, int]:
    """Given a Markdown file's text, return (front matter mapping, lines, body, body line)."""
    yaml_text, body, body_line = split(text, file)
    if yaml_text is None:
        return {}, {}, body, body_line
    data, lines = load(yaml_text, file, first_line=2)
    if data is None:
        return {}, {}, body, body_line
    if not isinstance(data, dict):
        raise ContentError(
            file, 2, f"front matter must be a mapping of keys to values (title: ...), not a {_kind(data)}",
            hint="Write one `key: value` per line between the --- lines.",
        )
    return data, lines, body, body_line


def _last_line(text: str) -> int:
    """The 0-based index of the last line with something on it: an error the parser finds
    only at the end of the block belongs to the last line the writer wrote."""
    lines = text.split("\n")
    return next((i for i in range(len(lines) - 1, -1, -1) if lines[i].strip()), 0)


def _kind(value: Any) -> str:
    return {list: "list", str: "string", int: "number", float: "number", bool: "boolean"}.get(type(value), type(value).__name__)


def _check_depth(text: str, file: str, offset: int) -> None:
    """Walk the parser's events (a loop in libyaml, no recursion) and refuse deep nesting
    before the composer, which recurses in C and would crash on it."""
    depth = 0
    try:
        for event in yaml.parse(text, Loader=Loader):
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > MAX_DEPTH:
                    raise ContentError(file, offset + event.start_mark.line, f"YAML is nested more than {MAX_DEPTH} levels deep")
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
    except yaml.MarkedYAMLError as exc:
        # libyaml 0.2.6+ has a nesting limit of its own in the scanner; say it our way.
        if "nesting depth" in (exc.problem or "") and exc.problem_mark is not None:
            raise ContentError(file, offset + exc.problem_mark.line, f"YAML is nested more than {MAX_DEPTH} levels deep") from None
        return  # the loader reports it with its line
    except yaml.YAMLError:
        return  # the loader reports it with its line


def _check(root: yaml.Node, file: str, offset: int, aliases: bool) -> Lines:
    """Given the composed YAML graph, refuse what safe loading still lets through and return
    the lines of keys and items. Iterative: deep input must not hit Python's recursion limit."""
    if aliases:
        _measure(root, file, offset)
    lines: Lines = {}
    seen_nodes: set[int] = set()  # with aliases a node is reached more than once: check it once
    stack: list[tuple[yaml.Node, tuple[Any, ...]]] = [(root, ())]
    while stack:
        node, path = stack.pop()
        if aliases:
            if id(node) in seen_nodes:
                continue
            seen_nodes.add(id(node))
        if len(path) > MAX_DEPTH:
            raise ContentError(file, offset + node.start_mark.line, f"YAML is nested more than {MAX_DEPTH} levels deep")
        tag = node.tag
        if tag.startswith(_UNSAFE_TAGS):
            shown = tag.replace("tag:yaml.org,2002:", "!!")
            raise ContentError(
                file, offset + node.start_mark.line, f"the YAML tag {shown} is not allowed",
                hint="Front matter is plain data (YAML is loaded safely); remove the tag.",
            )
        if isinstance(node, yaml.MappingNode):
            keys: set[tuple[str, str]] = set()
            shallow = len(path) < 3
            for k, v in node.value:
                scalar = isinstance(k, yaml.ScalarNode)
                if not path and (not scalar or k.tag not in (_STR, _MERGE)):
                    raise ContentError(
                        file, offset + k.start_mark.line,
                        f"front matter keys must be strings; quote the key {k.value!r}" if scalar
                        else "front matter keys must be strings, not lists or mappings",
                    )
                name: Any = k.value if scalar else None
                if scalar and name != "<<":
                    if (k.tag, name) in keys:
                        raise ContentError(file, offset + k.start_mark.line, f"duplicate key {name!r}")
                    keys.add((k.tag, name))
                    if shallow:
                        lines.setdefault(path + (name,), offset + k.start_mark.line)
                if not scalar:
                    stack.append((k, path + ("?",)))
                stack.append((v, path + (name,)))
        elif isinstance(node, yaml.SequenceNode):
            shallow = len(path) < 3
            for i, item in enumerate(node.value):
                if shallow:
                    lines.setdefault(path + (i,), offset + item.start_mark.line)
                stack.append((item, path + (i,)))
        elif tag == _TIMESTAMP:
            try:
                yaml.constructor.SafeConstructor.construct_yaml_timestamp(_TIMESTAMPS, node)
            except (ValueError, OverflowError) as exc:
                raise ContentError(file, offset + node.start_mark.line, f"{node.value!r} is not a valid date: {exc}") from None
    return lines


def _measure(root: yaml.Node, file: str, offset: int) -> None:
    """Count the values the document expands to with its aliases followed, without expanding
    them (each node is sized once), and refuse cycles. Only run when the text has aliases."""
    sizes: dict[int, int] = {}  # id(node) -> values it expands to
    open_: set[int] = set()  # nodes on the current path: meeting one again is a cycle
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        if done:
            open_.discard(key)
            size = 1 + sum(sizes[id(child)] for child in _children(node))
            if size > MAX_VALUES:
                raise ContentError(
                    file, offset + node.start_mark.line,
                    f"YAML aliases expand to more than {MAX_VALUES:,} values (an alias bomb?)",
                )
            sizes[key] = size
            continue
        if key in sizes:
            continue  # an alias of a node already measured
        if key in open_:
            raise ContentError(file, offset + node.start_mark.line, "YAML alias refers to itself (a recursive structure)")
        if len(open_) > MAX_DEPTH:
            raise ContentError(file, offset + node.start_mark.line, f"YAML is nested more than {MAX_DEPTH} levels deep")
        open_.add(key)
        stack.append((node, True))
        stack.extend((child, False) for child in _children(node))


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    if isinstance(node, yaml.SequenceNode):
        return node.value
    return []


_TIMESTAMPS = yaml.constructor.SafeConstructor()  # only to check timestamps, never to build data
