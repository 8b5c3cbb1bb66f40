"""`ssg serve` and `ssg preview` on the command line: where they listen, ports, warnings."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

import httpx
from playwright.sync_api import sync_playwright

from conftest import run_ssg
from servekit import CHROMIUM, CHROMIUM_ARGS, REPO, Server, copy_fixture, edit, wait_until


def listening_addresses(port: int) -> set[str]:
    """The local addresses with a listening TCP socket on `port`, from /proc/net/tcp{,6}."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as f:
            for line in f.readlines()[1:]:
                local, state = line.split()[1], line.split()[3]
                address, port_hex = local.split(":")
                if int(port_hex, 16) == port and state == "0A":  # 0A: LISTEN
                    found.add(address)
    return found


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_serve_listens_on_loopback_only_by_default(tmp_path):
    with Server("serve", copy_fixture(tmp_path)) as server:
        assert listening_addresses(server.port) == {"0100007F"}  # 127.0.0.1, nothing else
        assert "warning" not in server.output


def test_a_host_that_is_not_loopback_warns(tmp_path):
    with Server("serve", copy_fixture(tmp_path), "--host", "0.0.0.0") as server:
        assert "warning: --host 0.0.0.0" in server.output
        assert httpx.get(server.url("/about/")).status_code == 200  # asked through loopback


def test_an_explicit_busy_port_is_an_error(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = run_ssg("serve", "-C", str(copy_fixture(tmp_path)), "--port", str(port))
    assert result.returncode == 2
    assert f"port {port} is in use" in result.stderr


def test_a_bad_port_is_bad_usage(tmp_path):
    assert run_ssg("serve", "-C", str(tmp_path), "--port", "70000").returncode == 2
    assert run_ssg("preview", "-C", str(tmp_path), "--port", "-1").returncode == 2


def test_serve_stops_cleanly_on_sigterm(tmp_path):
    server = Server("serve", copy_fixture(tmp_path))
    assert server.stop() == 0
    assert "stopped" in server.output


def test_open_tabs_reload_when_the_server_comes_back(tmp_path):
    site = copy_fixture(tmp_path)
    port = free_port()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page()
        first = Server("serve", site, "--port", str(port))
        try:
            page.goto(first.url("/notes/first/"))
            page.wait_for_function("window.__ssgLive && window.__ssgLive.connected")
            page.evaluate("window.__untouched = true")
        finally:
            first.stop()
        page.wait_for_function("window.__ssgLive.connected === false")
        (site / "content/notes/first.md").write_text("---\ntitle: Edited while down\n---\nbody\n")
        with Server("serve", site, "--port", str(port)):
            page.wait_for_function("document.querySelector('#title')?.textContent === 'Edited while down'", timeout=15_000)
            assert page.evaluate("window.__untouched === undefined")
        browser.close()


def test_a_log_file_inside_the_site_is_not_a_change(tmp_path):
    """`ssg serve > serve.log` in the site folder: each line it logs must not count as a
    save, or one save would be logged, seen, logged again, without end."""
    site = copy_fixture(tmp_path)
    log = site / "serve.log"
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONPATH": str(REPO)}
    with open(log, "w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "ssg.cli", "serve", "--port", "0"], stdout=out, stderr=subprocess.STDOUT, cwd=site, env=env)
    try:
        wait_until(lambda: "http://" in log.read_text(), what="the server to start")
        about = site / "routes/about/+page.html"
        edit(about, about.read_text() + "\n")
        wait_until(lambda: "changed routes/about/+page.html" in log.read_text(), what="the save")
        time.sleep(1.0)  # time for many more batches, were the log seen as changes
        assert log.read_text().count("changed ") == 1, log.read_text()
    finally:
        proc.terminate()
        proc.wait(timeout=10)
