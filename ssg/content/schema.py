"""A collection's `_collection.yaml`: which route renders its entries, and its fields' types.

    # content/blog/_collection.yaml
    route: /blog/[slug]            # the page for one entry: entry.url and links to .md files
    unknown: error                 # a field not listed below fails ("allow" is the default)
    fields:
      title: {type: str, required: true}
      date: {type: date, required: true}
      tags: {type: "list[str]", default: []}
      draft: {type: bool, default: false}
      summary: str                 # shorthand for {type: str}
      level: {type: str, choices: [beginner, expert]}

Pure: `parse()` takes the file's text. `check()` gives an entry's front matter its
defaults and converts ISO date strings, or fails naming the Markdown file, its line and
the field. Three fields are checked in every collection, schema or not: `date` (a date),
`draft` (true/false) and `tags` (a list of strings), because ssg itself sorts, filters
and groups by them.
"""

from __future__ import annotations

import copy
import datetime
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .errors import ContentError
from .frontmatter import Lines, load

_MISSING = object()


def _describe(value: Any) -> str:
    kinds = {bool: "true/false", int: "number", float: "number", str: "string", list: "list", dict: "mapping",
             datetime.date: "date", datetime.datetime: "date and time", type(None): "empty value"}
    shown = repr(value) if not isinstance(value, (list, dict)) else ""
    return f"the {kinds.get(type(value), type(value).__name__)} {shown}".rstrip()


def _to_date(value: Any) -> Any:
    if isinstance(value, datetime.date):
        return value
    if isinstance(value, str):
        for parse in (datetime.date.fromisoformat, datetime.datetime.fromisoformat):
            try:
                return parse(value.strip())
            except ValueError:
                continue
    return _MISSING


def _to_datetime(value: Any) -> Any:
    value = _to_date(value)
    if value is not _MISSING and not isinstance(value, datetime.datetime):
        return datetime.datetime(value.year, value.month, value.day)
    return value


# name -> (converter returning the value or _MISSING, what it expects)
_SCALARS: dict[str, tuple[Callable[[Any], Any], str]] = {
    "str": (lambda v: v if isinstance(v, str) else _MISSING, "a string"),
    "int": (lambda v: v if isinstance(v, int) and not isinstance(v, bool) else _MISSING, "a whole number"),
    "float": (lambda v: v if isinstance(v, (int, float)) and not isinstance(v, bool) else _MISSING, "a number"),
    "bool": (lambda v: v if isinstance(v, bool) else _MISSING, "true or false"),
    "date": (_to_date, "a date like 2024-05-01"),
    "datetime": (_to_datetime, "a date and time like 2024-05-01T09:30:00"),
    "list": (lambda v: v if isinstance(v, list) else _MISSING, "a list"),
    "dict": (lambda v: v if isinstance(v, dict) else _MISSING, "a mapping (key: value lines)"),
    "any": (lambda v: v, "anything"),
}
_PLURAL = {"str": "strings", "int": "whole numbers", "float": "numbers", "bool": "true/false values",
           "date": "dates", "datetime": "dates and times"}
TYPES = tuple(sorted([*_SCALARS, *(f"list[{t}]" for t in ("str", "int", "float", "bool", "date", "datetime"))]))


@dataclass(frozen=True)
class Field:
    name: str
    type: str = "any"
    required: bool = False
    default: Any = _MISSING
    choices: tuple[Any, ...] | None = None
    line: int | None = None


@dataclass(frozen=True)
class Schema:
    """A parsed `_collection.yaml` (an empty one when the collection has none)."""

    file: str | None = None
    route: str | None = None
    route_line: int | None = None
    fields: dict[str, Field] = field(default_factory=dict)
    unknown: str = "allow"


NO_SCHEMA = Schema()

_KEYS = ("fields", "route", "unknown")
_FIELD_KEYS = ("choices", "default", "required", "type")


def parse(text: str, file: str) -> Schema:
    """Given the text of a `_collection.yaml`, return its Schema or fail naming file and line."""
    raw, lines = load(text, file, first_line=1, what=file.rsplit("/", 1)[-1])
    if raw is None:
        return Schema(file=file)
    if not isinstance(raw, dict):
        raise ContentError(file, 1, "must be a mapping with route:, fields: and unknown:")
    for key in raw:
        if key not in _KEYS:
            raise ContentError(file, lines.get((key,)), f"unknown key {key!r}{did_you_mean(key, _KEYS)}")
    route = raw.get("route")
    if route is not None and (not isinstance(route, str) or not route.startswith("/")):
        raise ContentError(file, lines.get(("route",)), f"route must be a route id like /blog/[slug], not {route!r}")
    unknown = raw.get("unknown", "allow")
    if unknown not in ("allow", "error"):
        raise ContentError(file, lines.get(("unknown",)), f'unknown must be "allow" or "error", not {unknown!r}')
    specs = raw.get("fields") or {}
    if not isinstance(specs, dict):
        raise ContentError(file, lines.get(("fields",)), "fields must be a mapping of field names to types")
    fields = {name: _field(name, spec, file, lines) for name, spec in specs.items()}
    return Schema(file, route, lines.get(("route",)), fields, unknown)


def _field(name: str, spec: Any, file: str, lines: Lines) -> Field:
    line = lines.get(("fields", name))
    if isinstance(spec, str):
        spec = {"type": spec}
    if not isinstance(spec, dict):
        raise ContentError(file, line, f"field {name!r}: write a type (title: str) or a mapping ({{type: str, required: true}})")
    for key in spec:
        if key not in _FIELD_KEYS:
            raise ContentError(file, line, f"field {name!r}: unknown key {key!r}{did_you_mean(key, _FIELD_KEYS)}")
    type_ = spec.get("type", "any")
    if type_ not in TYPES:
        raise ContentError(file, line, f"field {name!r}: unknown type {type_!r}{did_you_mean(str(type_), TYPES)}; types are {', '.join(TYPES)}")
    allowed = _BUILTIN_TYPES.get(name)
    if allowed is not None and type_ not in allowed:
        raise ContentError(file, line, f"field {name!r} has a fixed meaning in ssg (it sorts, filters and groups entries); "
                                       f"its type must be {' or '.join(allowed)}, not {type_!r}")
    required = spec.get("required", False)
    if not isinstance(required, bool):
        raise ContentError(file, line, f"field {name!r}: required must be true or false")
    choices = spec.get("choices")
    if choices is not None and not isinstance(choices, list):
        raise ContentError(file, line, f"field {name!r}: choices must be a list")
    result = Field(name, type_, required, spec.get("default", _MISSING), tuple(choices) if choices is not None else None, line)
    if result.default is not _MISSING and result.default is not None:
        try:
            _convert(result, result.default, file, line, "default")
        except ContentError as exc:
            raise ContentError(file, line, f"field {name!r}: the default does not fit: {exc.problem}") from None
    return result


def did_you_mean(word: str, choices: tuple[str, ...]) -> str:
    import difflib  # only for a message: not on every build's path

    close = difflib.get_close_matches(word, choices, n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _convert(f: Field, value: Any, file: str, line: int | None, where: str,
             item_line: Callable[[int], int | None] | None = None) -> Any:
    """Given a field and a value, return the value converted (ISO strings to dates) or fail."""
    if f.type.startswith("list["):
        inner = Field(f.name, f.type[5:-1])
        if not isinstance(value, list):
            raise ContentError(file, line, f"{where} must be a list of {_PLURAL[inner.type]}, not {_describe(value)}")
        return [
            _convert(inner, item, file, item_line(i) if item_line else line, f"{where}[{i}]")
            for i, item in enumerate(value)
        ]
    convert, expected = _SCALARS[f.type]
    converted = convert(value)
    if converted is _MISSING:
        hint = "; quote it" if f.type == "str" and isinstance(value, (int, float, bool, datetime.date)) else ""
        raise ContentError(file, line, f"{where} must be {expected}, not {_describe(value)}{hint}")
    if f.choices is not None and converted not in f.choices:
        raise ContentError(file, line, f"{where} must be one of {', '.join(map(repr, f.choices))}, not {value!r}")
    return converted


_BUILTIN_TYPES = {"date": ("date", "datetime"), "draft": ("bool",), "tags": ("list[str]",)}
_BUILTIN = {
    "date": Field("date", "date"),
    "draft": Field("draft", "bool"),
    "tags": Field("tags", "list[str]"),
}


def check(schema: Schema, data: dict[str, Any], lines: Mapping[tuple[Any, ...], int], file: str) -> dict[str, Any]:
    """Given an entry's front matter and its lines (frontmatter.Lines, or any mapping: it is
    read only for a message or a conversion), return the front matter checked against the
    schema: defaults filled in, ISO date strings made dates. A problem fails naming the file,
    the line and the field."""
    out = dict(data)
    for name, f in schema.fields.items():
        value = out.get(name)
        if value is None:  # absent, or `name:` left empty
            if f.required:
                raise ContentError(
                    file, lines.get((name,), 1), f"missing required field {name!r}",
                    hint=f"Add `{name}: ...` to the front matter (declared in {schema.file}).",
                )
            if f.default is not _MISSING:
                out[name] = _fresh(f.default)
            continue
        if f.choices is None and type(value) in _KEPT.get(f.type, ()):
            continue  # what _convert returns as it is (see _checked)
        out[name] = _checked(f, value, lines, file)
    if schema.unknown == "error":
        for name in out:
            if name not in schema.fields:
                raise ContentError(
                    file, lines.get((name,)), f"unknown field {name!r}{did_you_mean(name, tuple(schema.fields))}",
                    hint=f"{schema.file} lists the fields this collection takes (unknown: error).",
                )
    for name, f in _BUILTIN.items():
        value = out.get(name)
        if value is not None and name not in schema.fields:
            out[name] = _checked(f, value, lines, file)
    return out


# For each type, the kinds of value _convert returns as they are (a YAML date is a date
# already): a type check says so without looking up lines or building a message.
_KEPT: dict[str, tuple[type, ...]] = {
    "str": (str,), "int": (int,), "float": (int, float), "bool": (bool,),
    "date": (datetime.date, datetime.datetime), "datetime": (datetime.datetime,),
    "list": (list,), "dict": (dict,),
}
_KEPT_ITEMS = {f"list[{name}]": _KEPT[name] for name in _PLURAL}  # the same for list[...] types
_ATOMIC = (str, int, float, bool)  # what deepcopy returns as it is


def _checked(f: Field, value: Any, lines: Mapping[tuple[Any, ...], int], file: str) -> Any:
    """Given a field and the entry's (non-empty) value for it, return what _convert returns,
    or fail as it does. Values that already fit are kept (a list is copied, as _convert does)."""
    if f.choices is None:
        if f.type == "any" or type(value) in _KEPT.get(f.type, ()):
            return value
        items = _KEPT_ITEMS.get(f.type)
        if items is not None and type(value) is list:
            for item in value:  # a loop, not all(): lists here are short, a generator costs more
                if type(item) not in items:
                    break
            else:
                return list(value)
    name = f.name
    return _convert(f, value, file, lines.get((name,)), f"field {name!r}", _items(lines, name))


def _fresh(default: Any) -> Any:
    """A field's default for one entry: a deep copy (entries must not share a list), which
    for a string, number or true/false is the value itself."""
    kind = type(default)
    if kind in _ATOMIC:
        return default
    if kind is list and not default:
        return []
    return copy.deepcopy(default)


def _items(lines: Mapping[tuple[Any, ...], int], name: str) -> Callable[[int], int | None]:
    return lambda i: lines.get((name, i)) or lines.get((name,))
