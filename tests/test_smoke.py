"""The demo site and the starter site build clean through the real command line."""

from __future__ import annotations

import json

from conftest import REPO, run_ssg


def test_demo_site_builds(tmp_path):
    out = tmp_path / "out"
    result = run_ssg("build", "-C", str(REPO), "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert (out / "index.html").is_file()
    data = json.loads((out / "blog" / "hello-world" / "__data.json").read_text())
    assert data["route"] == "/blog/[slug]"
    assert data["params"] == {"slug": "hello-world"}
    assert (out / "blog" / "tags" / "news" / "index.html").is_file(), "tag pages are reached by the crawl"


def test_new_site_builds(tmp_path):
    site = tmp_path / "site"
    assert run_ssg("new", str(site)).returncode == 0
    result = run_ssg("build", "-C", str(site))
    assert result.returncode == 0, result.stderr
    assert (site / "build" / "notes" / "first" / "index.html").is_file()
    assert "0 errors" in result.stderr
