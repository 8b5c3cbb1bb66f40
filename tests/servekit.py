"""Run `ssg serve` / `ssg preview` as real processes on 127.0.0.1, and talk to them.

Everything here waits by polling with a deadline; nothing sleeps a fixed time to
synchronize.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from conftest import REPO

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "serve" / "site"
DEADLINE = 15.0
# Debian's Chromium, driven by Playwright's own driver (no browser download).
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run"]


def copy_fixture(tmp_path: Path) -> Path:
    target = tmp_path / "site"
    shutil.copytree(FIXTURE, target, ignore=shutil.ignore_patterns("__pycache__", "build"))
    return target


def wait_until(check: Callable[[], object], *, timeout: float = DEADLINE, interval: float = 0.02, what: str = "condition"):
    """Poll `check()` until it returns something truthy; return that, or fail after `timeout`."""
    deadline = time.monotonic() + timeout
    last_error: BaseException | None = None
    while time.monotonic() < deadline:
        try:
            value = check()
        except Exception as exc:  # e.g. a connection refused while a server starts
            last_error = exc
            value = None
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}" + (f" (last error: {last_error!r})" if last_error else ""))


class Server:
    """`ssg <command> -C root --port 0 ...` in a child process; `.base` is its http://127.0.0.1:PORT."""

    def __init__(self, command: str, root: Path, *args: str, env: dict[str, str] | None = None) -> None:
        full_env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
        full_env["PYTHONPATH"] = str(REPO) + os.pathsep + full_env.get("PYTHONPATH", "")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "ssg.cli", command, "-C", str(root), "--port", "0", *args],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=full_env, cwd=root,
        )
        self.lines: list[str] = []
        self._lock = threading.Lock()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        found = wait_until(lambda: self._find(r"http://(?:127\.0\.0\.1|localhost):(\d+)") or self._exited(), what=f"ssg {command} to start")
        if found is True:
            raise AssertionError(f"ssg {command} exited early:\n{self.output}")
        self.port = int(found.group(1))
        self.base = f"http://127.0.0.1:{self.port}"

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            with self._lock:
                self.lines.append(line)

    def _exited(self) -> bool:
        return self.proc.poll() is not None

    def _find(self, pattern: str):
        with self._lock:
            for line in self.lines:
                found = re.search(pattern, line)
                if found:
                    return found
        return None

    @property
    def output(self) -> str:
        with self._lock:
            return "".join(self.lines)

    def url(self, path: str) -> str:
        return self.base + path

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self._reader.join(timeout=5)
        return self.proc.returncode

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def raw_request(port: int, data: bytes, *, timeout: float = 10.0) -> bytes:
    """Send bytes as they are (no client fixes them up) and return everything the server answers."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(data)
        sock.shutdown(socket.SHUT_WR)
        chunks = []
        while True:
            try:
                chunk = sock.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            chunks.append(chunk)
    return b"".join(chunks)


def status_of(response: bytes) -> int:
    match = re.match(rb"HTTP/1\.[01] (\d{3})", response)
    assert match, f"not an HTTP response: {response[:200]!r}"
    return int(match.group(1))


class LiveSocket:
    """A WebSocket client for /__ssg/live, as the injected script opens it."""

    def __init__(self, port: int, page: str, *, version: int = 10**9, origin: str | None = None) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=DEADLINE)
        key = base64.b64encode(os.urandom(16)).decode()
        from urllib.parse import quote

        head = (
            f"GET /__ssg/live?path={quote(page, safe='')}&version={version} HTTP/1.1\r\n"
            f"Host: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
            + (f"Origin: {origin}\r\n" if origin else "")
            + "\r\n"
        )
        self.sock.sendall(head.encode())
        self.buffer = b""
        while b"\r\n\r\n" not in self.buffer:
            chunk = self.sock.recv(4096)
            if not chunk:
                break
            self.buffer += chunk
        self.status = status_of(self.buffer)
        self.buffer = self.buffer.split(b"\r\n\r\n", 1)[1] if b"\r\n\r\n" in self.buffer else b""
        self.messages: list[dict] = []
        if self.status == 101:
            self._thread = threading.Thread(target=self._read, daemon=True)
            self._thread.start()

    def _exact(self, n: int) -> bytes:
        while len(self.buffer) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed")
            self.buffer += chunk
        out, self.buffer = self.buffer[:n], self.buffer[n:]
        return out

    def _read(self) -> None:
        try:
            while True:
                b0, b1 = self._exact(2)
                n = b1 & 0x7F
                if n == 126:
                    (n,) = struct.unpack("!H", self._exact(2))
                elif n == 127:
                    (n,) = struct.unpack("!Q", self._exact(8))
                payload = self._exact(n)
                if b0 & 0x0F == 0x1:
                    self.messages.append(json.loads(payload))
                elif b0 & 0x0F == 0x8:
                    return
        except (OSError, ConnectionError, ValueError):
            return

    def wait_message(self, count: int = 1, timeout: float = DEADLINE) -> list[dict]:
        wait_until(lambda: len(self.messages) >= count, timeout=timeout, what=f"{count} live-reload message(s)")
        return self.messages[:count]

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass


def edit(path: Path, text: str) -> None:
    """Save a file the way most editors do: write a temporary file, then rename it over."""
    tmp = path.with_name(f".{path.name}.tmp-save")
    tmp.write_text(text, "utf-8")
    os.replace(tmp, path)
