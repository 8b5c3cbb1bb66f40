"""The server half of RFC 6455, as much as live reload needs: the handshake, text frames out,
and reading the browser's frames (masked) to answer pings and notice a close.

Why a WebSocket and not server-sent events: a browser keeps at most six HTTP/1.1
connections per origin, and an EventSource holds one open for as long as the tab lives,
so a seventh tab of the same site would hang. WebSockets do not count against that limit.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import struct

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
MAX_MESSAGE = 64 * 1024  # the browser only says hello; anything bigger is not our client
MAX_BUFFERED = 1024 * 1024  # a tab that stops reading is dropped, not buffered forever


def accept_key(key: str) -> str:
    """Given a Sec-WebSocket-Key, return the Sec-WebSocket-Accept value (RFC 6455 §4.2.2).

    >>> accept_key("dGhlIHNhbXBsZSBub25jZQ==")
    's3pPLMBiTxaQ9kYGzzhZRbK+xOo='
    """
    return base64.b64encode(hashlib.sha1((key + GUID).encode("ascii")).digest()).decode("ascii")


def frame(opcode: int, payload: bytes) -> bytes:
    """Given an opcode and a payload, return one unmasked final frame (servers never mask)."""
    head = bytes([0x80 | opcode])
    n = len(payload)
    if n < 126:
        head += bytes([n])
    elif n < 1 << 16:
        head += bytes([126]) + struct.pack("!H", n)
    else:
        head += bytes([127]) + struct.pack("!Q", n)
    return head + payload


class WebSocket:
    """An accepted connection: `send()` text, `receive()` until it returns None (closed)."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, leftover: bytes = b"") -> None:
        self._reader = reader
        self._writer = writer
        self._buffer = bytearray(leftover)
        self.closed = False

    def send(self, text: str) -> bool:
        """Queue a text message; return False (and close) if the tab is not keeping up or gone."""
        if self.closed or self._writer.is_closing():
            self.closed = True
            return False
        transport = self._writer.transport
        if transport is not None and transport.get_write_buffer_size() > MAX_BUFFERED:
            self.abort()
            return False
        self._writer.write(frame(0x1, text.encode("utf-8")))
        return True

    async def receive(self) -> str | None:
        """Return the next text message from the browser, or None once the connection is closed."""
        message = bytearray()
        while not self.closed:
            try:
                fin, opcode, payload = await self._read_frame()
            except (asyncio.IncompleteReadError, ConnectionError, ValueError):
                self.abort()
                return None
            if opcode == 0x8:  # close: echo it, then stop
                self._write_control(0x8, payload[:2])
                self.abort()
                return None
            if opcode == 0x9:
                self._write_control(0xA, payload)
                continue
            if opcode == 0xA:
                continue
            message += payload
            if len(message) > MAX_MESSAGE:
                self._write_control(0x8, struct.pack("!H", 1009))
                self.abort()
                return None
            if fin:
                return message.decode("utf-8", "replace")
        return None

    def abort(self) -> None:
        self.closed = True
        if not self._writer.is_closing():
            self._writer.close()

    def _write_control(self, opcode: int, payload: bytes) -> None:
        if not self._writer.is_closing():
            self._writer.write(frame(opcode, payload))

    async def _read_exact(self, n: int) -> bytes:
        while len(self._buffer) < n:
            chunk = await self._reader.read(65536)
            if not chunk:
                raise asyncio.IncompleteReadError(bytes(self._buffer), n)
            self._buffer += chunk
        out = bytes(self._buffer[:n])
        del self._buffer[:n]
        return out

    async def _read_frame(self) -> tuple[bool, int, bytes]:
        b0, b1 = await self._read_exact(2)
        fin, opcode, masked, n = bool(b0 & 0x80), b0 & 0x0F, bool(b1 & 0x80), b1 & 0x7F
        if not masked:
            raise ValueError("a browser's frames are always masked")
        if n == 126:
            (n,) = struct.unpack("!H", await self._read_exact(2))
        elif n == 127:
            (n,) = struct.unpack("!Q", await self._read_exact(8))
        if n > MAX_MESSAGE:
            raise ValueError("frame too large")
        mask = await self._read_exact(4)
        data = await self._read_exact(n)
        return fin, opcode, bytes(b ^ mask[i % 4] for i, b in enumerate(data))
