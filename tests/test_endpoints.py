"""SPEC §4: +server.py endpoints baked to files per parameter set, with _headers."""

from __future__ import annotations

import json
import os

from conftest import run_ssg
from sitekit import open_site, render, write_site

FILES = {
    "routes/+page.html": '<a href="/api/posts.json">all</a> <a href="/feed">feed</a> <a href="/raw/notes.txt">notes</a>',
    "routes/api/posts.json/+server.py": """
        from ssg import json

        def GET(event):
            return json([{"slug": "a"}, {"slug": "b"}])
    """,
    "routes/api/posts/[slug].json/+server.py": """
        from ssg import json

        def entries():
            return [{"slug": "a"}, {"slug": "b"}]

        def GET(event):
            return json({"slug": event.params["slug"]}, headers={"cache-control": "max-age=60"})
    """,
    "routes/feed/+server.py": """
        from ssg import Response

        def GET(event):
            return Response("<feed/>", headers={"content-type": "application/atom+xml"})

        def POST(event):
            return Response("posted")
    """,
    "routes/raw/notes.txt/+server.py": """
        from ssg import text

        def GET(event):
            return text("plain notes")
    """,
}


def test_endpoints_are_baked_per_parameter_set_with_headers(tmp_path):
    root = write_site(tmp_path / "s", FILES)
    result = run_ssg("build", "-C", str(root))
    assert result.returncode == 0, result.stderr
    out = root / "build"
    assert json.loads((out / "api/posts.json").read_text()) == [{"slug": "a"}, {"slug": "b"}]
    assert json.loads((out / "api/posts/b.json").read_text()) == {"slug": "b"}
    assert (out / "feed").read_text() == "<feed/>"
    assert (out / "raw/notes.txt").read_text() == "plain notes"
    # Only what the file name does not imply goes into _headers (.json and .txt do).
    assert (out / "_headers").read_text() == (
        "/api/posts/a.json\n  Cache-Control: max-age=60\n"
        "/api/posts/b.json\n  Cache-Control: max-age=60\n"
        "/feed\n  Content-Type: application/atom+xml\n"
    )
    assert "5 endpoints" in result.stderr


def test_missing_method_is_405_with_allow(tmp_path):
    site = open_site(write_site(tmp_path / "s", FILES))
    r = render(site, "/feed", method="DELETE")
    assert (r.status, r.headers["allow"]) == (405, "GET, POST")


def test_endpoint_must_return_a_response(tmp_path):
    site = open_site(write_site(tmp_path / "s", {
        "routes/x.json/+server.py": "def GET(event):\n    return {'not': 'a response'}\n",
    }))
    r = render(site, "/x.json")
    assert r.status == 500
    assert "routes/x.json/+server.py: GET() must return a Response (use json(...) or text(...)), not dict" in r.failure.message


def test_page_set_headers_reach_headers_file(tmp_path):
    root = write_site(tmp_path / "s", {
        "routes/+page.py": "def load(event):\n    event.set_headers({'X-Robots-Tag': 'noindex'})\n",
        "routes/+page.html": "home",
    })
    assert run_ssg("build", "-C", str(root)).returncode == 0
    assert (root / "build/_headers").read_text() == "/\n  X-Robots-Tag: noindex\n"


def test_headers_do_not_depend_on_the_machines_mime_types(tmp_path):
    # A CI image's /etc/mime.types may name other types than a laptop's (.xml as text/xml
    # or application/xml): _headers must come out the same on both.
    root = write_site(tmp_path / "s", {
        "routes/+page.html": '<a href="/feed.xml">feed</a> <a href="/data.json">data</a>',
        "routes/feed.xml/+server.py": """
            from ssg import Response

            def GET(event):
                return Response("<feed/>", headers={"content-type": "application/xml"})
        """,
        "routes/data.json/+server.py": "from ssg import json\n\ndef GET(event):\n    return json([1])\n",
    })
    machine = write_site(tmp_path / "machine", {
        "mime.types": "text/xml xml\ntext/x-json json\n",
        "sitecustomize.py": f"import mimetypes\nmimetypes.init([{str(tmp_path / 'machine' / 'mime.types')!r}])\n",
    })
    headers = []
    for env in ({}, {"PYTHONPATH": os.pathsep.join(filter(None, [str(machine), os.environ.get("PYTHONPATH")]))}):
        result = run_ssg("build", "--fresh", "-C", str(root), env={**os.environ, **env})
        assert result.returncode == 0, result.stderr
        headers.append((root / "build/_headers").read_text() if (root / "build/_headers").exists() else "")
    assert headers == ["", ""]
