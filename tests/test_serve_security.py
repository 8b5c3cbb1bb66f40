"""SPEC §7: neither server ever answers with a file outside static/ (serve) or build/ (preview):
no route source, dotfile or config, whatever the encoding. Both refuse foreign Host names
(DNS rebinding) and answer malformed requests with a 400, then keep serving."""

from __future__ import annotations

import pytest

from conftest import run_ssg
from servekit import Server, copy_fixture, raw_request, status_of

SECRETS = (
    b"SECRET-CONFIG", b"SECRET-DOTFILE", b"SECRET-STATIC-DOTFILE", b"SECRET-ROUTE-SOURCE",
    b"SECRET-TEMPLATE-COMMENT", b"SECRET-LIB-SOURCE", b"SECRET-GIT", b"SECRET-OUTSIDE", b"root:x:0:0",
)

TRAVERSALS = [
    "/../ssg.toml",
    "/../../../../../../etc/passwd",
    "/..%2fssg.toml",
    "/%2e%2e/ssg.toml",
    "/%2E%2E/ssg.toml",
    "/%2e%2E%2fssg.toml",
    "/.%2e/ssg.toml",
    "/%2e./ssg.toml",
    "/%252e%252e/ssg.toml",
    "/%252e%252e%252fssg.toml",
    "/..%5cssg.toml",
    "/%5c..%5cssg.toml",
    "/..\\ssg.toml",
    "/\\..\\ssg.toml",
    "//etc/passwd",
    "//../ssg.toml",
    "/%2f%2fetc/passwd",
    "/img/..%2f..%2fssg.toml",
    "/img/../../ssg.toml",
    "/./ssg.toml",
    "/ssg.toml",
    "/SSG.TOML",
    "/Ssg.Toml",
    "/%73sg.toml",
    "/..;/ssg.toml",
    "/%c0%ae%c0%ae/ssg.toml",
    "/%e0%80%ae%e0%80%ae/ssg.toml",
    "/%c0%af",
    "/%uff0e%uff0e/ssg.toml",
    "/ssg.toml%00",
    "/ssg.toml%00.css",
    "/%00",
    "/style.css%00/../../ssg.toml",
    "/.env",
    "/%2eenv",
    "/%2Eenv",
    "/.ENV",
    "/.hidden.txt",
    "/%2ehidden.txt",
    "/img/../.hidden.txt",
    "/.git/config",
    "/%2egit/config",
    "/routes/about/+page.py",
    "/routes/about/%2Bpage.py",
    "/ROUTES/about/+page.py",
    "/routes/about/+page.html",
    "/about/+page.py",
    "/about/%2bpage.py",
    "/about/+page.html",
    "/lib/notes.py",
    "/lib/../ssg.toml",
    "/content/notes/first.md",
    "/static/style.css",
    "/outside/secret.txt",
    "/" + "a" * 5000,
    "/" + "../" * 2000 + "etc/passwd",
    "/" + "%2e%2e%2f" * 600 + "etc/passwd",
    "/_headers",
    "/_redirects",
]


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    root = copy_fixture(tmp_path_factory.mktemp("security"))
    (root / ".git").mkdir()
    (root / ".git" / "config").write_text("SECRET-GIT\n")
    # A symlink inside static/ that leads out of it must not be followed.
    (root.parent / "outside").mkdir()
    (root.parent / "outside" / "secret.txt").write_text("SECRET-OUTSIDE\n")
    (root / "static" / "outside").symlink_to(root.parent / "outside")
    result = run_ssg("build", "-C", str(root))
    assert result.returncode == 0, result.stderr
    (root / "build" / "outside").symlink_to(root.parent / "outside")
    return root


@pytest.fixture(scope="module", params=["serve", "preview"])
def server(request, site):
    with Server(request.param, site) as server:
        yield server


def get(port: int, target: str, host: str | None = None, extra: str = "") -> bytes:
    host = host if host is not None else f"127.0.0.1:{port}"
    head = f"GET {target} HTTP/1.1\r\nHost: {host}\r\n{extra}Connection: close\r\n\r\n"
    return raw_request(port, head.encode("latin-1"))


@pytest.mark.parametrize("target", TRAVERSALS, ids=[t[:40] for t in TRAVERSALS])
def test_traversal_payloads_get_nothing(server, target):
    response = get(server.port, target)
    status = status_of(response)
    assert 400 <= status < 500, (target, response[:300])
    for secret in SECRETS:
        assert secret not in response, (target, secret)


def test_the_server_still_serves_after_the_payloads(server):
    response = get(server.port, "/about/")
    assert status_of(response) == 200 and b'id="about"' in response


@pytest.mark.parametrize(
    "host, allowed",
    [
        ("127.0.0.1:{port}", True),
        ("localhost:{port}", True),
        ("LOCALHOST", True),
        ("[::1]:{port}", True),
        ("127.0.0.2", True),
        ("app.localhost:{port}", True),
        ("evil.example", False),
        ("evil.example:{port}", False),
        ("127.0.0.1.nip.io:{port}", False),
        ("localhost.evil.example", False),
        ("10.1.2.3:{port}", False),
        ("127.0.0.1:{port}@evil.example", False),
    ],
)
def test_foreign_host_names_are_refused(server, host, allowed):
    response = get(server.port, "/about/", host=host.format(port=server.port))
    if allowed:
        assert status_of(response) == 200
    else:
        assert status_of(response) in (400, 403), response[:200]
        assert b'id="about"' not in response


@pytest.mark.parametrize(
    "raw",
    [
        b"GET /%zz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
        b"GET /%f HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
        b"GET /%ff%fe HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
        b"GET /a\xffb HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
        b"GET /about/ HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + b"a" * 100_000 + b"\r\n\r\n",
        b"GET /about/ HTTP/1.1\r\nHost: 127.0.0.1\r\n" + b"X-Many: 1\r\n" * 5000 + b"\r\n",
        b"GET /about/ HTTP/1.1\r\n\r\n",
        b"HELLO\r\n\r\n",
        b"GET about HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
        b"GET http://evil.example/ HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
        b"GET /about/#frag HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
        b"GET /about/ HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: nope\r\n\r\n",
        b"GET /about/ HTTP/1.1\r\nHost: 127.0.0.1\r\nBad Header\r\n\r\n",
        b"GET /about/ HTTP/1.1\r\nHost: 127.0.0.1\r\nHost: 127.0.0.1\r\n\r\n",
    ],
    ids=["bad-escape", "short-escape", "not-utf8", "raw-byte", "huge-header", "many-headers", "no-host",
         "garbage", "no-slash", "absolute-form", "fragment", "bad-length", "bad-header-line", "two-hosts"],
)
def test_malformed_requests_get_400_and_the_next_request_is_served(server, raw):
    assert status_of(raw_request(server.port, raw)) == 400
    assert status_of(get(server.port, "/about/")) == 200


def test_a_too_large_body_is_refused(server):
    raw = b"POST /api/echo HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1000000000\r\n\r\n"
    assert status_of(raw_request(server.port, raw)) in (405, 413)
    assert status_of(get(server.port, "/about/")) == 200


def test_a_cross_site_post_is_refused_by_serve(site):
    with Server("serve", site) as server:
        body = b'{"a": 1}'
        raw = (
            f"POST /api/echo HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\nOrigin: http://evil.example\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n"
        ).encode() + body
        assert status_of(raw_request(server.port, raw)) == 403
        same = raw.replace(b"http://evil.example", f"http://127.0.0.1:{server.port}".encode())
        assert status_of(raw_request(server.port, same)) == 200


def test_keep_alive_serves_several_requests_on_one_connection(server):
    head = f"GET /about/ HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n\r\n".encode()
    last = f"GET /style.css HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\nConnection: close\r\n\r\n".encode()
    response = raw_request(server.port, head + head + last)
    assert response.count(b"HTTP/1.1 200 OK") == 3
