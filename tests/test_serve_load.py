"""20 concurrent clients against each server on 127.0.0.1, a bounded number of requests each:
every response is the expected one, none fails (serve is also edited while it is loaded)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from conftest import run_ssg
from servekit import Server, copy_fixture, edit

CLIENTS = 20
REQUESTS_EACH = 30
EXPECTED = [
    ("/", 200),
    ("/about/", 200),
    ("/notes/first/", 200),
    ("/notes/second/__data.json", 200),
    ("/style.css", 200),
    ("/api/notes.json", 200),
    ("/about", 308),
    ("/no/such/page/", 404),
]


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    root = copy_fixture(tmp_path_factory.mktemp("load"))
    result = run_ssg("build", "-C", str(root))
    assert result.returncode == 0, result.stderr
    return root


def hammer(base: str, worker: int) -> list[str]:
    """One client: REQUESTS_EACH requests over one keep-alive connection; return the failures."""
    failures = []
    with httpx.Client(base_url=base, follow_redirects=False, timeout=30) as client:
        for i in range(REQUESTS_EACH):
            path, status = EXPECTED[(worker + i) % len(EXPECTED)]
            try:
                response = client.get(path)
            except httpx.HTTPError as exc:
                failures.append(f"{path}: {type(exc).__name__}: {exc}")
                continue
            if response.status_code != status:
                failures.append(f"{path}: {response.status_code}, expected {status}")
    return failures


@pytest.mark.parametrize("command", ["serve", "preview"])
def test_twenty_concurrent_clients_get_no_failed_response(site, command):
    with Server(command, site) as server:
        stop = threading.Event()
        editor = None
        if command == "serve":
            def keep_editing() -> None:
                n = 0
                while not stop.is_set() and n < 50:
                    edit(site / "content/notes/first.md", f"---\ntitle: First note {n}\n---\nbody\n")
                    n += 1
                    stop.wait(0.02)  # pacing the edits, not synchronizing anything

            editor = threading.Thread(target=keep_editing)
            editor.start()
        try:
            with ThreadPoolExecutor(CLIENTS) as pool:
                results = list(pool.map(lambda w: hammer(server.base, w), range(CLIENTS)))
        finally:
            stop.set()
            if editor is not None:
                editor.join()
        failures = [f for worker in results for f in worker]
        assert failures == [], failures[:10]
        assert server.proc.poll() is None, "the server is still running"
