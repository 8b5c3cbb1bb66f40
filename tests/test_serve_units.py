"""The pure parts of serve and preview: target decoding, Host checks, editor noise, debouncing,
_redirects/_headers rules, the request object and WebSocket frames."""

from __future__ import annotations

import asyncio

import pytest

from ssg.errors import HttpError
from ssg.preview import parse_headers, parse_redirects, substitute, url_pattern
from ssg.request import Request, UploadFile
from ssg.mediatypes import content_type
from ssg.server.paths import BadTarget, decode_target, hidden
from ssg.server.protocol import host_allowed, is_loopback, location_header
from ssg.server.websocket import accept_key, frame
from ssg.watch import Change, Debouncer, is_noise, merge


@pytest.mark.parametrize(
    "raw, path, query",
    [
        (b"/", "/", ""),
        (b"/blog/caf%C3%A9/?a=1&b=%20", "/blog/café/", "a=1&b=%20"),
        (b"/%252e%252e/", "/%2e%2e/", ""),
        (b"/a+b", "/a+b", ""),
        (b"/.well-known/security.txt", "/.well-known/security.txt", ""),
    ],
)
def test_decode_target_accepts(raw, path, query):
    target = decode_target(raw)
    assert (target.path, target.query) == (path, query)


@pytest.mark.parametrize(
    "raw, status",
    [
        (b"/../x", 400), (b"/a/%2e%2e/x", 400), (b"/a/./x", 400), (b"/a//x", 400), (b"//x", 400),
        (b"/a%2f%2fx", 400), (b"/a\\x", 400), (b"/a%5cx", 400), (b"/a%00", 400), (b"/a%0d%0ax", 400),
        (b"/%zz", 400), (b"/%4", 400), (b"/%c0%ae", 400), (b"/%ff", 400), (b"x", 400), (b"*", 400),
        (b"http://h/x", 400), (b"/a#b", 400), (b"/" + b"a" * 5000, 414), (b"/caf\xc3\xa9", 400), (b"/..", 400),
    ],
)
def test_decode_target_refuses(raw, status):
    with pytest.raises(BadTarget) as caught:
        decode_target(raw)
    assert caught.value.status == status


def test_hidden_segments():
    assert hidden("/.env") and hidden("/a/.git/config") and hidden("/.well-known/../.env")
    assert not hidden("/.well-known/security.txt") and not hidden("/a.b/c")


def test_content_types_do_not_depend_on_the_machine():
    assert content_type("a.JS") == "text/javascript; charset=utf-8"
    assert content_type("feed") == "application/octet-stream"
    assert content_type("x.webmanifest") == "application/manifest+json"


@pytest.mark.parametrize(
    "host, bound, local, allowed",
    [
        ("127.0.0.1:5173", "127.0.0.1", "127.0.0.1", True),
        ("localhost", "127.0.0.1", "127.0.0.1", True),
        ("docs.localhost:1", "127.0.0.1", "127.0.0.1", True),
        ("[::1]:5173", "::1", "::1", True),
        ("192.168.1.9:5173", "0.0.0.0", "192.168.1.9", True),
        ("devbox", "devbox", "10.0.0.2", True),
        ("evil.example", "127.0.0.1", "127.0.0.1", False),
        ("evil.example", "0.0.0.0", "10.0.0.2", False),
        ("192.168.1.10", "0.0.0.0", "192.168.1.9", False),
        ("localhost:abc", "127.0.0.1", "127.0.0.1", False),
        ("[::1", "127.0.0.1", "127.0.0.1", False),
        (None, "127.0.0.1", "127.0.0.1", True),
    ],
)
def test_host_allowed(host, bound, local, allowed):
    assert host_allowed(host, bound=bound, local_address=local) is allowed


def test_loopback_names():
    assert is_loopback("127.0.0.1") and is_loopback("localhost") and is_loopback("::1") and is_loopback("[::1]")
    assert not is_loopback("0.0.0.0") and not is_loopback("example.com")


@pytest.mark.parametrize(
    "path, query, expected",
    [("/about/", "", "/about/"), ("//evil.example/", "", "/evil.example/"), ("/\\evil", "", "/evil"),
     ("/café/", "a=1", "/caf%C3%A9/?a=1"), ("/a b", "", "/a%20b")],
)
def test_location_header_stays_on_the_origin(path, query, expected):
    assert location_header(path, query) == expected


@pytest.mark.parametrize(
    "rel, noise",
    [
        ("content/a.md", False), ("routes/+page.html", False), ("content/2024.md", False),
        ("routes/4913", True), ("routes/.+page.html.swp", True), ("routes/.+page.html.swx", True),
        ("content/a.md~", True), ("content/#a.md#", True), ("content/.#a.md", True),
        (".git/index", True), ("lib/__pycache__/x.pyc", True), ("static/.DS_Store", True),
        ("routes/+page.html___jb_tmp___", True), ("content/sedAb12Cd", True), ("content/x.tmp", True),
    ],
)
def test_editor_noise(rel, noise):
    assert is_noise(rel) is noise


def test_routes_folder_named_with_digits_is_not_noise():
    assert not is_noise("routes/2024", is_dir=True)


def test_merge_keeps_what_matters():
    assert merge(Change("a", "created"), Change("a", "modified")).kind == "created"
    assert merge(Change("a", "modified"), Change("a", "deleted")).kind == "deleted"
    assert merge(Change("a", "deleted"), Change("a", "created")).kind == "created"
    assert merge(None, Change("a", "modified")).kind == "modified"


def test_debouncer_turns_a_burst_into_one_sorted_batch():
    batches: list[list[Change]] = []

    async def go():
        loop = asyncio.get_running_loop()
        done = asyncio.Event()

        def flush(changes):
            batches.append(changes)
            done.set()

        debouncer = Debouncer(loop, flush, quiet=0.05, longest=5)
        for i in range(200):
            debouncer.add(Change(f"content/{i % 7}.md", "modified"))
        await asyncio.wait_for(done.wait(), 5)

    asyncio.run(go())
    assert len(batches) == 1
    assert [c.path for c in batches[0]] == sorted(f"content/{i}.md" for i in range(7))


def test_debouncer_flushes_a_burst_that_never_pauses():
    batches: list[list[Change]] = []

    async def go():
        loop = asyncio.get_running_loop()
        debouncer = Debouncer(loop, batches.append, quiet=0.2, longest=0.1)
        end = loop.time() + 1.0
        n = 0
        while loop.time() < end and not batches:  # keeps adding faster than `quiet`
            debouncer.add(Change(f"c/{n}", "modified"))
            n += 1
            await asyncio.sleep(0.01)
        debouncer.cancel()

    asyncio.run(go())
    assert batches, "a burst longer than `longest` is flushed while it goes on"


def test_url_patterns():
    assert url_pattern("/blog/*").match("/blog/a/b").group("splat") == "a/b"
    assert url_pattern("/blog/*").match("/blog")
    assert url_pattern("/go/:slug").match("/go/x/").group("slug") == "x"
    assert not url_pattern("/go/:slug").match("/go/x/y")
    assert url_pattern("/*.css").match("/a.css") and not url_pattern("/*.css").match("/a.js")
    assert url_pattern("/").match("/") and not url_pattern("/").match("/a")


def test_parse_redirects():
    rules = parse_redirects("# c\n/a /b\n/c /d 302!\n/e https://x.example/ 308 Country=us\nbad\n\n/f /g 200\n")
    assert [(r.source, r.target, r.status, r.force) for r in rules] == [
        ("/a", "/b", 301, False), ("/c", "/d", 302, True), ("/e", "https://x.example/", 308, False), ("/f", "/g", 200, False),
    ]
    assert substitute("/n/:slug/:splat", {"slug": "x", "splat": "y/z"}) == "/n/x/y/z"


def test_parse_headers():
    rules = parse_headers("/a\n  X-One: 1\n  Content-Type: text/x; charset=utf-8\n# c\n/*\n  ! X-One\n")
    assert rules[0].set == (("x-one", "1"), ("content-type", "text/x; charset=utf-8"))
    assert rules[1].detach == ("x-one",)


def run(coro):
    return asyncio.run(coro)


def test_request_basics():
    request = Request(method="post", url="http://h/api?a=1&a=2&b=x", headers=[("Content-Type", "application/json")], body=b'{"k": [1]}')
    assert request.method == "POST" and request.path == "/api"
    assert request.query.get_list("a") == ["1", "2"] and request.query["b"] == "x"
    assert request.headers["content-type"] == "application/json"
    assert run(request.json()) == {"k": [1]}
    assert run(request.body()) == b'{"k": [1]}'


def test_request_json_errors_are_400():
    request = Request(method="POST", url="http://h/", headers={}, body=b"{")
    with pytest.raises(HttpError) as caught:
        run(request.json())
    assert caught.value.status == 400


def test_request_multipart_form():
    boundary = "XyZ"
    body = (
        f"--{boundary}\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nHéllo\r\n"
        f"--{boundary}\r\nContent-Disposition: form-data; name=\"tag\"\r\n\r\na\r\n"
        f"--{boundary}\r\nContent-Disposition: form-data; name=\"tag\"\r\n\r\nb\r\n"
        f"--{boundary}\r\nContent-Disposition: form-data; name=\"f\"; filename=\"a.bin\"\r\n"
        f"Content-Type: application/octet-stream\r\n\r\n\x00\x01\r\n--{boundary}--\r\n"
    ).encode("utf-8")
    request = Request(method="POST", url="http://h/", headers={"content-type": f"multipart/form-data; boundary={boundary}"}, body=body)
    form = run(request.form())
    assert form["title"] == "Héllo"
    assert form.get_list("tag") == ["a", "b"]
    assert form["f"] == UploadFile("a.bin", "application/octet-stream", b"\x00\x01")
    assert list(form) == ["title", "tag", "f"]


def test_request_urlencoded_form_and_wrong_type():
    request = Request(method="POST", url="http://h/", headers={"content-type": "application/x-www-form-urlencoded"}, body=b"a=1&b=&a=2")
    form = run(request.form())
    assert form["a"] == "1" and form["b"] == "" and form.get_list("a") == ["1", "2"]
    with pytest.raises(HttpError) as caught:
        run(Request(method="POST", url="http://h/", headers={"content-type": "text/plain"}, body=b"x").form())
    assert caught.value.status == 415


def test_websocket_handshake_and_frames():
    assert accept_key("dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="  # RFC 6455's example
    assert frame(1, b"hi") == b"\x81\x02hi"
    assert frame(1, b"x" * 200)[:4] == b"\x81\x7e\x00\xc8"
    assert frame(1, b"x" * 70000)[:2] == b"\x81\x7f"


def test_an_edit_reaches_the_pages_that_read_only_its_front_matter():
    from ssg.server.graph import hits

    known = {"content/b/a.md#front-matter", "content/b/c.md", "content/b/"}
    assert hits([Change("content/b/a.md", "modified")], known) == {"content/b/a.md#front-matter"}
    assert hits([Change("content/b/c.md", "modified")], known) == {"content/b/c.md"}
    assert hits([Change("content/b/a.md", "deleted")], known) == {"content/b/a.md#front-matter", "content/b/"}
