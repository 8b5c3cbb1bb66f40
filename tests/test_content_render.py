"""A page rendered from a fixture post matches its expected HTML, byte for byte.

tests/fixtures/content/site/ is a small site (CRLF line endings in the post, a schema,
a link to another note); tests/fixtures/content/expected/ holds the page as reviewed.
If a Pygments or markdown-it upgrade changes the output on purpose, review the diff and
replace the expected file.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from conftest import run_ssg
from sitekit import open_site, render

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "content"
EXPECTED = (FIXTURES / "expected" / "notes-fixture.html").read_text("utf-8")


def test_fixture_post_renders_to_the_expected_html(tmp_path):
    root = tmp_path / "site"
    shutil.copytree(FIXTURES / "site", root)
    r = render(open_site(root), "/notes/fixture")
    assert r.status == 200, r.failure
    assert r.body.decode("utf-8") == EXPECTED
    assert sorted(r.deps) == sorted([
        "content/notes/_collection.yaml", "content/notes/fixture.md", "content/notes/fixture.md#front-matter",
        "content/notes/fixture/index.md",  # get("fixture") reads fixture.md: one added here would clash
        "content/notes/fixture.md#summary",
        "content/notes/other.md#front-matter",  # linked from the body: whether it is there, and a draft
        "routes/+layout.html", "routes/notes/[slug]/+page.html", "routes/notes/[slug]/+page.py",
        "routes/notes/[slug]/+page.py#trailing_slash",  # the body links to a post: that route's URL form
    ])


def test_fixture_site_builds_through_the_command_line(tmp_path):
    root = tmp_path / "site"
    shutil.copytree(FIXTURES / "site", root)
    result = run_ssg("build", "-C", str(root), "--out", str(tmp_path / "out"))
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "out" / "notes" / "fixture" / "index.html").read_text("utf-8") == EXPECTED
    assert (tmp_path / "out" / "notes" / "other" / "index.html").is_file()
