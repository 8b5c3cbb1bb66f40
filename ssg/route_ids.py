"""Route ids: parse `[x]`, `[[x]]`, `[...x]`, `[x=m]`, `(group)`, match paths, rank specificity.

Pure: no filesystem. A route id is the folder path below routes/, e.g. "/blog/[slug]".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property

_PARAM = re.compile(r"^(\.\.\.)?(\w+)(?:=(\w+))?$")
_GROUP = re.compile(r"^\(.+\)$")


@dataclass(frozen=True)
class Param:
    name: str
    matcher: str | None = None
    optional: bool = False
    rest: bool = False


@dataclass(frozen=True)
class Part:
    """A piece of a segment: literal text (param is None) or a param."""

    text: str = ""
    param: Param | None = None


class RouteIdError(ValueError):
    pass


def is_group(segment: str) -> bool:
    return bool(_GROUP.match(segment))


def parse_segment(segment: str) -> tuple[Part, ...]:
    """Given one folder name, return its parts, or raise RouteIdError saying what is wrong.

    >>> parse_segment("v[major].[minor]")[1].param.name
    'major'
    """
    if segment.startswith("[[") and segment.endswith("]]") and segment.count("[") == 2:
        m = _PARAM.match(segment[2:-2])
        if not m or m.group(1):
            raise RouteIdError(f"{segment!r} is not a valid optional param: write [[name]] or [[name=matcher]]")
        return (Part(param=Param(m.group(2), m.group(3), optional=True)),)
    parts: list[Part] = []
    i = 0
    while i < len(segment):
        start = segment.find("[", i)
        close = segment.find("]", i)
        if start == -1:
            if close != -1:
                raise RouteIdError(f"{segment!r} has a ']' with no '[' before it")
            parts.append(Part(text=segment[i:]))
            break
        if close != -1 and close < start:
            raise RouteIdError(f"{segment!r} has a ']' with no '[' before it")
        if start > i:
            parts.append(Part(text=segment[i:start]))
        end = segment.find("]", start)
        if end == -1:
            raise RouteIdError(f"{segment!r} has an unclosed '['")
        inner = segment[start + 1 : end]
        if "[" in inner:
            raise RouteIdError(f"{segment!r} has a '[' inside a param; optional params take the whole segment: [[name]]")
        m = _PARAM.match(inner)
        if not m:
            raise RouteIdError(f"{segment!r}: [{inner}] is not a valid param; names are letters, digits and _")
        if parts and parts[-1].param is not None:
            raise RouteIdError(f"{segment!r} has two params with nothing between them; they cannot be told apart")
        parts.append(Part(param=Param(m.group(2), m.group(3), rest=bool(m.group(1)))))
        i = end + 1
    if any(p.param and p.param.rest for p in parts) and len(parts) > 1 and any(p.text for p in parts):
        # [...rest] mixed with text is allowed by SvelteKit, but it makes matching ambiguous.
        raise RouteIdError(f"{segment!r}: a [...rest] param must be the whole folder name")
    return tuple(parts)


@dataclass(frozen=True)
class RouteId:
    id: str
    segments: tuple[tuple[Part, ...], ...]  # groups removed

    @cached_property
    def params(self) -> tuple[Param, ...]:
        return tuple(p.param for seg in self.segments for p in seg if p.param)

    @cached_property
    def regex(self) -> re.Pattern[str]:
        if not self.segments:
            return re.compile(r"^/$")
        pattern = ""
        for seg in self.segments:
            only = seg[0].param if len(seg) == 1 else None
            if only and only.rest:
                pattern += r"(?:/(.*))?"  # zero or more segments
            elif only and only.optional:
                pattern += r"(?:/([^/]+))?"
            else:
                pattern += "/" + "".join(
                    re.escape(p.text) if p.param is None else ("([^/]+?)" if not p.param.rest else "(.*?)")
                    for p in seg
                )
        return re.compile(f"^{pattern}/?$")

    @cached_property
    def shape(self) -> str:
        """The id with param names erased: two routes with the same shape conflict."""
        out = []
        for seg in self.segments:
            out.append(
                "".join(
                    p.text
                    if p.param is None
                    else "[" + ("[" if p.param.optional else "") + ("..." if p.param.rest else "")
                    + (f"={p.param.matcher}" if p.param.matcher else "") + ("]" if p.param.optional else "") + "]"
                    for p in seg
                )
            )
        return "/" + "/".join(out)

    @cached_property
    def rank(self) -> tuple:
        """Sort key: the more specific route sorts first (SvelteKit's order)."""
        # A route that ends sooner beats one that could go on matching (/blog before /blog/[[page]]).
        return tuple(_segment_rank(seg) for seg in self.segments) + ((-1,),)

    def match(self, path: str) -> dict[str, str] | None:
        """Given a decoded path, return its raw params (matchers not yet applied) or None."""
        m = self.regex.match(path)
        if not m:
            return None
        params: dict[str, str] = {}
        for param, value in zip(self.params, m.groups()):
            if value is None or (value == "" and param.rest):
                if param.rest:
                    params[param.name] = ""
                continue
            params[param.name] = value
        return params

    def path_for(self, params: dict[str, str]) -> str:
        """Given params, return the path (no trailing slash), the inverse of match().

        >>> parse("/blog/[slug]").path_for({"slug": "hi"})
        '/blog/hi'
        """
        out = []
        for seg in self.segments:
            text = ""
            for part in seg:
                if part.param is None:
                    text += part.text
                else:
                    text += params.get(part.param.name, "")
            if text or not (len(seg) == 1 and seg[0].param and (seg[0].param.optional or seg[0].param.rest)):
                out.append(text)
        return "/" + "/".join(out)


def _segment_rank(seg: tuple[Part, ...]) -> tuple:
    if len(seg) == 1 and seg[0].param is None:
        return (0, seg[0].text)
    if len(seg) == 1:
        p = seg[0].param
        return (5,) if p.rest else (4,) if p.optional else (2,) if p.matcher else (3,)
    literal = sum(len(p.text) for p in seg if p.param is None)
    matched = all(p.param.matcher for p in seg if p.param)
    return (1, 0 if matched else 1, -literal)


def parse(route_id: str) -> RouteId:
    """Given a route id such as "/(app)/blog/[slug]", return its RouteId (raises RouteIdError)."""
    segments = tuple(
        parse_segment(seg) for seg in route_id.strip("/").split("/") if seg and not is_group(seg)
    )
    rid = RouteId(route_id, segments)
    names = [p.name for p in rid.params]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise RouteIdError(f"param {dupes[0]!r} appears twice in {route_id}")
    return rid
