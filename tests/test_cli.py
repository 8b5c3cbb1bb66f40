"""The command line: help, routes table, new."""

from __future__ import annotations

from conftest import run_ssg
from sitekit import saved_records, write_site


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


def test_the_command_exits_fast_yet_flushes_output_runs_exit_handlers_and_keeps_its_code(tmp_path):
    import subprocess
    import sys

    from conftest import SITES

    code = (
        "import atexit, sys\n"
        "atexit.register(lambda: print('exit handler ran', file=sys.stderr))\n"
        "sys.argv = ['ssg', *sys.argv[1:]]\n"
        "from ssg.cli import run\n"
        "run()\n"
        "print('not reached', file=sys.stderr)\n"
    )
    site = tmp_path / "site"
    import shutil

    shutil.copytree(SITES / "incremental", site)
    ok = subprocess.run([sys.executable, "-c", code, "build", "-C", str(site), "--out", str(tmp_path / "out")],
                        capture_output=True, text=True, timeout=120)
    assert ok.returncode == 0, ok.stderr
    assert "built " in ok.stderr and "exit handler ran" in ok.stderr and "not reached" not in ok.stderr
    # What the next process reads is in place.
    assert saved_records(site), "the content cache is saved"
    bad = subprocess.run([sys.executable, "-c", code, "build", "--jobs", "0"], capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "--jobs takes a number of 1 or more" in bad.stderr


def test_new_into_a_file_is_a_usage_error(tmp_path):
    afile = tmp_path / "afile"
    afile.write_text("mine")
    for target in (afile, afile / "sub"):
        result = run_ssg("new", str(target))
        assert result.returncode == 2, result.stderr
        assert "Traceback" not in result.stderr and str(target) in result.stderr
    assert afile.read_text() == "mine"


def test_routes_shows_where_entries_failed(tmp_path):
    root = write_site(tmp_path / "s", {
        "routes/+page.html": "home",
        "routes/n/[slug]/+page.html": "{{ data }}",
        "routes/n/[slug]/+page.py": "def entries():\n    raise ValueError('boom')\n",
    })
    result = run_ssg("routes", "-C", str(root))
    assert result.returncode == 1
    assert 'File "routes/n/[slug]/+page.py", line 2, in entries' in result.stderr


def test_a_tool_ssg_that_is_not_a_table_is_a_config_error(tmp_path):
    root = write_site(tmp_path / "s", {"pyproject.toml": "[tool]\nssg = 3\n", "routes/+page.html": "home"})
    result = run_ssg("build", "-C", str(root))
    assert result.returncode == 2
    assert "[tool.ssg] must be a table of settings" in result.stderr and "Traceback" not in result.stderr

