"""Hostile content through the whole pipeline: a clear error naming the file (and line), or safe output."""

from __future__ import annotations

import json
import time

import pytest
from sitekit import open_site, render, write_site

ROUTES = {
    "routes/+layout.html": "<main>{{ slot }}</main>",
    "routes/blog/[slug]/+page.py": """
        from ssg.content import collection

        def load(event):
            return {"post": collection("blog").get(event.params["slug"])}
    """,
    "routes/blog/[slug]/+page.html": "<h1>{{ data.post.title }}</h1>{{ data.post.html }}{{ data_script() }}",
    "content/blog/_collection.yaml": "route: /blog/[slug]\n",
}
BOMB = "\n".join(
    ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    + [f"{n}: &{n} [" + ",".join([f"*{p}"] * 9) + "]" for p, n in zip("abcdefgh", "bcdefghi")]
)


def build_post(tmp_path, content: str | bytes):
    root = write_site(tmp_path / "site", ROUTES)
    path = root / "content/blog/evil.md"
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return render(open_site(root), "/blog/evil")


@pytest.mark.parametrize("content, line, words", [
    ("---\ntitle: x\nrun: !!python/object/apply:os.system ['touch /tmp/pwned']\n---\n", 3, "!!python/object/apply:os.system is not allowed"),
    (f"---\ntitle: x\n{BOMB}\n---\n", None, "alias bomb"),
    ("---\ntitle: x\ntags: [a, b\n---\nbody\n", 3, "invalid YAML in front matter"),
    ("---\n- title\n- x\n---\n", 2, "front matter must be a mapping"),
    ("---\ntitle: x\n\nNo closing line.\n", 1, "never closed"),
    ("---\ntitle: 2024-02-30\n---\n", 2, "not a valid date"),
    ("\ufeff---\r\ntitle: x\r\n\r\nbad: [\r\n---\r\n".encode("utf-8"), 4, "invalid YAML"),
    ("---\ntitle: x\n---\nutf-16 body".encode("utf-16"), None, "is UTF-16 text"),
    (b"---\ntitle: x\n---\n\x00\x01\x02binary", 4, "is a binary file"),
], ids=["python-tag", "alias-bomb", "invalid-yaml", "list", "no-closing", "bad-date", "bom-crlf", "utf16", "binary"])
def test_bad_content_fails_the_page_naming_file_and_line(tmp_path, content, line, words):
    started = time.perf_counter()
    r = build_post(tmp_path, content)
    assert time.perf_counter() - started < 5, "hostile input fails fast"
    assert r.status == 500
    assert r.failure.file == "content/blog/evil.md"
    if line is not None:
        assert r.failure.line == line
        assert f"content/blog/evil.md:{line}: " in r.failure.message
    else:
        assert r.failure.message.startswith("content/blog/evil.md")
    assert words in r.failure.message
    assert r.failure.exception in ("ContentError", "ContentErrors")


def test_an_alias_bomb_names_a_line_in_the_file(tmp_path):
    r = build_post(tmp_path, f"---\ntitle: x\n{BOMB}\n---\n")
    assert 3 <= r.failure.line <= 12


def test_a_dash_line_in_a_code_block_renders_as_code(tmp_path):
    r = build_post(tmp_path, "---\ntitle: Code\n---\n```yaml\n---\ntitle: not front matter\n---\n```\n")
    assert r.status == 200, r.failure
    assert "<h1>Code</h1>" in r.body.decode()
    assert "---" in r.body.decode() and "not front matter" in r.body.decode()


def test_a_10000_level_nested_list_renders(tmp_path):
    r = build_post(tmp_path, "---\ntitle: Deep\n---\n" + "- " * 10_000 + "x\n\n" + "> " * 10_000 + "y\n")
    assert r.status == 200, r.failure
    assert "<ul>" in r.body.decode()


def test_script_breaking_text_in_a_title_is_safe_in_data_script_and_data_json(tmp_path):
    title = 'Evil </script><!-- <script>alert(1)</script> \u2028 \u2029 "quoted"'
    r = build_post(tmp_path, "---\ntitle: " + json.dumps(title) + "\n---\nBody.\n")
    assert r.status == 200, r.failure
    html = r.body.decode()
    script = html[html.index('<script type="application/json" id="ssg-data">'):]
    inside = script[len('<script type="application/json" id="ssg-data">'):script.index("</script>")]
    assert "</script" not in inside.lower() and "<!--" not in inside and "\u2028" not in inside and "\u2029" not in inside
    assert json.loads(inside)["data"]["post"]["title"] == title
    assert "<h1>Evil &lt;/script&gt;&lt;!-- &lt;script&gt;" in html, "the template escapes the title"
    # __data.json is the envelope as written: it parses back to the same title.
    envelope = json.loads(json.dumps(r.envelope, ensure_ascii=False))
    assert envelope["data"]["post"]["title"] == title
    assert envelope["data"]["post"]["data"]["title"] == title


def test_javascript_links_are_not_emitted_but_raw_html_is_kept(tmp_path):
    r = build_post(tmp_path, "---\ntitle: x\n---\n[a](javascript:alert(1)) <javascript:alert(2)> [b][r]\n\n"
                             "[r]: JavaScript:alert(3)\n\n<em class=\"raw\">raw</em>\n")
    assert r.status == 200, r.failure
    html = r.body.decode().lower()
    assert 'href="javascript' not in html
    assert '<em class="raw">raw</em>' in html


def test_script_breaking_title_survives_a_real_build(tmp_path):
    from conftest import run_ssg

    title = "Evil </script><!-- \u2028 end"
    root = write_site(tmp_path / "site", {**ROUTES, "routes/+page.html": "<a href='/blog/evil'>evil</a>"})
    (root / "content/blog/evil.md").write_text("---\ntitle: " + json.dumps(title) + "\n---\nBody.\n", "utf-8")
    result = run_ssg("build", "-C", str(root), "--out", str(tmp_path / "out"))
    assert result.returncode == 0, result.stderr
    data = json.loads((tmp_path / "out/blog/evil/__data.json").read_text("utf-8"))
    assert data["data"]["post"]["title"] == title
    html = (tmp_path / "out/blog/evil/index.html").read_text("utf-8")
    script = html.split('<script type="application/json" id="ssg-data">', 1)[1].split("</script>", 1)[0]
    assert "<!--" not in script and "\u2028" not in script
    assert json.loads(script)["data"]["post"]["title"] == title
