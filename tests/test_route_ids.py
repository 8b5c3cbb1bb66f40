"""Route ids: parsing folder names, matching paths, building paths, and SvelteKit's specificity order."""

from __future__ import annotations

import random
import re

import pytest

from ssg import route_ids
from ssg.route_ids import RouteIdError

# SvelteKit's own "sorts routes correctly" list (kit/src/core/sync/create_manifest_data/
# index.spec.js), most specific first, without the ids that mix [...rest] with text in one
# folder name, which ssg refuses.
SVELTEKIT_ORDER = [
    "/",
    "/a",
    "/b",
    "/b/[required]",
    "/c",
    "/c/bar",
    "/c/b[x].json",
    "/c/b[x]",
    "/c/foo",
    "/d/e",
    "/e/f",
    "/e/[...rest]/f",
    "/g/[[optional]]/static",
    "/g/[required]",
    "/g/[...rest]/[required]",
    "/h/a/b",
    "/h/a/[required]/b",
    "/h/a/[...rest]/b",
    "/x/[...rest]",
    "/[...rest]/x",
    "/[...rest]/x/[...deep_rest]/y",
    "/[...rest]/x/[...deep_rest]",
    "/[required=matcher]",
    "/[required]",
    "/[...rest]",
]


def test_sveltekit_order():
    ids = list(SVELTEKIT_ORDER)
    shuffle = random.Random(1234).shuffle
    for _ in range(20):
        shuffle(ids)
        assert sorted(ids, key=lambda i: route_ids.parse(i).rank) == SVELTEKIT_ORDER


# (winner, loser): both match some path, and the winner is tried first.
BEATS = {
    "literal beats matcher-param": ("/blog/new", "/blog/[id=int]"),
    "matcher-param beats param": ("/blog/[id=int]", "/blog/[slug]"),
    "param beats optional": ("/blog/[slug]", "/blog/[[page]]"),
    "optional beats rest": ("/blog/[[page]]", "/blog/[...rest]"),
    "matcher-optional beats param": ("/blog/[[page=int]]", "/blog/[slug]"),
    "shorter beats trailing optional": ("/blog", "/blog/[[page]]"),
    "shorter beats trailing rest": ("/blog", "/blog/[...rest]"),
    "mixed beats param": ("/blog/[slug].json", "/blog/[slug]"),
    "longer literal in a mixed segment wins": ("/v[major].[minor]", "/[x]"),
    "literal beats mixed": ("/blog/feed.json", "/blog/[slug].json"),
    "matcher beats mixed": ("/[x=m]", "/[slug].json"),
    "rest loses to everything": ("/[a]/[b]/[c]", "/[...rest]"),
    "rest loses to a root optional": ("/[[lang]]", "/[...rest]"),
    "root beats root optional": ("/", "/[[lang]]"),
    "rest then literal beats param": ("/[...rest]/edit", "/[page]"),
    "param then literal beats rest then literal": ("/[a]/edit", "/[...rest]/edit"),
    "groups do not count": ("/(a)/(b)/blog/new", "/blog/[slug]"),
    "a middle optional with a literal after it beats a param": ("/g/[[lang]]/static", "/g/[required]"),
}


@pytest.mark.parametrize("winner,loser", BEATS.values(), ids=BEATS.keys())
def test_specificity(winner, loser):
    rank = lambda i: route_ids.parse(i).rank  # noqa: E731
    assert sorted([loser, winner], key=rank) == sorted([winner, loser], key=rank) == [winner, loser]


# route id, path, params (None: no match). Every match is also checked to round-trip through path_for.
MATCHES = [
    ("/", "/", {}),
    ("/", "/x", None),
    ("/about", "/about", {}),
    ("/about", "/about/", {}),
    ("/about", "/About", None),
    ("/(group)/about", "/about", {}),
    ("/blog/[slug]", "/blog/hello", {"slug": "hello"}),
    ("/blog/[slug]", "/blog/hello/", {"slug": "hello"}),
    ("/blog/[slug]", "/blog/", None),
    ("/blog/[slug]", "/blog/a/b", None),
    ("/blog/[slug]", "/blog/a b.c", {"slug": "a b.c"}),
    ("/blog/[[page]]", "/blog", {}),
    ("/blog/[[page]]", "/blog/", {}),
    ("/blog/[[page]]", "/blog/2", {"page": "2"}),
    ("/[[lang]]/about", "/about", {}),
    ("/[[lang]]/about", "/en/about", {"lang": "en"}),
    ("/[[lang]]", "/", {}),
    ("/[[a]]/[[b]]", "/x", {"a": "x"}),
    ("/[[a]]/[[b]]", "/x/y", {"a": "x", "b": "y"}),
    ("/docs/[...path]", "/docs", {"path": ""}),
    ("/docs/[...path]", "/docs/", {"path": ""}),
    ("/docs/[...path]", "/docs/a", {"path": "a"}),
    ("/docs/[...path]", "/docs/a/b/c", {"path": "a/b/c"}),
    ("/docs/[...path]", "/docs/a/b/c/", {"path": "a/b/c"}),
    ("/docs/[...path]", "/documents", None),
    ("/[...rest]", "/", {"rest": ""}),
    ("/[...rest]", "/a/b", {"rest": "a/b"}),
    ("/[...path]/edit", "/edit", {"path": ""}),
    ("/[...path]/edit", "/a/b/edit/", {"path": "a/b"}),
    ("/[a]/[...rest]/[b]", "/x/y", {"a": "x", "rest": "", "b": "y"}),
    ("/api/[slug].json", "/api/posts.json", {"slug": "posts"}),
    ("/api/[slug].json", "/api/.json", None),
    ("/api/[slug].json", "/api/postsxjson", None),
    ("/v[major].[minor]", "/v1.2", {"major": "1", "minor": "2"}),
    ("/v[major].[minor]", "/v1.2.3", {"major": "1", "minor": "2.3"}),
    ("/v[major].[minor]", "/v1", None),
    ("/items/[id=int]", "/items/abc", {"id": "abc"}),  # matchers are applied by Manifest.match
    ("/a+b/(c)/[x]", "/a+b/1", {"x": "1"}),
    ("/a.b", "/axb", None),
]


@pytest.mark.parametrize("route_id,path,params", MATCHES, ids=[f"{r} {p}" for r, p, _ in MATCHES])
def test_match_and_path_for(route_id, path, params):
    rid = route_ids.parse(route_id)
    assert rid.match(path) == params
    if params is not None:
        back = rid.path_for(params)
        assert back == (path.rstrip("/") or "/")
        assert rid.match(back) == params


def test_path_for_needs_every_required_param():
    with pytest.raises(RouteIdError, match="'slug'"):
        route_ids.parse("/blog/[slug]").path_for({})


SEGMENTS = {
    "about": [("about", None)],
    "[slug]": [("", "slug")],
    "[[page]]": [("", "page?")],
    "[...rest]": [("", "...rest")],
    "[id=int]": [("", "id=int")],
    "[[lang=locale]]": [("", "lang=locale?")],
    "[slug].json": [("", "slug"), (".json", None)],
    "v[major].[minor]": [("v", None), ("", "major"), (".", None), ("", "minor")],
    "[_x9]": [("", "_x9")],
}


def describe(part: route_ids.Part) -> tuple[str, str | None]:
    p = part.param
    if p is None:
        return (part.text, None)
    written = ("..." if p.rest else "") + p.name + (f"={p.matcher}" if p.matcher else "")
    return ("", written + ("?" if p.optional else ""))


@pytest.mark.parametrize("segment,parts", SEGMENTS.items(), ids=SEGMENTS.keys())
def test_parse_segment(segment, parts):
    assert [describe(p) for p in route_ids.parse_segment(segment)] == parts


BAD = {
    "[slug": "unbalanced brackets",
    "slug]": "unbalanced brackets",
    "[[page]": "unbalanced brackets",
    "]x[": "']' with no '['",
    "[]": "not a valid param",
    "[1st]": "not a valid param",
    "[my-slug]": "not a valid param",
    "[a b]": "not a valid param",
    "[é]": "not a valid param",
    "[id=]": "not a valid param",
    "[id=my-matcher]": "not a valid param",
    "[....x]": "not a valid param",
    "[[...rest]]": "not a valid optional param",
    "[[]]": "not a valid optional param",
    "a[[b]]": "optional params take the whole segment",
    "[a][b]": "two params with nothing between them",
    "[...rest].json": "must be the whole folder name",
    "x[...rest]": "must be the whole folder name",
}


@pytest.mark.parametrize("segment,message", BAD.items(), ids=BAD.keys())
def test_parse_segment_errors(segment, message):
    with pytest.raises(RouteIdError, match=f"^{re.escape(repr(segment))}.*{re.escape(message)}"):
        route_ids.parse_segment(segment)


ROUTE_ERRORS = {
    "/[id]/[id]": "param 'id' appears twice",
    "/[id]/x-[id]": "param 'id' appears twice",
    "/[...path]/[[lang]]": "cannot follow a [...rest]",
}


@pytest.mark.parametrize("route_id,message", ROUTE_ERRORS.items(), ids=ROUTE_ERRORS.keys())
def test_parse_errors(route_id, message):
    with pytest.raises(RouteIdError, match=re.escape(message)):
        route_ids.parse(route_id)


def test_shape_erases_names_and_groups_only():
    shape = lambda i: route_ids.parse(i).shape  # noqa: E731
    assert shape("/blog/[a]") == shape("/(x)/blog/[b]")
    assert shape("/[[a]]") == shape("/[[b]]")
    assert shape("/[...a]") == shape("/[...b]")
    assert len({shape(i) for i in ["/blog/[a]", "/blog/[a=int]", "/blog/[[a]]", "/blog/[...a]", "/blog/[a].json"]}) == 5
