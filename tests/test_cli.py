"""The command line: help, routes table, new."""

from __future__ import annotations

from conftest import run_ssg
from sitekit import write_site


def test_routes_prints_the_table(tmp_path):
    root = write_site(tmp_path / "s", {
        "params/integer.py": "def match(value):\n    return value.isdigit()\n",
        "routes/+layout.html": "{{ slot }}",
        "routes/+page.html": "home",
        "routes/(docs)/+layout.html": "{{ slot }}",
        "routes/(docs)/guide/[[page=integer]]/+page.html": "guide",
        "routes/blog/[slug]/+page.py": "def entries():\n    return [{'slug': 'a'}, {'slug': 'b'}]\n",
        "routes/blog/[slug]/+page.html": "post",
        "routes/files/[...path]/+server.py": "def GET(event):\n    pass\n",
    })
    result = run_ssg("routes", "-C", str(root))
    assert result.returncode == 0, result.stderr
    lines = [line.split() for line in result.stdout.splitlines()]
    assert lines == [
        ["route", "kind", "params", "layouts", "entries"],
        ["/", "page", "-", "/", "-"],
        ["/blog/[slug]", "page", "slug", "/", "2"],
        ["/files/[...path]", "endpoint", "...path", "/", "0"],
        ["/(docs)/guide/[[page=integer]]", "page", "page?=integer", "/", ">", "/(docs)", "0"],
    ]


def test_new_refuses_a_folder_that_is_not_empty(tmp_path):
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "keep.txt").write_text("mine")
    result = run_ssg("new", str(tmp_path / "site"))
    assert result.returncode == 2
    assert "exists and is not empty" in result.stderr
    assert (tmp_path / "site" / "keep.txt").read_text() == "mine"


def test_help_lists_every_command_and_build_option():
    top = run_ssg("--help").stdout
    for command in ("build", "routes", "new"):
        assert command in top
    build = run_ssg("build", "--help").stdout
    for flag in ("--out", "--base-path", "--origin", "--jobs", "--drafts", "--no-crawl", "--report", "--fresh", "--explain"):
        assert flag in build


def test_no_command_is_usage_error():
    assert run_ssg().returncode == 2
