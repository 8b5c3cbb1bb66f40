"""Load data -> JSON, with ssg's extra types and errors that name the key path."""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import json
import math
from typing import Any

import orjson

from .errors import SerializationError


def to_jsonable(value: Any, path: str = "data") -> Any:
    """Given load data, return plain JSON values, or raise naming the key path.

    >>> to_jsonable({"when": datetime.date(2024, 1, 2), "tags": {"b", "a"}})
    {'when': '2024-01-02', 'tags': ['a', 'b']}
    """
    return _jsonable(value, path)


# Where a value sits: the root's name, or (where its container sits, its key or index).
# Spelled out as text (`data.post.tags[0]`) only for an error: most data has none.
Where = str | tuple[Any, str | int]


_LEAVES = frozenset({bool, str, int})  # JSON values as they are (float needs a finiteness check)


def _jsonable(value: Any, where: Where) -> Any:
    if value is None or type(value) in _LEAVES:
        return value
    convert = _CONVERTERS.get(type(value))
    if convert is None:
        convert = _CONVERTERS[type(value)] = _converter(type(value))
    return convert(value, where)


def _converter(kind: type) -> Any:
    """How to convert values of one type (looked up once per type: most data repeats a few)."""
    if issubclass(kind, str):  # Markup (the HTML of a body, a summary), StrEnum: their plain text
        return lambda value, where: str(value)
    if issubclass(kind, int):
        return lambda value, where: _scalar(value)
    if issubclass(kind, float):
        return _float
    if issubclass(kind, dict):
        return _dict
    if issubclass(kind, (list, tuple)):
        return _list
    if issubclass(kind, (set, frozenset)):
        return _set
    if issubclass(kind, (datetime.datetime, datetime.date, datetime.time)):
        return lambda value, where: value.isoformat()
    if issubclass(kind, decimal.Decimal):
        return lambda value, where: str(value)
    if hasattr(kind, "__json__"):
        return lambda value, where: _jsonable(value.__json__(), where)
    if dataclasses.is_dataclass(kind):
        return lambda value, where: {f.name: _jsonable(getattr(value, f.name), (where, f.name)) for f in dataclasses.fields(value)}
    return _refuse


def _float(value: float, where: Where) -> float:
    if not math.isfinite(value):
        raise SerializationError(_path(where), value)
    return value


def _dict(value: dict, where: Where) -> dict:
    out = {}
    for key, item in value.items():
        if type(key) is not str:
            if isinstance(key, (int, float, bool)) or key is None:
                key = json.dumps(key) if not isinstance(key, str) else key
            else:
                raise SerializationError(f"{_path(where)}[{key!r}] (a key)", key)
        # Plain leaves inline: most values are, and a call per value is most of the cost.
        out[key] = item if item is None or type(item) in _LEAVES else _jsonable(item, (where, key))
    return out


def _list(value: list | tuple, where: Where) -> list:
    return [item if item is None or type(item) in _LEAVES else _jsonable(item, (where, i)) for i, item in enumerate(value)]


def _set(value: set | frozenset, where: Where) -> list:
    items = [_jsonable(item, (where, i)) for i, item in enumerate(value)]
    # Sets have no order; sort by their JSON text so output is identical across runs.
    return sorted(items, key=lambda item: json.dumps(item, sort_keys=True))


def _refuse(value: Any, where: Where) -> Any:
    raise SerializationError(_path(where), value)


_CONVERTERS: dict[type, Any] = {}


def _path(where: Where) -> str:
    """data.post.tags[0], from the chain of (container, key) pairs."""
    keys: list[str | int] = []
    while isinstance(where, tuple):
        where, key = where
        keys.append(key)
    path = where
    for key in reversed(keys):
        path = f"{path}[{key}]" if isinstance(key, int) else _join(path, key)
    return path


def _scalar(value: Any) -> Any:
    # Subclasses of str/int (Markup, IntEnum, ...) become their plain base value.
    if isinstance(value, bool):
        return bool(value)
    if isinstance(value, int):
        return int(value)
    return str(value)


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if key.isidentifier() else f"{path}[{key!r}]"


def dumps(value: Any, *, root: str = "data", indent: int | None = None) -> str:
    """Given load data, return its JSON text (UTF-8, deterministic)."""
    if indent:
        return json.dumps(to_jsonable(value, root), ensure_ascii=False, indent=indent)
    return encode(to_jsonable(value, root))


def encode(value: Any) -> str:
    """Given plain JSON values (as to_jsonable returns them), return compact JSON text.

    orjson writes what json.dumps(ensure_ascii=False, separators=(",", ":")) writes, 20x
    faster (a page's data and an endpoint's entry are 10 KB each), except that a float
    with an exponent reads 1e-7, not 1e-07. An integer past 64 bits, or text with a lone
    surrogate, which orjson refuses, goes to json.dumps as before.
    """
    try:
        return orjson.dumps(value).decode()
    except orjson.JSONEncodeError:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def encode_bytes(value: Any) -> bytes:
    """encode(), as UTF-8 bytes (what orjson makes: no copy as text). A lone surrogate,
    which UTF-8 cannot carry, is written escaped (`\\ud800`), as JavaScript reads it."""
    try:
        return orjson.dumps(value)
    except orjson.JSONEncodeError:
        text = encode(value)
        try:
            return text.encode("utf-8")
        except UnicodeEncodeError:
            return json.dumps(value, separators=(",", ":")).encode("ascii")


def script_safe(text: str) -> str:
    """Given JSON text, return it safe to place inside <script>: no `</script>`, `<!--` or
    U+2028/U+2029 can end the script or break older JavaScript parsers."""
    return (
        text.replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )
