"""`entries()`: the parameter sets a dynamic route declares, checked so no file lands outside the build."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .manifest import Route
from .route_ids import Param


class EntryError(ValueError):
    """An entries() item that cannot become a path; the message names the param and why."""


@dataclass(frozen=True)
class Entry:
    path: str
    params: dict[str, str]
    props: Any = None


def check_value(param: Param, value: Any) -> None:
    """Given a param and a value for it, raise EntryError unless the value is a safe segment."""
    if not isinstance(value, str):
        raise EntryError(f"param {param.name!r} must be a str, not {type(value).__name__} {value!r}")
    if "\x00" in value or "\\" in value:
        raise EntryError(f"param {param.name!r} = {value!r} contains {'NUL' if chr(0) in value else 'a backslash'}")
    if param.rest:
        if value == "":
            return
        segments = value.split("/")
    else:
        if "/" in value:
            raise EntryError(f"param {param.name!r} = {value!r} contains '/'; only a [...{param.name}] param may span segments")
        segments = [value]
    for segment in segments:
        if segment == "":
            raise EntryError(f"param {param.name!r} = {value!r} has an empty segment")
        if segment in (".", ".."):
            raise EntryError(f"param {param.name!r} = {value!r} has a {segment!r} segment")


def to_entry(route: Route, item: Any) -> Entry:
    """Given one entries() item (a params dict or a (params, props) pair), return its Entry."""
    props = None
    if isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], Mapping):
        item, props = item
    if not isinstance(item, Mapping):
        raise EntryError(f"must be a params dict or a (params, props) pair, not {type(item).__name__}")
    params = dict(item)
    known = {p.name: p for p in route.rid.params}
    unknown = sorted(set(params) - set(known))
    if unknown:
        raise EntryError(f"has param(s) {', '.join(unknown)} that {route.id} does not have")
    for name, param in known.items():
        if name not in params:
            if param.optional:
                continue
            if param.rest:
                params[name] = ""
                continue
            raise EntryError(f"lacks param {name!r}")
        check_value(param, params[name])
        if params[name] == "" and param.optional:
            del params[name]  # an empty optional is an absent one
    return Entry(route.rid.path_for(params), params, props)
