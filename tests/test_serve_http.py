"""SPEC §7: `ssg serve` answers from the sources what `ssg build` would write, at the same URLs."""

from __future__ import annotations

import json
import os
import re

import httpx
import pytest

from conftest import run_ssg
from servekit import Server, copy_fixture, edit, wait_until

EPOCH = {"SOURCE_DATE_EPOCH": "1700000000"}
SCRIPT = re.compile(rb'<script src="/__ssg/livereload\.js" data-version="\d+"></script>')


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    return copy_fixture(tmp_path_factory.mktemp("serve-http"))


@pytest.fixture(scope="module")
def server(site):
    with Server("serve", site, env=EPOCH) as server:
        yield server


@pytest.fixture(scope="module")
def client(server):
    with httpx.Client(base_url=server.base, follow_redirects=False, timeout=10) as client:
        yield client


def test_serve_answers_every_built_file_with_the_same_bytes(site, server, client, tmp_path):
    """What serve shows is what build writes: pages (but for the live-reload tag), their
    __data.json and endpoint bodies, URL for URL, with the same time stamp source."""
    out = tmp_path / "out"
    result = run_ssg("build", "-C", str(site), "--out", str(out), env={**os.environ, **EPOCH})
    assert result.returncode == 0, result.stderr
    files = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    compared = 0
    for rel in files:
        if rel in ("404.html", "_headers", "_redirects") or rel.startswith(".") or "/." in rel:
            continue
        if rel.endswith("index.html"):
            url = "/" + rel[: -len("index.html")]
        else:
            url = "/" + (rel.removesuffix(".html") if rel == "never.html" else rel)
        response = client.get(url)
        built = (out / rel).read_bytes()
        if rel == "old/index.html":
            assert response.status_code == 302 and response.headers["location"] == "/about/"
            continue
        assert response.status_code == 200, (url, response.status_code, response.text[:300])
        body = SCRIPT.sub(b"", response.content)
        assert body == built, f"{url} differs from the built {rel}"
        compared += 1
    assert compared >= 12


def test_static_files_have_their_content_types(client):
    assert client.get("/style.css").headers["content-type"] == "text/css; charset=utf-8"
    assert client.get("/img/dot.svg").headers["content-type"] == "image/svg+xml"
    assert client.get("/robots.txt").headers["content-type"] == "text/plain; charset=utf-8"
    head = client.head("/style.css")
    assert head.status_code == 200 and head.content == b""
    assert int(head.headers["content-length"]) == len(client.get("/style.css").content)


def test_endpoints_and_pages_keep_their_types(client):
    assert client.get("/api/notes.json").headers["content-type"] == "application/json"
    assert client.get("/feed").headers["content-type"] == "application/atom+xml"
    assert client.get("/notes/first/__data.json").headers["content-type"] == "application/json"
    page = client.get("/about/")
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert page.headers["cache-control"] == "no-store"


@pytest.mark.parametrize(
    "path, location",
    [
        ("/about", "/about/"),
        ("/about?x=1&y=%C3%A9", "/about/?x=1&y=%C3%A9"),
        ("/notes/first", "/notes/first/"),
        ("/never/", "/never"),
        ("/feed/", "/feed"),
        ("/notes/caf%C3%A9", "/notes/caf%C3%A9/"),
    ],
    ids=["to-slash", "keeps-query", "dynamic", "never-drops-slash", "endpoint-drops-slash", "encoded"],
)
def test_trailing_slash_redirects_to_the_canonical_form(client, path, location):
    response = client.get(path)
    assert response.status_code == 308
    assert response.headers["location"] == location


def test_no_redirect_for_canonical_paths_and_data_files(client):
    assert client.get("/never").status_code == 200
    assert client.get("/about/").status_code == 200
    assert client.get("/about/__data.json").status_code == 200
    assert client.get("/__data.json").json()["route"] == "/"


def test_entries_props_reach_load_in_serve(client):
    assert client.get("/notes/second/__data.json").json()["data"]["rank"] == 2
    assert '<p id="rank">1</p>' in client.get("/notes/first/").text


def test_redirect_from_a_load(client):
    response = client.get("/old/")
    assert response.status_code == 302
    assert response.headers["location"] == "/about/"
    data = client.get("/old/__data.json")
    assert data.status_code == 404 and data.json()["type"] == "error"


def test_a_redirect_with_a_query_and_a_fragment_answers_the_location_the_build_writes(tmp_path):
    from sitekit import write_site

    site = write_site(tmp_path / "site", {
        "routes/+page.html": '<a href="/old/">old</a>',
        "routes/old/+page.py": 'from ssg import redirect\n\ndef load(event):\n    redirect(302, "/about/?tab=2#top")\n',
        "routes/old/+page.html": "",
        "routes/about/+page.html": '<h1 id="top">About</h1>',
    })
    result = run_ssg("build", "-C", str(site), "--out", str(tmp_path / "out"), env={**os.environ, **EPOCH})
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "out/_redirects").read_text().split() == ["/old/", "/about/?tab=2#top", "302"]
    with Server("serve", site, env=EPOCH) as server, httpx.Client(base_url=server.base, timeout=10) as client:
        response = client.get("/old/")
        assert response.status_code == 302 and response.headers["location"] == "/about/?tab=2#top"


def test_depends_from_loads_and_their_awaitables_are_in_the_same_order_as_in_the_build(tmp_path):
    from sitekit import write_site

    site = write_site(tmp_path / "site", {
        "routes/+layout.py": (
            "async def helper(event):\n    event.depends('app:layout')\n    return 1\n\n"
            "def load(event):\n    return {'l': helper(event)}\n"
        ),
        "routes/+layout.html": "<main>{{ slot }}</main>",
        "routes/+page.py": "def load(event):\n    event.depends('app:page')\n    return {}\n",
        "routes/+page.html": "{{ data.l }}",
    })
    result = run_ssg("build", "-C", str(site), "--out", str(tmp_path / "out"), "--jobs", "1", env={**os.environ, **EPOCH})
    assert result.returncode == 0, result.stderr
    built = json.loads((tmp_path / "out/__data.json").read_text())["depends"]
    assert sorted(built) == ["app:layout", "app:page"]
    with Server("serve", site, env=EPOCH) as server, httpx.Client(base_url=server.base, timeout=10) as client:
        assert client.get("/__data.json").json()["depends"] == built


def test_an_index_html_in_static_is_served_at_its_folder_as_a_static_host_does(tmp_path):
    from sitekit import write_site

    site = write_site(tmp_path / "site", {
        "routes/+page.html": "home",
        "static/guide/index.html": "<p>the guide</p>",
        "static/index.html": "the build refuses this beside routes/+page.html",
        "routes/[page]/+page.py": "def entries():\n    return [{'page': 'a'}]\n",
        "routes/[page]/+page.html": "page {{ page.params.page }}",
    })
    with Server("serve", site, env=EPOCH) as server, httpx.Client(base_url=server.base, follow_redirects=False, timeout=10) as client:
        folder = client.get("/guide/")
        assert folder.status_code == 200 and SCRIPT.sub(b"", folder.content) == b"<p>the guide</p>"
        bare = client.get("/guide?x=1")
        assert bare.status_code == 308 and bare.headers["location"] == "/guide/?x=1"
        assert client.get("/guide/index.html").status_code == 200
        assert SCRIPT.sub(b"", client.get("/").content) == b"home"  # a route answers first
        assert SCRIPT.sub(b"", client.get("/a/").content) == b"page a"  # not /guide/: a param entries() does not list


def test_page_headers_from_set_headers(client):
    response = client.get("/headers/")
    assert response.headers["x-fixture"] == "yes"


def test_unknown_path_is_the_sites_404_page(client):
    response = client.get("/no/such/page/")
    assert response.status_code == 404
    assert '<h1 id="status">404</h1>' in response.text
    missing_note = client.get("/notes/nope/")
    assert missing_note.status_code == 404 and "No such note" in missing_note.text
    assert client.get("/notes/nope/__data.json").status_code == 404


def test_prerender_false_routes_render_live_with_the_request(client):
    first = client.get("/live/?q=one", headers={"x-agent": "tester"})
    assert '<p id="q">one</p>' in first.text and '<p id="agent">tester</p>' in first.text
    assert '<p id="q">two</p>' in client.get("/live/?q=two").text
    assert client.get("/live/__data.json?q=three").json()["data"]["q"] == "three"


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH"])
def test_server_handlers_read_json_bodies(client, method):
    response = client.request(method, "/api/echo?page=2", json={"title": "x", "tags": [1, 2]})
    assert response.status_code == 200
    assert response.json() == {"method": method, "query": {"page": "2"}, "body": {"title": "x", "tags": [1, 2]}}


def test_server_handlers_read_forms(client):
    urlencoded = client.post("/api/echo", data={"name": "Ada", "lang": "en"}).json()
    assert urlencoded["body"] == {"name": "Ada", "lang": "en"}
    multipart = client.post("/api/echo", data={"name": "Ada"}, files={"file": ("a.txt", b"12345", "text/plain")}).json()
    assert multipart["body"] == {"name": "Ada", "file": {"filename": "a.txt", "size": 5}}


def test_bad_json_body_is_a_400_not_a_crash(client):
    response = client.post("/api/echo", content=b"{not json", headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert "not valid JSON" in response.text


def test_missing_method_is_405_with_allow(client):
    response = client.delete("/api/echo")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, HEAD, PATCH, POST, PUT"
    assert client.delete("/api/notes.json").headers["allow"] == "GET, HEAD, POST"
    page = client.post("/about/")
    assert page.status_code == 405 and page.headers["allow"] == "GET, HEAD"
    assert client.post("/api/notes.json").json() == {"posted": True}


def test_html_gets_the_live_reload_script_and_other_types_do_not(client):
    assert SCRIPT.search(client.get("/about/").content)
    assert SCRIPT.search(client.get("/no/such/").content)
    assert not SCRIPT.search(client.get("/api/notes.json").content)
    script = client.get("/__ssg/livereload.js")
    assert script.status_code == 200 and "WebSocket" in script.text
    assert script.headers["content-type"] == "text/javascript; charset=utf-8"


def test_a_failing_load_shows_file_line_and_escaped_traceback(server, client):
    response = client.get("/boom/")
    assert response.status_code == 500
    text = response.text
    assert "routes/boom/+page.py:5" in text
    assert "&lt;script&gt;alert(&#x27;boom&#x27;)&lt;/script&gt;" in text
    assert "<script>alert(" not in text
    assert "Traceback" in text and "in load" in text
    assert SCRIPT.search(response.content), "the error page reloads itself when fixed"


def test_a_failure_is_printed_once_not_once_per_request(server, client):
    for _ in range(4):
        assert client.get("/boom/").status_code == 500
    assert client.get("/boom/__data.json").status_code == 500
    wait_until(lambda: "error: 500 /boom" in server.output, what="the error in the terminal")
    assert client.get("/about/").status_code == 200  # the server answered after the errors were printed
    assert server.output.count("error: 500 /boom") == 1, server.output


def test_an_endpoint_failure_is_text_with_file_and_line(site, server, client):
    handler = site / "routes" / "api" / "notes.json" / "+server.py"
    original = handler.read_text()
    try:
        edit(handler, original.replace('return json({"posted": True})', 'return json({"posted": 1 / 0})'))
        response = wait_until(lambda: (r := client.post("/api/notes.json")).status_code == 500 and r, what="the endpoint to fail")
        assert response.headers["content-type"].startswith("text/plain")
        assert "ZeroDivisionError" in response.text and "routes/api/notes.json/+server.py:11" in response.text
    finally:
        edit(handler, original)
    wait_until(lambda: client.post("/api/notes.json").status_code == 200, what="the endpoint to recover")


def test_data_json_is_the_envelope(client):
    envelope = client.get("/notes/first/__data.json").json()
    assert envelope["type"] == "data"
    assert envelope["route"] == "/notes/[slug]"
    assert envelope["params"] == {"slug": "first"}
    assert envelope["generated_at"] == "2023-11-14T22:13:20Z"
    assert envelope["data"]["title"] == "First note"
    assert json.loads(client.get("/never/__data.json").text)["data"]["title"] == "Never"
