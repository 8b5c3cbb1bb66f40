"""The HTTP/1.1 server under `ssg serve` and `ssg preview`: asyncio streams and h11.

Why asyncio and not threads: `respond()` is a coroutine and the site's caches (imported
modules, compiled templates) are shared and not thread-safe. One event loop renders one
thing at a time with no locks, while every connection — including the live-reload socket
each open tab keeps all day — costs a coroutine, not a thread. h11 (already installed
with httpx) parses the requests, so framing, keep-alive and chunked bodies are its job.

An app is `async handle(request: Incoming) -> Reply | Upgrade`. This module checks what
every request must pass before an app sees it: a parseable request, a decodable target,
a Host that names this server, a bounded size.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import sys
import traceback
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from urllib.parse import quote

import h11

from .paths import BadTarget, Target, decode_target
from .websocket import WebSocket, accept_key

MAX_HEAD = 16 * 1024  # request line + headers; more answers 400
MAX_HEADERS = 100
MAX_BODY = 16 * 1024 * 1024
IDLE_TIMEOUT = 75.0  # seconds a kept-alive connection may wait for its next request
REQUEST_TIMEOUT = 15.0  # seconds to send a whole request once it has begun (slow clients)
WILDCARDS = ("0.0.0.0", "::", "")


@dataclass
class Incoming:
    """One parsed request, its body read."""

    method: str
    target: Target
    headers: list[tuple[str, str]]  # names lower-cased, in the order sent
    body: bytes
    scheme_host: str  # "http://127.0.0.1:5173", for building absolute URLs

    def header(self, name: str) -> str | None:
        values = [v for k, v in self.headers if k == name]
        return ", ".join(values) if values else None

    @property
    def url(self) -> str:
        query = f"?{self.target.query}" if self.target.query else ""
        return self.scheme_host + quote(self.target.path, safe="/:@!$&'()*+,;=~") + query


@dataclass
class Reply:
    status: int
    body: bytes = b""
    content_type: str | None = "text/plain; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)  # names lower-cased


@dataclass
class Upgrade:
    """Accept the request as a WebSocket and hand the socket to `run`."""

    run: Callable[[WebSocket], Awaitable[None]]


App = Callable[[Incoming], Awaitable["Reply | Upgrade"]]


def text_reply(status: int, message: str, headers: dict[str, str] | None = None) -> Reply:
    return Reply(status, (message.rstrip("\n") + "\n").encode("utf-8"), "text/plain; charset=utf-8", dict(headers or {}))


def location_header(path: str, query: str = "") -> str:
    """Given a decoded same-site path, return a Location value that cannot leave the origin.

    >>> location_header("//evil.example/x")
    '/evil.example/x'
    """
    # "//host" and "/\\host" are read by browsers as another origin: keep exactly one slash.
    path = "/" + path.lstrip("/\\")
    return quote(path, safe="/:@!$&'()*+,;=~%") + (f"?{query}" if query else "")


def host_allowed(host_header: str | None, *, bound: str, local_address: str) -> bool:
    """Given a request's Host and the address it reached, return whether it names this server.

    Loopback addresses, `localhost` and `*.localhost`, the --host value, the address the
    client connected to and this machine's name pass. Anything else is refused, which is
    what stops DNS rebinding: a page on evil.example whose name now points at 127.0.0.1
    still sends `Host: evil.example`.
    """
    if host_header is None:
        return True  # HTTP/1.0 without Host: no browser sends that, so no rebinding risk
    host = _hostname(host_header)
    if host is None:
        return False
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        address = None
    if address is not None and (address.is_loopback or str(address) == local_address.split("%")[0]):
        return True
    if bound not in WILDCARDS and host == bound.lower().strip("[]"):
        return True
    return host in _own_names()


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _hostname(value: str) -> str | None:
    value = value.strip().lower()
    if value.startswith("["):
        end = value.find("]")
        if end < 0:
            return None
        return value[1:end]
    name, _, port = value.partition(":")
    if port and not port.isdigit():
        return None
    return name.rstrip(".") or None


def _own_names() -> set[str]:
    names = {socket.gethostname().lower()}
    try:
        names.add(socket.getfqdn().lower())
    except OSError:
        pass
    return names


class HttpServer:
    """Given an app and an address, serve it until `close()`."""

    def __init__(self, app: App, *, host: str, port: int, log: Callable[[str], None] | None = None) -> None:
        self.app = app
        self.host = host
        self.port = port
        self.log = log or (lambda message: print(message, file=sys.stderr, flush=True))
        self._server: asyncio.base_events.Server | None = None
        self._connections: set[asyncio.Task] = set()

    async def start(self) -> None:
        """Bind and start accepting; `self.port` is then the real port (useful with port 0)."""
        self._server = await asyncio.start_server(self._accept, self.host or None, self.port, reuse_address=True)
        self.port = self._server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._connections):
            task.cancel()
        if self._connections:
            await asyncio.gather(*self._connections, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None  # start_server runs each callback in its own task
        self._connections.add(task)
        try:
            await self._connection(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError, TimeoutError, asyncio.CancelledError):
            pass  # the client went away, or the server is stopping
        except Exception:  # a bug in ssg: one connection is lost, the server goes on
            self.log("error: ssg failed on a connection\n" + traceback.format_exc())
        finally:
            self._connections.discard(task)
            if not writer.is_closing():
                writer.close()

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        conn = h11.Connection(h11.SERVER, max_incomplete_event_size=MAX_HEAD)
        sockname = writer.get_extra_info("sockname") or ("", 0)
        local_address = str(sockname[0])
        while True:
            try:
                got = await self._read_request(conn, reader, writer)
            except h11.RemoteProtocolError as exc:
                # Huge headers included: h11 hints 431, but a malformed request is a 400 here.
                self._raw_error(writer, 400, f"Bad Request: {exc}")
                return
            except _TooLarge:
                self._raw_error(writer, 413, f"Payload Too Large: bodies are limited to {MAX_BODY} bytes")
                return
            except TimeoutError:
                if conn.their_state is not h11.IDLE or _started(conn):
                    self._raw_error(writer, 408, "Request Timeout")
                return
            if got is None:
                return
            event, body = got
            reply = await self._dispatch(event, body, local_address)
            if isinstance(reply, Upgrade):
                await self._websocket(conn, reader, writer, event, reply)
                return
            head_only = event.method == b"HEAD"
            try:
                self._send(conn, writer, reply, head_only)
            except h11.LocalProtocolError as exc:  # e.g. a header value with a newline from user code
                self.log(f"error: could not send the response to {event.target.decode('ascii', 'replace')}: {exc}")
                self._raw_error(writer, 500, "Internal Server Error: the response could not be sent")
                return
            await writer.drain()
            if conn.our_state is h11.MUST_CLOSE or conn.their_state is h11.MUST_CLOSE:
                return
            try:
                conn.start_next_cycle()
            except h11.LocalProtocolError:
                return

    async def _read_request(self, conn: h11.Connection, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        request: h11.Request | None = None
        body = bytearray()
        while True:
            event = conn.next_event()
            if event is h11.NEED_DATA:
                timeout = IDLE_TIMEOUT if request is None and not _started(conn) else REQUEST_TIMEOUT
                data = await asyncio.wait_for(reader.read(65536), timeout)
                conn.receive_data(data)
                continue
            if isinstance(event, h11.Request):
                # h11 bounds a head that arrives in pieces; one that arrives whole is checked here.
                size = len(event.target) + sum(len(k) + len(v) + 4 for k, v in event.headers)
                if size > MAX_HEAD or len(event.headers) > MAX_HEADERS:
                    raise h11.RemoteProtocolError("the request head is too large", error_status_hint=431)
                request = event
                length = _content_length(event)
                if length is not None and length > MAX_BODY:
                    raise _TooLarge()
                if conn.client_is_waiting_for_100_continue:
                    writer.write(conn.send(h11.InformationalResponse(status_code=100, headers=[])))
                continue
            if isinstance(event, h11.Data):
                body += event.data
                if len(body) > MAX_BODY:
                    raise _TooLarge()
                continue
            if isinstance(event, h11.EndOfMessage):
                assert request is not None  # h11 always yields the Request first
                return request, bytes(body)
            if isinstance(event, h11.ConnectionClosed) or event is h11.PAUSED:
                return None

    async def _dispatch(self, event: h11.Request, body: bytes, local_address: str) -> Reply | Upgrade:
        headers = [(k.decode("latin-1").lower(), v.decode("latin-1")) for k, v in event.headers]
        host = next((v for k, v in headers if k == "host"), None)
        if not host_allowed(host, bound=self.host, local_address=local_address):
            return text_reply(403, f"Forbidden: this server does not answer for the host {host!r}.\n"
                              "Open it through 127.0.0.1 or localhost, or start it with --host NAME to allow that name.")
        try:
            target = decode_target(event.target)
        except BadTarget as exc:
            return text_reply(exc.status, exc.message)
        incoming = Incoming(
            method=event.method.decode("ascii", "replace").upper(),
            target=target,
            headers=headers,
            body=body,
            scheme_host=f"http://{host or f'{self.host}:{self.port}'}",
        )
        try:
            return await self.app(incoming)
        except Exception:  # a bug in ssg: say so, and keep serving
            self.log("error: ssg failed while answering " + target.path + "\n" + traceback.format_exc())
            return text_reply(500, "Internal Server Error: ssg failed; the traceback is in the terminal")

    def _send(self, conn: h11.Connection, writer: asyncio.StreamWriter, reply: Reply, head_only: bool) -> None:
        headers = dict(reply.headers)
        if reply.content_type:
            headers["content-type"] = reply.content_type
        headers["content-length"] = str(len(reply.body))
        headers.setdefault("x-content-type-options", "nosniff")
        out = conn.send(h11.Response(status_code=reply.status, headers=list(headers.items()), reason=_reason(reply.status)))
        if reply.body and not head_only:
            out += conn.send(h11.Data(data=reply.body))
        out += conn.send(h11.EndOfMessage())
        writer.write(out)

    async def _websocket(self, conn: h11.Connection, reader, writer, event: h11.Request, upgrade: Upgrade) -> None:
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in event.headers}
        key = headers.get("sec-websocket-key")
        if conn.their_state is not h11.MIGHT_SWITCH_PROTOCOL or not key or headers.get("sec-websocket-version") != "13":
            self._send(conn, writer, text_reply(400, "Bad Request: expected a WebSocket handshake (version 13)"), False)
            await writer.drain()
            return
        writer.write(conn.send(h11.InformationalResponse(
            status_code=101, headers=[("upgrade", "websocket"), ("connection", "Upgrade"), ("sec-websocket-accept", accept_key(key))],
        )))
        await writer.drain()
        leftover, _ = conn.trailing_data
        await upgrade.run(WebSocket(reader, writer, leftover))

    def _raw_error(self, writer: asyncio.StreamWriter, status: int, message: str) -> None:
        # Written by hand: after a protocol error h11's state machine cannot be trusted to send.
        reason = _reason(status).decode()
        body = (message + "\n").encode("utf-8", "replace")
        writer.write(
            f"HTTP/1.1 {status} {reason}\r\ncontent-type: text/plain; charset=utf-8\r\n"
            f"content-length: {len(body)}\r\nconnection: close\r\n\r\n".encode("ascii") + body
        )


def _reason(status: int) -> bytes:
    try:
        return HTTPStatus(status).phrase.encode("ascii")
    except ValueError:
        return b""


class _TooLarge(Exception):
    pass


def _started(conn: h11.Connection) -> bool:
    """Whether bytes of a next request have arrived (a partial request is waiting)."""
    data, _ = conn.trailing_data
    return bool(data)


def _content_length(event: h11.Request) -> int | None:
    for name, value in event.headers:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None
