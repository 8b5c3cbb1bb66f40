"""Route ids: parse `[x]`, `[[x]]`, `[...x]`, `[x=m]`, `(group)`, match paths, rank specificity.

Pure: no filesystem. A route id is the folder path below routes/, e.g. "/blog/[slug]".
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from functools import cached_property

# ASCII names only: a param becomes a dict key and a matcher names params/<matcher>.py.
_PARAM = re.compile(r"^(\.\.\.)?([A-Za-z_][A-Za-z0-9_]*)(?:=([A-Za-z_][A-Za-z0-9_]*))?$")
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
    opened, closed = segment.count("["), segment.count("]")
    if opened != closed:
        raise RouteIdError(f"{segment!r} has unbalanced brackets: {opened} '[' and {closed} ']'")
    if segment.startswith("[[") and segment.endswith("]]") and segment.count("[") == 2:
        m = _PARAM.match(segment[2:-2])
        if not m or m.group(1):
            raise RouteIdError(
                f"{segment!r} is not a valid optional param: write [[name]] or [[name=matcher]], where a name is"
                " letters, digits and _ and does not start with a digit (a [...rest] param is already optional)"
            )
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
            raise RouteIdError(
                f"{segment!r}: [{inner}] is not a valid param; write [name], [...name] or [name=matcher],"
                " where a name is letters, digits and _ and does not start with a digit"
            )
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
                # Zero or more segments; lazy so a trailing slash is not swallowed into the value.
                pattern += r"(?:/(.*?))?"
            elif only and only.optional:
                pattern += r"(?:/([^/]+))?"
            else:
                pattern += "/" + "".join(re.escape(p.text) if p.param is None else "([^/]+?)" for p in seg)
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
    def rank(self) -> object:
        """Sort key: the more specific route sorts first, in SvelteKit's order (see `_compare`)."""
        return _RANK_KEY(self)

    def match(self, path: str) -> dict[str, str] | None:
        """Given a decoded path, return its raw params (matchers not yet applied) or None.

        An absent optional param is left out; an empty rest param is "".
        """
        m = self.regex.match(path)
        if not m:
            return None
        params: dict[str, str] = {}
        for param, value in zip(self.params, m.groups()):
            if param.rest:
                params[param.name] = value or ""
            elif value is not None:
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
                elif part.param.name in params:
                    text += params[part.param.name]
                elif not (part.param.optional or part.param.rest):
                    raise RouteIdError(f"{self.id} needs a value for param {part.param.name!r}")
            if text or not (len(seg) == 1 and seg[0].param and (seg[0].param.optional or seg[0].param.rest)):
                out.append(text)
        return "/" + "/".join(out)


# -- specificity --------------------------------------------------------------------------------
# A port of SvelteKit's sort_routes (kit/src/core/sync/create_manifest_data/sort.js), checked
# against its "sorts routes correctly" list in tests/test_route_ids.py. Each segment is split
# into alternating parts, static first: "v[major].[minor]" -> "v", [major], ".", [minor], "".


@dataclass(frozen=True)
class _SortPart:
    kind: str  # "static", "required", "optional" or "rest"
    content: str = ""  # the literal text of a static part
    matched: bool = False


_EMPTY = _SortPart("static")  # stands for a segment the shorter route does not have


def _sort_parts(seg: tuple[Part, ...]) -> tuple[_SortPart, ...]:
    out = [_SortPart("static")]
    for part in seg:
        if part.param is None:
            out[-1] = _SortPart("static", out[-1].content + part.text)
        else:
            p = part.param
            kind = "rest" if p.rest else "optional" if p.optional else "required"
            out += [_SortPart(kind, matched=p.matcher is not None), _SortPart("static")]
    return tuple(out)


def _sort_segments(rid: RouteId) -> list[tuple[_SortPart, ...]]:
    # An [[optional]] segment counts only at the very end: /a/[[x]]/b sorts like /a/b.
    last = len(rid.segments) - 1
    return [
        _sort_parts(seg)
        for i, seg in enumerate(rid.segments)
        if i == last or not (len(seg) == 1 and seg[0].param and seg[0].param.optional)
    ]


def _next_static(segments: list, i: int, j: int) -> str:
    """The literal text after part j of segment i, looking into the next segment if need be."""
    return segments[i][j + 1].content or (segments[i + 1][0].content if i + 1 < len(segments) else "")


def _compare(a: RouteId, b: RouteId) -> int:
    """Given two routes, return -1 when `a` is tried first, +1 when `b` is (0 only for one id)."""
    sa, sb = _sort_segments(a), _sort_segments(b)
    for i in range(max(len(sa), len(sb))):
        seg_a = sa[i] if i < len(sa) else (_EMPTY,)
        seg_b = sb[i] if i < len(sb) else (_EMPTY,)
        for j in range(max(len(seg_a), len(seg_b))):
            pa = seg_a[j] if j < len(seg_a) else None
            pb = seg_b[j] if j < len(seg_b) else None
            if j % 2 == 0:  # static text
                if pa.content != pb.content:
                    if pa is _EMPTY:
                        return -1  # the shallower path first
                    if pb is _EMPTY:
                        return +1
                    return _compare_static(pa.content, pb.content)
                continue
            if pa is None:
                return -1
            if pb is None:
                return +1
            next_a, next_b = _next_static(sa, i, j), _next_static(sb, i, j)
            if pa.kind == "rest" and pb.kind == "rest":
                if next_a and next_b:
                    continue
                if next_a or next_b:
                    return -1 if next_a else +1  # [...rest]/x before [...rest]
            if pa.kind == "rest":  # [...rest]/x before [required], but not before [required]/x
                return -1 if next_a and not next_b else +1
            if pb.kind == "rest":
                return +1 if next_b and not next_a else -1
            if pa.matched != pb.matched:
                return -1 if pa.matched else +1
            if pa.kind != pb.kind:  # [required] before [[optional]]
                return -1 if pa.kind == "required" else +1
    # A tie (e.g. [a=x] and [b=y]): SvelteKit puts the greater id first.
    return (a.id < b.id) - (a.id > b.id)


def _compare_static(a: str, b: str) -> int:
    """Lexicographic, except that "foobar" comes before its prefix "foo" (it says more)."""
    if b.startswith(a):
        return +1
    if a.startswith(b):
        return -1
    return -1 if a < b else +1


_RANK_KEY = functools.cmp_to_key(_compare)


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
    for before, after in zip(segments, segments[1:]):
        if before[-1].param and before[-1].param.rest and after[0].param and after[0].param.optional:
            # Both may match nothing, so a path could not say which one a segment belongs to.
            raise RouteIdError(f"{route_id}: an [[optional]] segment cannot follow a [...rest] segment")
    return rid
