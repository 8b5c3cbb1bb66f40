"""SPEC §2 event.fetch: in-process endpoints and static files, httpx for absolute URLs."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from conftest import run_ssg
from sitekit import open_site, render, write_site


class _Api(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, so a shared client reuses its connection
    hits: dict[str, int] = {}
    ports: set[int] = set()

    def do_GET(self):
        _Api.hits[self.path] = _Api.hits.get(self.path, 0) + 1
        _Api.ports.add(self.client_address[1])
        if self.path == "/slow":
            time.sleep(1.0)
        if self.path == "/flaky" and _Api.hits[self.path] == 1:
            return self._send(503, b"try again")
        if self.path == "/missing":
            return self._send(404, b"nope")
        self._send(200, json.dumps({"path": self.path}).encode(), "application/json")

    def _send(self, status, body, ctype="text/plain"):
        self.send_response(status)
        self.send_header("content-type", ctype)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def api():
    _Api.hits, _Api.ports = {}, set()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Api)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _site(tmp_path, page_py, toml=""):
    return open_site(write_site(tmp_path / "s", {
        "ssg.toml": toml,
        "routes/+layout.html": "{{ slot }}",
        "routes/+page.py": page_py,
        "routes/+page.html": "{{ data | tojson }}",
        "routes/api/items.json/+server.py": """
            from ssg import json

            def GET(event):
                return json({"items": [1, 2], "url": event.url})
        """,
        "static/data/info.txt": "static text\n",
    }))


def test_relative_fetch_calls_own_endpoint_and_reads_static(tmp_path):
    site = _site(tmp_path, """
        async def load(event):
            items = await event.fetch("/api/items.json")
            info = await event.fetch("data/info.txt")
            return {"items": items.json()["items"], "status": items.status_code, "info": info.text,
                    "type": info.headers["content-type"]}
    """, toml='origin = "https://unreachable.invalid"\n')
    r = render(site, "/")
    assert r.status == 200, r.failure
    assert r.envelope["data"] == {"items": [1, 2], "status": 200, "info": "static text\n", "type": "text/plain"}
    assert r.fetched == ["/api/items.json"]
    assert {"routes/api/items.json/+server.py", "static/data/info.txt"} <= set(r.deps)


def test_fetched_endpoint_is_written_to_the_build(tmp_path):
    root = write_site(tmp_path / "s", {
        "ssg.toml": '[prerender]\nentries = ["/"]\n',
        "routes/+page.py": "async def load(event):\n    return {'n': (await event.fetch('/api/items.json')).json()['n']}\n",
        "routes/+page.html": "{{ data.n }}",
        "routes/api/items.json/+server.py": "from ssg import json\n\ndef GET(event):\n    return json({'n': 3})\n",
    })
    result = run_ssg("build", "-C", str(root))
    assert result.returncode == 0, result.stderr
    assert json.loads((root / "build/api/items.json").read_text()) == {"n": 3}


def test_a_load_that_fetches_its_own_page_fails_with_the_loop(tmp_path):
    site = _site(tmp_path, """
        async def load(event):
            return {"s": (await event.fetch("/")).status_code}
    """)
    r = render(site, "/")
    assert r.status == 500
    assert r.failure.message == "event.fetch('/') in route / renders / again: / -> /"
    assert r.failure.file == "routes/+page.py" and r.failure.line == 2


def test_an_endpoint_may_fetch_its_own_get_from_another_method(tmp_path):
    site = open_site(write_site(tmp_path / "s", {
        "routes/api/items.json/+server.py": """
            from ssg import json

            def GET(event):
                return json({"items": [1, 2]})

            async def POST(event):
                return json({"posted": (await event.fetch("/api/items.json")).json()["items"]})
        """,
    }))
    r = render(site, "/api/items.json", method="POST")
    assert r.status == 200, r.body
    assert r.body == b'{"posted":[1,2]}'


def test_in_process_fetches_that_nest_without_end_fail(tmp_path):
    # Each endpoint answers what the next one answered: the innermost, 16 fetches down, fails.
    site = open_site(write_site(tmp_path / "s", {
        "routes/n/[i].txt/+server.py": """
            from ssg import text

            async def GET(event):
                following = await event.fetch(f"/n/{int(event.params['i']) + 1}.txt")
                return text(following.text)
        """,
    }))
    r = render(site, "/n/0.txt")
    assert r.status == 200
    assert r.body.decode().startswith(
        "event.fetch('/n/17.txt') in route /n/[i].txt nests more than 16 deep: /n/0.txt -> /n/1.txt -> "
    )


def test_a_layout_that_fetches_a_missing_file_gets_a_404_and_the_build_ends(tmp_path):
    # The 404 answer is the root +error.html inside the root layout, whose load fetches the
    # same missing file: rendered once more, that fetch fails and the error page renders bare.
    root = write_site(tmp_path / "s", {
        "routes/+layout.py": "async def load(event):\n    return {'s': (await event.fetch('/missing.txt')).status_code}\n",
        "routes/+layout.html": "<main>{{ data.s }} {{ slot }}</main>",
        "routes/+page.html": "home",
        "routes/+error.html": "error {{ page.status }}",
    })
    result = run_ssg("build", "-C", str(root))
    assert result.returncode == 0, result.stderr
    assert (root / "build/index.html").read_text().startswith("<main>404 home</main>")


def test_absolute_fetch_uses_one_shared_client_with_retries(tmp_path, api):
    site = _site(tmp_path, f"""
        async def load(event):
            a = await event.fetch("{api}/a")
            b = await event.fetch("{api}/b")
            flaky = await event.fetch("{api}/flaky")
            return {{"a": a.json(), "b": b.json(), "flaky": flaky.status_code}}
    """)
    r = render(site, "/")
    assert r.status == 200, r.failure
    assert r.envelope["data"] == {"a": {"path": "/a"}, "b": {"path": "/b"}, "flaky": 200}
    assert _Api.hits["/flaky"] == 2, "a 503 is retried"
    # One client, keep-alive: every request went over the same connection.
    assert len(_Api.ports) == 1
    assert f"{api}/a" in r.deps


def test_timeout_names_url_and_route(tmp_path, api):
    site = _site(tmp_path, f"""
        async def load(event):
            await event.fetch("{api}/slow")
    """, toml="[fetch]\ntimeout = 0.2\nretries = 0\n")
    r = render(site, "/")
    assert r.status == 500
    assert f"GET {api}/slow failed after 1 attempt(s): ReadTimeout" in r.failure.message
    assert "(fetched by route /)" in r.failure.message


def test_error_status_names_url_and_status(tmp_path, api):
    site = _site(tmp_path, f"""
        async def load(event):
            response = await event.fetch("{api}/missing")
            response.raise_for_status()
    """)
    r = render(site, "/")
    assert r.status == 500
    assert "404 Not Found" in r.failure.message and f"{api}/missing" in r.failure.message
    assert r.failure.file == "routes/+page.py" and r.failure.line == 3


class _Cached(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    version = "v1"
    log: list[tuple[str, int]] = []

    def do_GET(self):
        etag = f'"{_Cached.version}"'
        if self.headers.get("if-none-match") == etag:
            _Cached.log.append((self.path, 304))
            self.send_response(304)
            self.send_header("etag", etag)
            self.send_header("content-length", "0")
            self.end_headers()
            return
        body = json.dumps({"version": _Cached.version}).encode()
        _Cached.log.append((self.path, 200))
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("etag", etag)
        self.send_header("x-total-count", "42")  # a header a 304 does not send again
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def cached_api():
    """A local server whose answers carry an ETag (version v1 until a test changes it)."""
    _Cached.version, _Cached.log = "v1", []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Cached)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _fetching_site(root: Path, api: str) -> Path:
    """A page that shows the version the local server answers with."""
    return write_site(root, {
        "routes/+page.py": f"async def load(event):\n    return {{'v': (await event.fetch('{api}/data')).json()['version']}}\n",
        "routes/+page.html": "{{ data.v }}",
    })


def test_absolute_get_is_cached_on_disk_across_builds_and_revalidated(tmp_path, cached_api):
    root = _fetching_site(tmp_path / "s", cached_api)
    for expected in ("v1", "v1"):
        assert run_ssg("build", "-C", str(root)).returncode == 0
        assert (root / "build/index.html").read_text() == expected
    _Cached.version = "v2"
    assert run_ssg("build", "-C", str(root)).returncode == 0
    assert (root / "build/index.html").read_text() == "v2"
    # First build downloads; the second revalidates (304, body from the disk cache);
    # the third sees the new ETag and downloads again.
    assert [status for _, status in _Cached.log] == [200, 304, 200]
    assert list((root / ".ssg-cache/http").glob("*.json"))


def test_a_revalidated_answer_keeps_every_header_of_the_stored_one(tmp_path, cached_api):
    root = write_site(tmp_path / "s", {
        "routes/+page.py": (
            "async def load(event):\n"
            f"    response = await event.fetch('{cached_api}/data')\n"
            "    return {'v': response.json()['version'], 'total': response.headers.get('x-total-count'),"
            " 'type': response.headers.get('content-type'), 'length': response.headers.get('content-length')}\n"
        ),
        "routes/+page.html": "{{ data.v }} {{ data.total }} {{ data.type }} {{ data.length }}",
    })
    for _ in range(2):
        result = run_ssg("build", "-C", str(root))
        assert result.returncode == 0, result.stderr
        assert (root / "build/index.html").read_text() == "v1 42 application/json 17"
    assert [status for _, status in _Cached.log] == [200, 304]


@pytest.mark.parametrize("damage", ["a bit flipped in the body", "a key renamed", "--fresh"])
def test_a_stored_answer_that_is_not_what_was_stored_is_fetched_again(tmp_path, cached_api, damage):
    """The disk cache of remote answers is sealed with a CRC-32 and each field checked: a
    damaged answer is never used (wrong pages) nor fails the site's own load; and --fresh
    reads none of it."""
    root = _fetching_site(tmp_path / "s", cached_api)
    assert run_ssg("build", "-C", str(root)).returncode == 0
    (stored,) = (root / ".ssg-cache/http").glob("*.json")
    data = stored.read_bytes()
    if damage == "a bit flipped in the body":
        at = data.index(b"eyJ") + 1  # {"version": "v1"} base64-encoded; the "y" made "Y"
        stored.write_bytes(data[:at] + bytes([data[at] ^ 0x20]) + data[at + 1 :])
    elif damage == "a key renamed":
        stored.write_bytes(data.replace(b'"headers"', b'"Headers"'))
    result = run_ssg("build", "-C", str(root), *(["--fresh"] if damage == "--fresh" else []))
    assert result.returncode == 0, result.stderr
    assert (root / "build/index.html").read_text() == "v1"
    assert [status for _, status in _Cached.log] == [200, 200], "fetched again, not revalidated"
    assert not list((root / ".ssg-cache/http").glob("*.tmp"))
