"""The route manifest, driven by tests/fixtures/routes/<case>/: a routes/ tree (and maybe
params/) beside an expected.json holding either the route table in match order, or the
problems scan() must report, each as fragments that one message must contain, in order."""

from __future__ import annotations

import json
import runpy
import sys
from pathlib import Path

import pytest

from ssg import manifest
from ssg.errors import ManifestError
from ssg.route_ids import Param

CASES = Path(__file__).parent / "fixtures" / "routes"


def cases(*, errors: bool) -> list[Path]:
    return sorted(p for p in CASES.iterdir() if ("errors" in expected(p)) == errors)


def expected(case: Path) -> dict:
    return json.loads((case / "expected.json").read_text())


def layout_files(layout: manifest.Layout | None) -> list[str] | None:
    return None if layout is None else [f for f in (layout.template, layout.module) if f]


def table(m: manifest.Manifest) -> list[dict]:
    """The manifest as plain data, in the shape expected.json writes it."""
    return [
        {
            "id": r.id,
            "kind": r.kind,
            "files": [f for f in (r.template, r.module, r.server) if f],
            "params": [written(p) for p in r.rid.params],
            "layouts": [f for layout in r.layouts for f in layout_files(layout)],
            "error_pages": list(r.error_pages),
        }
        for r in m.routes
    ]


def written(p: Param) -> str:
    """A Param as it is written in a folder name: [x], [[x]], [...x], [x=m]."""
    inner = ("..." if p.rest else "") + p.name + (f"={p.matcher}" if p.matcher else "")
    return f"[[{inner}]]" if p.optional else f"[{inner}]"


def matchers(case: Path):
    """The case's params/<name>.py match() functions as the callable Manifest.match() takes."""
    found = {f.stem: runpy.run_path(str(f))["match"] for f in sorted((case / "params").glob("*.py"))}
    return lambda name, value: found[name](value)


@pytest.mark.parametrize("case", cases(errors=False), ids=lambda p: p.name)
def test_route_table(case, monkeypatch, tmp_path):
    monkeypatch.setenv("SSG_IMPORT_MARKER", str(tmp_path))  # the imports-no-user-code case writes here if run
    want = expected(case)
    m = manifest.scan(case)
    if "routes" in want:
        assert table(m) == want["routes"]
    if "order" in want:
        assert [r.id for r in m.routes] == want["order"]
    assert m.root_error == want["root_error"]
    assert layout_files(m.root_layout) == want["root_layout"]
    assert all(m.by_id(r.id) is r for r in m.routes)
    assert m.by_id("/no/such/route") is None


@pytest.mark.parametrize("case", [c for c in cases(errors=False) if "matches" in expected(c)], ids=lambda p: p.name)
def test_match(case):
    """Manifest.match picks the most specific route whose matchers accept the values; path_for inverts it."""
    m, matches = manifest.scan(case), matchers(case)
    for path, want in expected(case)["matches"].items():
        found = m.match(path, matches)
        got = None if found is None else [found[0].id, found[1]]
        assert got == want, path
        if found is not None:
            route, params = found
            assert route.rid.path_for(params) == (path.rstrip("/") or "/"), path
            assert route.rid.match(route.rid.path_for(params)) == params, path


@pytest.mark.parametrize("case", cases(errors=True), ids=lambda p: p.name)
def test_problems(case):
    with pytest.raises(ManifestError) as info:
        manifest.scan(case)
    problems = info.value.problems
    want = expected(case)["errors"]
    assert len(problems) == len(want), "\n".join(problems)
    for problem, fragments in zip(problems, want):
        for fragment in fragments:
            assert fragment in problem
    for problem in problems:
        assert problem in str(info.value)  # the exception's message lists every problem


def test_scan_imports_no_user_code(monkeypatch, tmp_path):
    """Each module in this case records that it ran and then raises: scan() must only look at names."""
    case = CASES / "imports-no-user-code"
    monkeypatch.setenv("SSG_IMPORT_MARKER", str(tmp_path))
    before = set(sys.modules)
    manifest.scan(case)
    assert list(tmp_path.iterdir()) == []
    loaded = [sys.modules[name] for name in set(sys.modules) - before]
    assert not [mod for mod in loaded if str(case) in str(getattr(mod, "__file__", "") or "")]
