"""Real headless Chromium (Debian's, driven by Playwright) and a static server on 127.0.0.1."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run"]


@contextmanager
def chromium() -> Iterator:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


class _Handler(SimpleHTTPRequestHandler):
    mounts: dict[str, Path] = {}
    hits: Counter

    def translate_path(self, path: str) -> str:
        for prefix, folder in self.mounts.items():
            if prefix and path.startswith(prefix):
                return super().translate_path("/" + path[len(prefix):]).replace(self.directory, str(folder), 1)
        return super().translate_path(path)

    def do_GET(self):
        self.hits[self.path.split("?")[0]] += 1
        super().do_GET()

    def log_message(self, *args):
        pass


@contextmanager
def static_server(root: Path, mounts: dict[str, Path] | None = None) -> Iterator[tuple[str, Counter]]:
    """Serve `root` (plus `mounts`: URL prefix -> folder) on 127.0.0.1; yield (base URL, hit counter)."""
    hits: Counter = Counter()
    handler = type("Handler", (_Handler,), {"mounts": mounts or {}, "hits": hits})
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(handler, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", hits
    finally:
        server.shutdown()
        server.server_close()
