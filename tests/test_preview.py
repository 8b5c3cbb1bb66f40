"""SPEC §7: `ssg preview` serves a finished build/ as a static host would."""

from __future__ import annotations

import httpx
import pytest

from conftest import run_ssg
from servekit import Server, copy_fixture, wait_until

EXTRA_REDIRECTS = """
# added by the test, as a user would for their host
/blog/*      /notes/:splat      301
/go/:slug    /notes/:slug/      307
/rewrite     /about/            200
/gone        /about/            404
/elsewhere   https://example.com/there   302
"""
EXTRA_HEADERS = """
/*
  X-Frame-Options: DENY
  Cache-Control: public
/about/*
  ! X-Frame-Options
"""


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    root = copy_fixture(tmp_path_factory.mktemp("preview"))
    result = run_ssg("build", "-C", str(root))
    assert result.returncode == 0, result.stderr
    out = root / "build"
    with open(out / "_redirects", "a") as f:
        f.write(EXTRA_REDIRECTS)
    with open(out / "_headers", "a") as f:
        f.write(EXTRA_HEADERS)
    return root


@pytest.fixture(scope="module")
def server(site):
    with Server("preview", site) as server:
        yield server


@pytest.fixture(scope="module")
def client(server):
    with httpx.Client(base_url=server.base, follow_redirects=False, timeout=10) as client:
        yield client


def test_pages_and_files_with_their_types(client, site):
    home = client.get("/")
    assert home.status_code == 200 and home.headers["content-type"] == "text/html; charset=utf-8"
    assert home.content == (site / "build/index.html").read_bytes(), "preview serves the build as it is"
    assert client.get("/style.css").headers["content-type"] == "text/css; charset=utf-8"
    assert client.get("/img/dot.svg").headers["content-type"] == "image/svg+xml"
    assert client.get("/api/notes.json").headers["content-type"] == "application/json"
    assert client.get("/about/__data.json").json()["route"] == "/about"
    assert client.head("/about/").content == b""


@pytest.mark.parametrize(
    "path, location",
    [("/about", "/about/"), ("/notes/first?x=1", "/notes/first/?x=1"), ("/never/", "/never")],
    ids=["add-slash", "keeps-query", "drop-slash-for-never"],
)
def test_trailing_slash_redirects_are_same_origin(client, path, location):
    response = client.get(path)
    assert response.status_code == 308
    assert response.headers["location"] == location
    assert response.headers["location"].startswith("/") and not response.headers["location"].startswith("//")


def test_never_pages_are_served_without_the_extension(client):
    response = client.get("/never")
    assert response.status_code == 200 and 'id="never"' in response.text


def test_missing_files_get_404_html_with_status_404(client, site):
    response = client.get("/no/such/page/")
    assert response.status_code == 404
    assert response.content == (site / "build/404.html").read_bytes()


def test_headers_file_is_applied(client):
    feed = client.get("/feed")
    assert feed.headers["content-type"] == "application/atom+xml"
    page = client.get("/headers/")
    assert page.headers["x-fixture"] == "yes"
    assert page.headers["cache-control"] == "max-age=60, public", "two matching blocks add up"
    assert client.get("/").headers["x-frame-options"] == "DENY"
    assert "x-frame-options" not in client.get("/about/").headers, "! detaches a header"


@pytest.mark.parametrize(
    "path, status, location",
    [
        ("/old/", 302, "/about/"),
        ("/old", 302, "/about/"),
        ("/blog/first/", 301, "/notes/first/"),
        ("/go/second", 307, "/notes/second/"),
        ("/go/second?utm=x", 307, "/notes/second/?utm=x"),
        ("/elsewhere", 302, "https://example.com/there"),
    ],
    ids=["built", "no-slash", "splat", "placeholder", "query", "external"],
)
def test_redirects_file_is_applied_with_its_status(client, path, status, location):
    response = client.get(path)
    assert response.status_code == status
    assert response.headers["location"] == location


def test_redirect_rules_that_rewrite_or_404(client):
    rewrite = client.get("/rewrite")
    assert rewrite.status_code == 200 and 'id="about"' in rewrite.text
    gone = client.get("/gone")
    assert gone.status_code == 404 and 'id="about"' in gone.text


def test_etag_revalidation(client):
    first = client.get("/style.css")
    again = client.get("/style.css", headers={"if-none-match": first.headers["etag"]})
    assert again.status_code == 304 and again.content == b""


def test_only_get_and_head(client):
    response = client.post("/about/")
    assert response.status_code == 405 and response.headers["allow"] == "GET, HEAD"


def test_hidden_and_host_files_are_not_served(client, site):
    assert (site / "build/.hidden.txt").exists()
    for path in ("/.hidden.txt", "/_headers", "/_redirects"):
        assert client.get(path).status_code == 404


def test_a_rebuild_while_previewing_is_picked_up(site, client):
    (site / "build/_redirects").write_text("/about/ /never 301\n")
    wait_until(lambda: client.get("/about/").status_code == 301, what="the new _redirects")


def test_base_path_build(tmp_path):
    root = copy_fixture(tmp_path)
    result = run_ssg("build", "-C", str(root), "--base-path", "/docs")
    assert result.returncode == 0, result.stderr
    with Server("preview", root, "--base-path", "/docs") as server, httpx.Client(base_url=server.base, timeout=10) as client:
        assert client.get("/").status_code == 308 and client.get("/").headers["location"] == "/docs/"
        assert client.get("/docs?x=1").status_code == 308 and client.get("/docs?x=1").headers["location"] == "/docs/?x=1"
        assert client.get("/docs/").status_code == 200
        assert client.get("/docs/about").headers["location"] == "/docs/about/"
        assert client.get("/docs/style.css").status_code == 200
        assert client.get("/about/").status_code == 404


def test_preview_without_a_build_says_what_to_do(tmp_path):
    root = copy_fixture(tmp_path)
    result = run_ssg("preview", "-C", str(root), "--port", "0")
    assert result.returncode == 2
    assert "ssg build" in result.stderr
