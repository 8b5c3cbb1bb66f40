"""SPEC §5: the built site's links work when a plain static server serves it.

The demo site (this repository) is built with the real command line, served by Python's
http.server, and every same-site link of every HTML page is fetched with httpx.
"""

from __future__ import annotations

import functools
import re
import threading
from collections.abc import Iterator
from html.parser import HTMLParser
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import httpx
import pytest
from conftest import REPO, run_ssg


class References(HTMLParser):
    """Every URL an HTML page references: href, src, srcset and meta refresh."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v for k, v in attrs if v is not None}
        for name in ("href", "src"):
            if name in a:
                self.urls.append(a[name])
        if "srcset" in a:
            self.urls += [c.strip().split(" ")[0] for c in a["srcset"].split(",") if c.strip()]
        if tag == "meta" and a.get("http-equiv", "").lower() == "refresh":
            self.urls.append(re.sub(r"^\s*\d+\s*;\s*url=", "", a.get("content", ""), flags=re.I))


def references(html: str) -> list[str]:
    parser = References()
    parser.feed(html)
    return parser.urls


def page_url(rel: str) -> str:
    """The URL path a static host serves an output file at: blog/index.html -> /blog/."""
    return "/" + (rel[: -len("index.html")] if rel.endswith("index.html") else rel)


def html_files(out: Path) -> Iterator[tuple[str, str]]:
    """(relative path, text) of every HTML file in a build, sorted."""
    for file in sorted(out.rglob("*.html")):
        yield file.relative_to(out).as_posix(), file.read_text("utf-8")


def files(out: Path) -> list[str]:
    return sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())


@pytest.fixture
def served(tmp_path) -> Iterator[tuple[Path, str]]:
    """The demo site built into tmp and served on 127.0.0.1: (output folder, origin)."""
    out = tmp_path / "out"
    result = run_ssg("build", "-C", str(REPO), "--out", str(out))
    assert result.returncode == 0, result.stderr
    handler = functools.partial(QuietHandler, directory=str(out))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield out, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args) -> None:  # keep the test output clean
        pass


def test_every_same_site_link_of_every_page_answers_200(served):
    out, origin = served
    links: dict[str, str] = {}  # link path -> the first page that has it
    for rel, html in html_files(out):
        base = origin + page_url(rel)
        for ref in references(html):
            target = urlsplit(urljoin(base, ref))
            if f"{target.scheme}://{target.netloc}" == origin:
                links.setdefault(target.path, page_url(rel))
    assert {"/", "/blog/", "/about/", "/api/posts.json"} <= set(links)
    assert len(links) > 10

    broken = {}
    with httpx.Client(base_url=origin, follow_redirects=False) as client:
        for path, page in sorted(links.items()):
            response = client.get(path)
            if response.status_code == 301 and response.headers["location"] == path + "/":
                response = client.get(path + "/")  # the server's own folder redirect, not ours
            if response.status_code != 200:
                broken[path] = f"{response.status_code} (linked from {page})"
    assert broken == {}


def test_a_missing_page_is_not_answered_200(served):
    # The check above can fail: a path the build did not write is a 404 from the same server.
    _, origin = served
    assert httpx.get(origin + "/blog/not-a-post/").status_code == 404


# -- base path, origin and trailing slashes --------------------------------------------------


def test_base_path_and_origin_reach_every_link_asset_sitemap_and_redirect(tmp_path):
    out = tmp_path / "out"
    result = run_ssg("build", "-C", str(REPO), "--out", str(out), "--base-path", "/docs", "--origin", "https://example.com")
    assert result.returncode == 0, result.stderr
    # The crawl still follows every link below the base path: it writes the same files as without one.
    plain = run_ssg("build", "-C", str(REPO), "--out", str(tmp_path / "plain"))
    assert plain.returncode == 0, plain.stderr
    assert files(out) == files(tmp_path / "plain")

    outside = []
    for rel, html in html_files(out):
        page = "https://example.com/docs" + page_url(rel)
        for ref in references(html):
            target = urlsplit(urljoin(page, ref))
            if target.netloc == "example.com" and not target.path.startswith("/docs/"):
                outside.append(f"{rel}: {ref}")
            if ref.startswith("/") and not ref.startswith("/docs/"):
                outside.append(f"{rel}: {ref}")
    assert outside == []

    locs = re.findall(r"<loc>([^<]*)</loc>", (out / "sitemap.xml").read_text())
    assert {"https://example.com/docs/", "https://example.com/docs/blog/"} <= set(locs)
    assert all(loc.startswith("https://example.com/docs/") for loc in locs), locs

    redirects = [line.split() for line in (out / "_redirects").read_text().splitlines()]
    assert ["/docs/old-blog", "/docs/blog/", "301"] in redirects
    assert all(source.startswith("/docs/") and target.startswith("/docs/") for source, target, _ in redirects), redirects


def test_trailing_slash_never_writes_name_html_and_links_without_slash(site_copy):
    site = site_copy("trailing-never")
    result = run_ssg("build", "-C", str(site))
    assert result.returncode == 0, result.stderr
    out = site / "build"
    assert (out / "about.html").is_file() and not (out / "about" / "index.html").exists()
    assert (out / "about" / "__data.json").is_file()
    assert (out / "blog" / "first.html").is_file(), "reached by the crawl through a link without a slash"
    assert references((out / "index.html").read_text()) == ["/about", "/blog/first"]
    locs = re.findall(r"<loc>([^<]*)</loc>", (out / "sitemap.xml").read_text())
    assert locs == ["https://example.com/", "https://example.com/about", "https://example.com/blog/first"]
