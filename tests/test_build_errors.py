"""SPEC §5 and §8: every way a build can fail, one broken site under tests/sites/ each.

Each test runs the real command line on a copy of a fixture site and checks the exit
code, what stderr says (what, where, and how to fix it), and what was (not) written.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from conftest import SITES, run_ssg


def clean_env(**extra: str) -> dict[str, str]:
    """The environment for a child build: this one without CI markers, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if k != "GITHUB_ACTIONS"}
    return {**env, **extra}


def build(site: Path, *args: str, out: Path | None = None, env: dict[str, str] | None = None):
    """Run `ssg build` on a site folder, into `out` (default: a folder beside the site)."""
    out = out or site.parent / "out"
    return run_ssg("build", "-C", str(site), "--out", str(out), *args, env=env or clean_env())


def snapshot(folder: Path) -> dict[str, bytes | None]:
    """Every file's bytes (and every folder, as None) below `folder`, by relative path."""
    return {p.relative_to(folder).as_posix(): p.read_bytes() if p.is_file() else None for p in sorted(folder.rglob("*"))}


def leftovers(parent: Path) -> list[str]:
    """Staging or old folders a build left beside its output."""
    return sorted(p.name for p in parent.iterdir() if ".staging-" in p.name or ".old-" in p.name)


def set_config(site: Path, text: str) -> None:
    (site / "ssg.toml").write_text(text, "utf-8")


def problems(stderr: str) -> dict[str, str]:
    """Given a build's stderr, return each reported problem's block keyed by its first line."""
    blocks: dict[str, str] = {}
    current = None
    for line in stderr.splitlines():
        if line.startswith(("error: ", "warning: ")):
            current = line
            blocks[current] = line
        elif line.startswith("  ") and current is not None:
            blocks[current] += "\n" + line
        else:
            current = None
    return blocks


# -- 1, 2. links that lead nowhere ------------------------------------------------------------


def test_link_to_a_path_no_route_matches_fails_and_keeps_the_previous_output(site_copy, tmp_path):
    out = tmp_path / "out"
    good = build(site_copy("blog"), out=out)
    assert good.returncode == 0, good.stderr
    before = snapshot(out)
    assert "blog/hello/index.html" in before

    result = build(site_copy("broken-link"), out=out)

    assert result.returncode == 1, result.stderr
    assert "error: 404 /blog/nope (linked from /blog/)" in result.stderr
    assert "1 error(s)" in result.stderr
    assert snapshot(out) == before, "a failed build must leave the previous output byte for byte"
    assert leftovers(tmp_path) == []


def test_load_raising_error_404_is_reported_with_its_referrer(site_copy):
    result = build(site_copy("load-404"))
    assert result.returncode == 1
    found = problems(result.stderr)
    assert 'error: 404 /blog/missing (linked from /blog/)' in found
    assert 'route /blog/[slug] {"slug": "missing"}' in found["error: 404 /blog/missing (linked from /blog/)"]
    # A path that entries() asked for names entries() instead of a referrer.
    assert "error: 404 /blog/gone (from entries() in routes/blog/[slug]/+page.py)" in found
    assert len(found) == 2, result.stderr


# -- 3. links to #ids that are not there --------------------------------------------------------


@pytest.mark.parametrize(
    ("config", "code", "reported"),
    [
        pytest.param("", 1, "error: ", id="fail-by-default"),
        pytest.param('[prerender]\non_missing_id = "warn"\n', 0, "warning: ", id="warn"),
        pytest.param('[prerender]\non_missing_id = "ignore"\n', 0, None, id="ignore"),
    ],
)
def test_link_to_a_missing_id(site_copy, config, code, reported):
    site = site_copy("missing-id")
    set_config(site, config)
    result = build(site)
    assert result.returncode == code, result.stderr
    message = "#nope is not an id on /page/ (linked from /)"
    if reported:
        assert f"{reported}{message}" in problems(result.stderr)
    else:
        assert "#nope" not in result.stderr
    assert "#here" not in result.stderr and "#top" not in result.stderr


# -- 4. dynamic routes nobody asked for ---------------------------------------------------------


@pytest.mark.parametrize(
    ("config", "code", "reported"),
    [
        pytest.param("", 1, "error: ", id="fail-by-default"),
        pytest.param('[prerender]\non_unseen_routes = "warn"\n', 0, "warning: ", id="warn"),
        pytest.param('[prerender]\non_unseen_routes = "ignore"\n', 0, None, id="ignore"),
    ],
)
def test_dynamic_route_without_entries_and_not_crawled(site_copy, config, code, reported):
    site = site_copy("unseen-route")
    set_config(site, config)
    result = build(site)
    assert result.returncode == code, result.stderr
    if reported:
        (line,) = [p for p in problems(result.stderr) if "/items/[id]" in p]
        assert line.startswith(f"{reported}routes/items/[id]/+page.py: dynamic route /items/[id] has no entries()")
        assert "Return e.g. [{'id': 'hello'}] from entries() in routes/items/[id]/+page.py" in line
    else:
        assert "items" not in result.stderr
    if code == 0:
        assert (site.parent / "out" / "index.html").is_file()
        assert not (site.parent / "out" / "items").exists()


def test_entries_that_raises_is_one_error_not_also_an_unseen_route(site_copy):
    site = site_copy("unseen-route")
    module = site / "routes/items/[id]/+page.py"
    module.write_text("def entries():\n    return [{'id': ITEMS[0]}]\n\n\n" + module.read_text())
    result = build(site)
    assert result.returncode == 1
    found = [p for p in problems(result.stderr) if "/items/[id]" in p or "items/[id]" in p]
    assert len(found) == 1, result.stderr
    (block,) = [problems(result.stderr)[p] for p in found]
    assert found[0].startswith("error: routes/items/[id]/+page.py: entries() failed: NameError: name 'ITEMS' is not defined")
    assert 'File "routes/items/[id]/+page.py", line 2, in entries' in block


# -- 5. prerender = False ---------------------------------------------------------------------


def test_link_to_a_route_that_is_not_prerendered_fails(site_copy):
    result = build(site_copy("prerender-false"))
    assert result.returncode == 1
    found = problems(result.stderr)
    assert list(found) == ["error: /admin/ is not prerendered (prerender = False in routes/admin) (linked from /)"]


def test_route_that_is_not_prerendered_is_not_built(site_copy):
    site = site_copy("prerender-false")
    set_config(site, '[prerender]\non_http_error = "warn"\n')
    result = build(site)
    assert result.returncode == 0, result.stderr
    out = site.parent / "out"
    assert (out / "index.html").is_file()
    assert not (out / "admin").exists() and not (out / "drafts").exists()
    # /drafts/[id] has no entries, but prerender = False: it is not an unseen route.
    assert "drafts" not in result.stderr


def test_config_entry_for_a_route_that_is_not_prerendered_fails(site_copy):
    site = site_copy("prerender-false")
    set_config(site, '[prerender]\nentries = ["/admin"]\n')
    result = build(site)
    assert result.returncode == 1
    assert list(problems(result.stderr)) == [
        "error: /admin is not prerendered (prerender = False in routes/admin) (from prerender.entries in the config)"
    ]


# -- 6. a load that raises --------------------------------------------------------------------


def test_load_exception_names_route_params_referrer_file_and_line(site_copy):
    site = site_copy("load-exception")
    result = build(site)
    assert result.returncode == 1
    found = problems(result.stderr)
    # Two pages fail; both are reported (all errors, then fail), and /posts/c still rendered.
    assert sorted(found) == ["error: 500 /posts/a: KeyError: 'a'", "error: 500 /posts/b: KeyError: 'b'"]
    assert "2 error(s)" in result.stderr
    block = found["error: 500 /posts/a: KeyError: 'a'"]
    assert block.splitlines()[1:] == [
        '  route /posts/[slug] {"slug": "a"}',
        "  at routes/posts/[slug]/+page.py:5",
        "  reached via /posts/",
        "  Traceback (ssg's own frames trimmed):",
        '    File "routes/posts/[slug]/+page.py", line 9, in load',
        '      return {"title": title_of(event.params["slug"])}',
        '    File "routes/posts/[slug]/+page.py", line 5, in title_of',
        '      return POSTS[slug]["title"]',
    ]
    # Only the user's frames: nothing from ssg/, the standard library or site-packages.
    assert "ssg/" not in result.stderr.replace("(ssg's", "")
    assert "site-packages" not in result.stderr and "asyncio" not in result.stderr
    assert not (site.parent / "out").exists()


def test_route_module_that_fails_to_import_is_reported_once_and_the_build_goes_on(site_copy):
    # routes/a/+page.py is listed in the config's entries and linked from /: one report, not three,
    # and not a claim that it has prerender = False. The broken link on / is reported too.
    result = build(site_copy("import-error"), env=clean_env(GITHUB_ACTIONS="true"))
    assert result.returncode == 1
    found = problems(result.stderr)
    head = "error: routes/a/+page.py: failed to import: ModuleNotFoundError: No module named 'a_module_that_does_not_exist'"
    assert sorted(found) == ["error: 404 /nope (linked from /)", head]
    assert found[head].splitlines()[1:4] == [
        "  route /a",
        "  Traceback (ssg's own frames trimmed):",
        '    File "routes/a/+page.py", line 1, in <module>',
    ]
    assert f"::error file=routes/a/+page.py,line=1::{head.removeprefix('error: ')}" in result.stdout.splitlines()


@pytest.mark.parametrize("broken, where, line", [
    ("lib/util.py", "lib/util.py:3: syntax error: invalid syntax (imported by routes/+page.py)", 3),
    ("routes/+page.py", "routes/+page.py:6: syntax error: invalid syntax", 6),
    ("routes/+page.py eval", "routes/+page.py:1: syntax error: invalid syntax", 1),  # compiled at run time: "<string>"
])
def test_a_syntax_error_names_the_file_it_is_in(tmp_path, broken, where, line):
    from sitekit import write_site

    site = write_site(tmp_path / "site", {
        "lib/__init__.py": "",
        "lib/util.py": "VALUE = 1\n",
        "routes/+page.py": "from lib.util import VALUE\n\n\ndef load(event):\n    return {'v': VALUE}\n",
        "routes/+page.html": "{{ data.v }}",
    })
    if broken.endswith(" eval"):
        (site / "routes/+page.py").write_text("eval('1 +')\n")
    else:
        with open(site / broken, "a") as f:
            f.write("\ndef broken(:\n" if broken.startswith("lib") else "def broken(:\n")
    result = build(site, env=clean_env(GITHUB_ACTIONS="true"))
    assert result.returncode == 1
    assert f"error: {where}" in result.stderr.splitlines()
    assert f"::error file={where.split(':')[0]},line={line}::" in result.stdout


@pytest.mark.parametrize("jobs", ["1", "2"])
@pytest.mark.parametrize("where", ["load", "task", "endpoint", "entries", "matcher", "import"])
def test_sys_exit_in_site_code_is_an_error_of_its_page_not_the_builds_exit(tmp_path, where, jobs):
    """sys.exit() in a load, an endpoint, entries() or a module's top level fails what ran
    it, with the file and line, as an exception does; the build exits 1 whatever the code
    passed, and the same with any --jobs."""
    from sitekit import write_site

    code = {
        "load": "import sys\n\n\ndef load(event):\n    sys.exit(0)\n",
        # a task the load waits for: asyncio lets its SystemExit out of the event loop
        "task": "import asyncio, sys\n\n\nasync def part():\n    sys.exit(0)\n\n\nasync def load(event):\n    await asyncio.gather(part())\n",
        "matcher": "import sys\n\n\ndef match(value):\n    sys.exit(0)\n",
        "endpoint": "import sys\n\n\ndef GET(event):\n    sys.exit(0)\n",
        "entries": "import sys\n\n\ndef entries():\n    sys.exit(0)\n",
        "import": "import sys\n\nsys.exit(0)\n",
    }[where]
    module = {"endpoint": "routes/data.json/+server.py", "entries": "routes/page/[n]/+page.py", "matcher": "params/num.py"}.get(where, "routes/page/+page.py")
    site = write_site(tmp_path / "site", {
        "routes/+page.html": '<a href="/page/">page</a> <a href="/data.json">data</a>' + (' <a href="/n/1/">n</a>' if where == "matcher" else ""),
        "routes/page/+page.html": "page",
        "routes/data.json/+server.py": "def GET(event):\n    return ssg.json({})\n\n\nimport ssg\n",
        module: code,
        **({"routes/page/[n]/+page.html": "{{ params.n }}"} if where == "entries" else {}),
        **({"routes/n/[k=num]/+page.html": "{{ params.k }}"} if where == "matcher" else {}),
    })
    result = build(site, "--jobs", jobs)
    assert result.returncode == 1, result.stderr
    assert "Traceback (most recent call last)" not in result.stderr
    line = 3 if where == "import" else 5
    assert f"at {module}:{line}" in result.stderr or f"{module}\", line {line}" in result.stderr, result.stderr
    assert "sys.exit(0)" in result.stderr
    assert not (tmp_path / "out").exists()


# -- 7. data that cannot be JSON --------------------------------------------------------------


def test_unserializable_data_names_the_key_path_route_and_params(site_copy):
    result = build(site_copy("unserializable"))
    assert result.returncode == 1
    (line, block), = problems(result.stderr).items()
    assert line == "error: 500 /posts/first: data.post.author.created is a builtins.object, which cannot be serialized to JSON"
    assert 'route /posts/[slug] {"slug": "first"}' in block
    assert "__json__()" in block, "the message says how to fix it"
    assert "TypeError" not in result.stderr


# -- 8. containment: no value, link or name writes outside the output -------------------------


@pytest.fixture(scope="module")
def unsafe_entries(tmp_path_factory):
    """One build of tests/sites/unsafe-entries with a JSON report: (tmp root, result, report)."""
    root = tmp_path_factory.mktemp("unsafe")
    site = shutil.copytree(SITES / "unsafe-entries", root / "site")
    result = build(site, "--report", str(root / "report.json"))
    return root, result, json.loads((root / "report.json").read_text())


@pytest.mark.parametrize(
    "expected",
    [
        pytest.param("item 0 {'slug': '..'} of route /[slug]: param 'slug' = '..' has a '..' segment", id="dot-dot"),
        pytest.param("item 1 {'slug': ''} of route /[slug]: param 'slug' = '' has an empty segment", id="empty"),
        pytest.param("item 2 {'slug': 'a\\x00b'} of route /[slug]: param 'slug' = 'a\\x00b' contains NUL", id="nul"),
        pytest.param("item 3 {'slug': 'a\\\\b'} of route /[slug]: param 'slug' = 'a\\\\b' contains a backslash", id="backslash"),
        pytest.param("item 4 {'slug': 'a/b'} of route /[slug]: param 'slug' = 'a/b' contains '/'; only a [...slug] param", id="slash-in-one-segment"),
    ],
)
def test_unsafe_entries_value_is_an_error_naming_route_and_entries_file(unsafe_entries, expected):
    _, result, _ = unsafe_entries
    assert result.returncode == 1
    head = f"error: routes/[slug]/+page.py: entries() {expected}"
    assert [line for line in problems(result.stderr) if line.startswith(head)], result.stderr


def test_unsafe_entries_write_nothing_anywhere(unsafe_entries):
    root, result, report = unsafe_entries
    assert result.returncode == 1
    messages = [e["message"] for e in report["errors"]]
    assert len(messages) == 6, messages  # five for /[slug], one for ../../escape in /files/[...rest]
    assert any("entries() item 1 {'rest': '../../escape'} of route /files/[...rest]" in m for m in messages)
    # The failed build wrote nothing: no output folder, no staging folder, no stray file.
    assert sorted(p.name for p in root.iterdir()) == ["report.json", "site"]
    assert not [p for p in root.rglob("*escape*")]


def test_rest_param_may_span_segments(unsafe_entries, site_copy):
    _, _, report = unsafe_entries
    pages = {p["path"]: p["file"] for p in report["pages"]}
    assert pages["/files/a/b"] == "files/a/b/index.html"
    assert pages["/fine"] == "fine/index.html"
    # And in a site that builds: the file lands where the path says.
    site = site_copy("blog")
    assert build(site).returncode == 0
    assert "docs a/b" in (site.parent / "out" / "docs" / "a" / "b" / "index.html").read_text()


def test_unsafe_crawled_links_are_refused_before_any_load_sees_them(site_copy, tmp_path):
    site = site_copy("unsafe-links")
    result = build(site)
    assert result.returncode == 1
    assert set(problems(result.stderr)) == {
        "error: '/files/../../../escape' cannot be built: it has a '..' segment (linked from /)",
        "error: '/files/a/../../../escape' cannot be built: it has a '..' segment (linked from /)",
        "error: '/files/a//b' cannot be built: it has an empty segment (linked from /)",
        "error: '/files/a\\x00b' cannot be built: it contains NUL (linked from /)",
        "error: '/files/a\\\\b' cannot be built: it contains a backslash (linked from /)",
    }
    assert "a load saw" not in result.stderr
    assert "Traceback" not in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["unsafe-links"]


def test_two_routes_whose_files_collide_are_reported_not_crashed(site_copy):
    result = build(site_copy("collision"))
    assert result.returncode == 1
    assert "Traceback (most recent call last)" not in result.stderr
    found = problems(result.stderr)
    assert list(found) == [
        "error: feed/x/index.html would be written inside feed, which the build already wrote as a file; rename one of the routes"
    ]
    assert "route /feed/x" in found[next(iter(found))]


def test_matcher_that_raises_on_a_crawled_link_is_reported_with_its_file_and_line(site_copy):
    result = build(site_copy("matcher-raises"))
    assert result.returncode == 1
    assert "Traceback (most recent call last)" not in result.stderr
    found = problems(result.stderr)
    block = found["error: 500 /n/abc: ValueError: invalid literal for int() with base 10: 'abc'"]
    assert "at params/positive.py:2" in block and "reached via /" in block
    assert len(found) == 1


# -- 9, 10. problems found before anything runs ------------------------------------------------


def test_manifest_error_stops_the_build_before_user_code_runs(site_copy, tmp_path):
    site = site_copy("manifest-error")
    result = build(site, "--report", str(tmp_path / "report.json"), env=clean_env(GITHUB_ACTIONS="true"))
    assert result.returncode == 1
    message = "routes/orphan/+page.py has no +page.html beside it; add the template (or a +server.py)"
    assert list(problems(result.stderr)) == [f"error: {message}"]
    assert not (site / "imported.marker").exists(), "no +page.py may be imported when the manifest is bad"
    assert not (site.parent / "out").exists()
    # CI still gets its report and annotation.
    report = json.loads((tmp_path / "report.json").read_text())
    assert [(e["kind"], e["file"], e["message"]) for e in report["errors"]] == [("manifest", "routes/orphan/+page.py", message)]
    assert result.stdout.splitlines() == [f"::error file=routes/orphan/+page.py::{message}"]


def test_config_errors_are_all_reported_with_exit_2(site_copy):
    site = site_copy("config-error")
    result = build(site)
    assert result.returncode == 2
    assert "unknown key orign (did you mean origin?)" in result.stderr
    assert "prerender.crawl must be true or false, not 'yes'" in result.stderr
    assert not (site.parent / "out").exists()


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(["--jobs", "0"], id="jobs-0"),
        pytest.param(["--jobs", "many"], id="jobs-not-a-number"),
        pytest.param(["--bogus"], id="unknown-flag"),
    ],
)
def test_bad_usage_exits_2_and_builds_nothing(site_copy, args):
    site = site_copy("blog")
    result = build(site, *args)
    assert result.returncode == 2, result.stderr
    assert "usage" in result.stderr or "--jobs" in result.stderr
    assert not (site.parent / "out").exists()


@pytest.mark.parametrize(
    "out",
    [
        pytest.param(".", id="the-site-itself"),
        pytest.param("..", id="a-folder-holding-the-site"),
        pytest.param("routes", id="routes"),
        pytest.param("static/built", id="inside-static"),
    ],
)
def test_output_folder_that_would_replace_the_sources_is_refused(site_copy, out):
    # The build swaps the whole output folder: --out . would delete routes/ and the config.
    site = site_copy("blog")
    before = snapshot(site.parent)
    result = run_ssg("build", "-C", str(site), "--out", out, env=clean_env())
    assert result.returncode == 2, result.stderr
    assert "Choose a folder of its own, e.g. --out build." in result.stderr
    assert snapshot(site.parent) == before


# -- 11. reports for CI -----------------------------------------------------------------------


def test_an_output_folder_no_build_wrote_or_a_file_is_refused(tmp_path):
    from sitekit import write_site

    site = write_site(tmp_path / "site", {
        "lib/__init__.py": "",
        "lib/notes.py": "NOTES = {}\n",
        "helpers/names.py": "NAMES = []\n",  # a folder of modules without __init__.py
        "docs/notes.md": "kept by hand",
        "pages/404.html": "an earlier deploy, cloned",
        "pages/.git/HEAD": "ref: refs/heads/gh-pages\n",
        "notes.txt": "mine",
        "routes/+page.py": "from lib.notes import NOTES\n\ndef load(event):\n    return {'n': len(NOTES)}\n",
        "routes/+page.html": "{{ data.n }}",
    })
    before = snapshot(site)
    why_foreign = "has files but no 404.html, which every build writes"
    cases = (("lib", why_foreign), ("helpers", why_foreign), ("docs", why_foreign), ("pages", "holds a repository (.git)"), ("notes.txt", "is a file"))
    for out, why in cases:
        result = run_ssg("build", "-C", str(site), "--out", out, "--report", str(tmp_path / "r.json"), env=clean_env())
        assert result.returncode == 2, result.stderr
        assert f"the output folder {site / out} {why}" in result.stderr
        assert not (tmp_path / "r.json").exists()  # no empty report left behind
    assert snapshot(site) == before


def test_an_output_whose_404_html_was_deleted_is_still_the_builds_own(tmp_path):
    """The build cache says which folder the last build wrote: without its 404.html it is
    still that build's output, put right by the next build; another folder is still refused."""
    from sitekit import write_site

    site = write_site(tmp_path / "site", {"routes/+page.html": "home"})
    out = tmp_path / "out"
    assert build(site, out=out).returncode == 0
    for args in ((), ("--fresh",)):
        (out / "404.html").unlink()
        result = run_ssg("build", "-C", str(site), "--out", str(out), *args, env=clean_env())
        assert result.returncode == 0, result.stderr
        assert (out / "404.html").is_file() and (out / "index.html").read_text() == "home"
        if not args:
            assert result.stderr.rstrip().endswith("1 of 1 paths reused from the build cache"), result.stderr
    other = tmp_path / "other"
    other.mkdir()
    (other / "index.html").write_text("mine")
    result = run_ssg("build", "-C", str(site), "--out", str(other), env=clean_env())
    assert result.returncode == 2 and "has files but no 404.html" in result.stderr, result.stderr
    assert (other / "index.html").read_text() == "mine"


def test_a_report_path_that_cannot_be_written_is_refused_before_the_build(tmp_path):
    from sitekit import write_site

    site = write_site(tmp_path / "site", {"routes/+page.html": "home"})
    out = tmp_path / "out"
    assert build(site, out=out).returncode == 0
    before = snapshot(out)
    (site / "routes/+page.html").write_text("changed")
    (tmp_path / "afile").write_text("mine")
    cases = (
        (tmp_path, "is a folder"),
        (tmp_path / "afile/sub/r.json", "afile is a file, not a folder"),
        (tmp_path / ("r" * 300 + ".json"), "cannot be written: File name too long"),
        (Path("/proc/ssg-report.json"), "cannot be written"),
    )
    for report, why in cases:
        result = build(site, "--report", str(report), out=out)
        assert result.returncode == 2 and why in result.stderr and "Traceback" not in result.stderr
    assert snapshot(out) == before


def test_the_sites_own_redirects_and_headers_come_first_in_the_files_the_build_writes(tmp_path):
    from sitekit import write_site

    site = write_site(tmp_path / "site", {
        "routes/+page.html": '<a href="/old/">old</a> <a href="/new/">new</a>',
        "routes/old/+page.py": "from ssg import redirect\n\ndef load(event):\n    redirect(301, '/new/')\n",
        "routes/old/+page.html": "",
        "routes/new/+page.py": "def load(event):\n    event.set_headers({'cache-control': 'no-store'})\n",
        "routes/new/+page.html": "new",
        "static/_redirects": "/blog/* /posts/:splat 301",
        "static/_headers": "/*\n  X-Frame-Options: DENY\n",
    })
    result = build(site, out=tmp_path / "out")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "out/_redirects").read_text() == "/blog/* /posts/:splat 301\n/old/ /new/ 301\n"
    assert (tmp_path / "out/_headers").read_text() == "/*\n  X-Frame-Options: DENY\n/new/\n  Cache-Control: no-store\n"


def test_report_json_lists_pages_warnings_and_errors(site_copy, tmp_path):
    report_file = tmp_path / "reports" / "build.json"
    failing = build(site_copy("load-exception"), "--report", str(report_file))
    assert failing.returncode == 1
    report = json.loads(report_file.read_text())
    assert report["ok"] is False
    assert [p["path"] for p in report["pages"]] == ["/", "/posts", "/posts/c"]
    assert report["pages"][2] == {"path": "/posts/c", "kind": "page", "status": 200, "route": "/posts/[slug]", "file": "posts/c/index.html"}
    assert report["warnings"] == []
    first = report["errors"][0]
    assert first["message"] == "500 /posts/a: KeyError: 'a'"
    assert (first["route"], first["params"], first["file"], first["line"]) == ("/posts/[slug]", {"slug": "a"}, "routes/posts/[slug]/+page.py", 5)
    assert first["linked_from"] == ["/posts/"]
    assert [(f["file"], f["line"], f["name"]) for f in first["traceback"]] == [
        ("routes/posts/[slug]/+page.py", 9, "load"), ("routes/posts/[slug]/+page.py", 5, "title_of"),
    ]

    site = site_copy("missing-id")
    set_config(site, '[prerender]\non_missing_id = "warn"\n')
    warned = build(site, "--report", str(report_file))
    assert warned.returncode == 0
    report = json.loads(report_file.read_text())
    assert report["ok"] is True and report["errors"] == []
    assert [w["message"] for w in report["warnings"]] == ["#nope is not an id on /page/ (linked from /)"]


def test_github_actions_gets_error_annotations(site_copy):
    site = site_copy("load-exception")
    plain = build(site)
    assert "::error" not in plain.stdout + plain.stderr
    result = build(site, env=clean_env(GITHUB_ACTIONS="true"))
    assert result.returncode == 1
    annotations = [line for line in result.stdout.splitlines() if line.startswith("::")]
    assert annotations == [
        "::error file=routes/posts/[slug]/+page.py,line=5::500 /posts/a: KeyError: 'a'",
        "::error file=routes/posts/[slug]/+page.py,line=5::500 /posts/b: KeyError: 'b'",
    ]


def test_a_static_file_that_cannot_be_copied_is_an_error_and_keeps_the_output(tmp_path):
    """A link to nothing in static/ (or a file an editor moved away while the build ran)
    is a reported error naming the file, not a traceback; the previous output stays."""
    from sitekit import write_site

    site = write_site(tmp_path / "site", {"routes/+page.html": "home", "static/site.css": "a {}"})
    out = tmp_path / "out"
    assert build(site, out=out).returncode == 0
    before = snapshot(out)
    (site / "static/gone.css").symlink_to(site / "static/nowhere.css")
    (site / "static/site.css").write_text("b {}")
    result = build(site, out=out)
    assert result.returncode == 1, result.stderr
    assert "static/gone.css could not be copied: No such file or directory" in result.stderr
    assert "Traceback" not in result.stderr
    assert snapshot(out) == before


def test_an_unseen_route_after_failed_pages_says_they_may_hold_the_link(site_copy):
    """The page that links to a dynamic route failed: the route is unseen, and the error
    says the failure above may be why, so the reader starts with that one."""
    site = site_copy("unseen-route")
    (site / "routes/+page.py").write_text("def load(event):\n    return {'n': 1 / 0}\n")
    (site / "routes/+page.html").write_text('<a href="/items/1">one</a>')
    result = build(site)
    assert result.returncode == 1
    found = problems(result.stderr)
    assert any(p.startswith("error: 500 /: ") for p in found), result.stderr
    (line,) = [p for p in found if "dynamic route /items/[id]" in p]
    assert "was not reached by the crawl (a link to it may be on a page that failed or was not built)." in line
    (site / "routes/+page.py").unlink()
    result = build(site)
    assert result.returncode == 0, result.stderr
    # A link to a page that is not there (404, ignored by the config) holds no link itself.
    set_config(site, '[prerender]\non_http_error = "ignore"\n')
    (site / "routes/+page.html").write_text('<a href="/nowhere">x</a>')
    (line,) = [p for p in problems(build(site).stderr) if "dynamic route /items/[id]" in p]
    assert "was not reached by the crawl. Return" in line
