#!/usr/bin/env python3
"""How long from saving a file to `ssg serve` serving the reloaded page (not a timed test).

Makes a 1,000-post site from the shared corpus generator (content/posts/*.md, a listing
at /, one page per post at /posts/<slug>/), starts `ssg serve` on 127.0.0.1, and for each
round: opens the live-reload socket of one post page as its tab would, saves that post's
Markdown file (an atomic write + rename, as editors do), waits for the "reload" message,
then GETs the page until it shows the saved text. It reports the median and spread of

    signal   save -> the tab is told to reload
    served   save -> the reloaded page, with the new text, is served

With --browser the same rounds run in headless Chromium (Debian's /usr/bin/chromium via
Playwright): save -> the automatically reloaded page has fired its load event (the new
text checked in its DOM).

    python bench/serve_bench.py [--pages 1000] [--rounds 21] [--browser] [--corpus PATH]
"""

from __future__ import annotations

import argparse
import base64
import os
import re
import shutil
import signal
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import quote

import httpx

REPO = Path(__file__).resolve().parent.parent
DEFAULT_CORPUS = Path(__file__).resolve().parent / "make_corpus.py"

LIB = '''"""The bench site's posts: ssg.content when it is there, else a small reader that records
its reads the same way (so ssg serve knows which page read which file)."""

from pathlib import Path

try:
    from ssg.content import collection as _collection
except ImportError:
    _collection = None

ROOT = Path(__file__).resolve().parent.parent


class _Post:
    def __init__(self, slug, data, html):
        self.slug, self.data, self.html = slug, data, html


def _read(path):
    import yaml
    from markdown_it import MarkdownIt
    from ssg.context import record

    record(path.relative_to(ROOT).as_posix())
    text = path.read_text("utf-8")
    _, front, body = text.split("---\\n", 2)
    data = yaml.load(front, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    return _Post(path.stem, data, MarkdownIt("commonmark").enable("table").render(body))


def slugs():
    if _collection is not None:
        return [post.slug for post in _collection("posts")]
    from ssg.context import record

    record("content/posts")
    return sorted(p.stem for p in (ROOT / "content" / "posts").glob("*.md"))


def get(slug):
    if _collection is not None:
        return _collection("posts").get(slug)
    path = ROOT / "content" / "posts" / f"{slug}.md"
    return _read(path) if path.is_file() else None


def listing():
    if _collection is not None:
        return [{"slug": p.slug, "title": p.data["title"], "date": str(p.data["date"])} for p in _collection("posts")]
    from ssg.context import record

    out = []
    for path in sorted((ROOT / "content" / "posts").glob("*.md")):
        record(path.relative_to(ROOT).as_posix())
        head = path.read_text("utf-8").split("---\\n", 2)[1]
        title = next(line.split(":", 1)[1].strip().strip('"') for line in head.splitlines() if line.startswith("title:"))
        date = next(line.split(":", 1)[1].strip() for line in head.splitlines() if line.startswith("date:"))
        out.append({"slug": path.stem, "title": title, "date": date})
    return sorted(out, key=lambda p: (p["date"], p["slug"]), reverse=True)
'''

FILES = {
    "ssg.toml": 'trailing_slash = "always"\n',
    "lib/__init__.py": "",
    "lib/posts.py": LIB,
    "routes/+layout.html": "<!doctype html><html><head><meta charset=utf-8><title>{{ page.data.title | default('bench') }}</title>"
                           "<link rel=stylesheet href=\"{{ asset('/site.css') }}\"></head><body>{{ slot }}</body></html>\n",
    "routes/+page.py": "from lib.posts import listing\n\n\ndef load(event):\n    return {\"posts\": listing()}\n",
    "routes/+page.html": "<h1>Posts</h1><ul>{% for p in data.posts %}<li><a href=\"{{ url('/posts/' ~ p.slug) }}\">{{ p.title }}</a> {{ p.date }}</li>{% endfor %}</ul>\n",
    "routes/posts/[slug]/+page.py": (
        "from lib.posts import get, slugs\n\nfrom ssg import error\n\n\n"
        "def entries():\n    return [{\"slug\": s} for s in slugs()]\n\n\n"
        "def load(event):\n    post = get(event.params[\"slug\"])\n    if post is None:\n        error(404, \"no such post\")\n"
        "    return {\"title\": post.data[\"title\"], \"html\": post.html, \"tags\": post.data.get(\"tags\", [])}\n"
    ),
    "routes/posts/[slug]/+page.html": "<article><h1>{{ data.title }}</h1><p>{{ data.tags | join(', ') }}</p>{{ data.html | safe }}</article>\n",
    "static/site.css": "body { font-family: sans-serif; }\n",
}


def make_site(root: Path, corpus: Path, pages: int) -> None:
    for rel, text in FILES.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, "utf-8")
    subprocess.run([sys.executable, str(corpus), str(root / "content" / "posts"), "--pages", str(pages), "--seed", "1"],
                   check=True, capture_output=True)


class Serve:
    def __init__(self, root: Path) -> None:
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        self.proc = subprocess.Popen([sys.executable, "-m", "ssg.cli", "serve", "-C", str(root), "--port", "0"],
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
        self.lines: list[str] = []
        found = threading.Event()

        def read() -> None:
            for line in self.proc.stdout:
                self.lines.append(line)
                if "http://127.0.0.1:" in line:
                    found.set()

        threading.Thread(target=read, daemon=True).start()
        if not found.wait(30):
            raise SystemExit("ssg serve did not start:\n" + "".join(self.lines))
        self.port = int(re.search(r"127\.0\.0\.1:(\d+)", "".join(self.lines)).group(1))
        self.base = f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(10)


def live_socket(port: int, page: str) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall((f"GET /__ssg/live?path={quote(page, safe='')}&version=1000000000 HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                  f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
    head = b""
    while b"\r\n\r\n" not in head:
        head += sock.recv(1)  # byte by byte: frames may follow the handshake at once
    assert head.startswith(b"HTTP/1.1 101"), head
    return sock


def next_message(sock: socket.socket) -> bytes:
    def exact(n: int) -> bytes:
        out = b""
        while len(out) < n:
            chunk = sock.recv(n - len(out))
            if not chunk:
                raise ConnectionError("closed")
            out += chunk
        return out

    _, b1 = exact(2)
    n = b1 & 0x7F
    if n == 126:
        (n,) = struct.unpack("!H", exact(2))
    elif n == 127:
        (n,) = struct.unpack("!Q", exact(8))
    return exact(n)


def save(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.bench-tmp")
    tmp.write_text(text, "utf-8")
    os.replace(tmp, path)


def rounds_http(serve: Serve, root: Path, slugs: list[str], rounds: int) -> tuple[list[float], list[float]]:
    signal_ms, served_ms = [], []
    with httpx.Client(base_url=serve.base, timeout=30) as client:
        for i in range(rounds):
            slug = slugs[(i * 37) % len(slugs)]
            page = f"/posts/{slug}/"
            assert client.get(page).status_code == 200
            sock = live_socket(serve.port, page)
            path = root / "content" / "posts" / f"{slug}.md"
            marker = f"bench-edit-{i}-{time.time_ns()}"
            text = path.read_text("utf-8") + f"\n{marker}\n"
            t0 = time.perf_counter()
            save(path, text)
            while b'"reload"' not in next_message(sock):
                pass
            t1 = time.perf_counter()
            while marker not in client.get(page).text:
                pass
            t2 = time.perf_counter()
            sock.close()
            signal_ms.append((t1 - t0) * 1000)
            served_ms.append((t2 - t0) * 1000)
    return signal_ms, served_ms


def rounds_browser(serve: Serve, root: Path, slugs: list[str], rounds: int) -> list[float]:
    from playwright.sync_api import sync_playwright

    shown_ms = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run"])
        tab = browser.new_page()
        for i in range(rounds):
            slug = slugs[(i * 37) % len(slugs)]
            tab.goto(f"{serve.base}/posts/{slug}/")
            tab.wait_for_function("window.__ssgLive && window.__ssgLive.connected")
            path = root / "content" / "posts" / f"{slug}.md"
            marker = f"bench-edit-{i}-{time.time_ns()}"
            t0 = time.time() * 1000  # wall clock, as the page's performance.timeOrigin
            save(path, path.read_text("utf-8") + f"\n{marker}\n")
            tab.wait_for_function(f"document.body.innerText.includes({marker!r})", timeout=30_000)
            # When the reloaded page finished loading, by the browser's own clock (Playwright's
            # polling would add its own delay to a wall-clock measurement).
            loaded = tab.evaluate("performance.timeOrigin + performance.getEntriesByType('navigation')[0].loadEventEnd")
            shown_ms.append(loaded - t0)
        browser.close()
    return shown_ms


def describe(name: str, values: list[float]) -> str:
    ordered = sorted(values)
    p90 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.9))]
    return f"{name:<8} median {statistics.median(values):7.1f} ms   p90 {p90:7.1f}   min {ordered[0]:7.1f}   max {ordered[-1]:7.1f}   (n={len(values)})"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=21)
    parser.add_argument("--browser", action="store_true", help="also measure in headless Chromium")
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS, help="make_corpus.py")
    parser.add_argument("--keep", action="store_true", help="keep the generated site and print where")
    args = parser.parse_args()

    root = Path(tempfile.mkdtemp(prefix="ssg-serve-bench-")) / "site"
    make_site(root, args.corpus, args.pages)
    slugs = sorted(p.stem for p in (root / "content" / "posts").glob("*.md"))
    serve = Serve(root)
    try:
        with httpx.Client(base_url=serve.base, timeout=120) as client:
            t0 = time.perf_counter()
            assert client.get(f"/posts/{slugs[0]}/").status_code == 200
            first = (time.perf_counter() - t0) * 1000
            t0 = time.perf_counter()
            assert client.get("/").status_code == 200
            listing = (time.perf_counter() - t0) * 1000
        print(f"site: {len(slugs)} posts; first post page served in {first:.0f} ms after start (no build first); "
              f"the listing of all posts in {listing:.0f} ms")
        signal_ms, served_ms = rounds_http(serve, root, slugs, args.rounds)
        print("one-page change (save one post's .md, its tab open):")
        print("  " + describe("signal", signal_ms))
        print("  " + describe("served", served_ms))
        if args.browser:
            print("  " + describe("browser", rounds_browser(serve, root, slugs, args.rounds)))
    finally:
        serve.stop()
        if args.keep:
            print(f"site kept in {root}")
        else:
            shutil.rmtree(root.parent, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
