"""The crawler, driven by tests/fixtures/crawl/<case>/: input.html -> output.json, where
"links" are the URLs in document order without repeats and "ids" are sorted."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ssg import crawl

CASES = sorted((Path(__file__).parent / "fixtures" / "crawl").iterdir())


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.name)
def test_find(case):
    found = crawl.find((case / "input.html").read_text(encoding="utf-8"))
    want = json.loads((case / "output.json").read_text(encoding="utf-8"))
    assert {"links": list(found.links), "ids": sorted(found.ids)} == want
