"""Byte streams the proxy relays between: plain TCP, and WebSocket (framing by the websockify library).

Both offer the same small interface: ``read`` (some bytes, ``b""`` at the end),
``readexactly``, ``write`` and ``close``. The WebSocket stream feeds websockify's
``WebSocket`` (a non-blocking, socket-like protocol object) through an in-memory
socket, so websockify does the framing, masking, ping/pong and close handshake
while asyncio does the I/O: no thread per connection.
"""

from __future__ import annotations

import asyncio
import errno
from typing import Protocol

from websockify.websocket import WebSocket, WebSocketWantReadError

READ_SIZE = 65536


class ByteStream(Protocol):
    async def read(self) -> bytes: ...

    async def readexactly(self, n: int) -> bytes: ...

    async def write(self, data: bytes) -> None: ...

    def close(self) -> None: ...


class TcpStream:
    """A TCP connection (asyncio streams)."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    async def read(self) -> bytes:
        return await self.reader.read(READ_SIZE)

    async def readexactly(self, n: int) -> bytes:
        try:
            return await self.reader.readexactly(n)
        except asyncio.IncompleteReadError as exc:
            raise ConnectionError("connection closed during the handshake") from exc

    async def write(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    def close(self) -> None:
        self.writer.close()


class _MemorySocket:
    """The socket websockify's WebSocket talks to: bytes in from asyncio, bytes out to asyncio."""

    def __init__(self) -> None:
        self.inbound = bytearray()
        self.outbound = bytearray()
        self.eof = False
        self.closed = False

    def recv(self, _size: int) -> bytes:
        if self.inbound:
            data = bytes(self.inbound)  # all of it: websockify only appends to its buffer
            self.inbound.clear()
            return data
        if self.eof:
            return b""
        raise BlockingIOError(errno.EWOULDBLOCK, "no data buffered")

    def send(self, data: bytes) -> int:
        if not self.closed:
            self.outbound += data
        return len(data)

    def close(self) -> None:
        self.closed = True


class _BinaryWebSocket(WebSocket):
    """Accepts the ``binary`` subprotocol when offered (noVNC, tempest) and none otherwise."""

    def select_subprotocol(self, protocols: list[str]) -> str:
        names = [p.strip() for p in protocols]
        return "binary" if "binary" in names else ""


class WebSocketStream:
    """A WebSocket server connection over an asyncio TCP connection, after the HTTP request was read."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self._sock = _MemorySocket()
        self._ws = _BinaryWebSocket()
        self._pending = bytearray()
        self._closed = False

    async def accept(self, headers) -> None:
        """Answer the upgrade request (``headers``: a case-insensitive mapping of the request's headers)."""
        # names as websockify reads them; raises Exception with a reason on a bad request
        self._ws.accept(self._sock, headers)
        await self._flush()

    async def _flush(self) -> None:
        if self._sock.outbound:
            self.writer.write(bytes(self._sock.outbound))
            self._sock.outbound.clear()
            await self.writer.drain()

    async def read(self) -> bytes:
        if self._pending:
            data = bytes(self._pending)
            self._pending.clear()
            return data
        while not self._closed:
            try:
                data = self._ws.recv()
            except WebSocketWantReadError:
                await self._flush()
                chunk = await self.reader.read(READ_SIZE)
                if chunk:
                    self._sock.inbound += chunk
                else:
                    self._sock.eof = True
                continue
            await self._flush()  # pongs, close replies
            if data is None:
                self._closed = True
                return b""
            if data:
                return data
        return b""

    async def readexactly(self, n: int) -> bytes:
        while len(self._pending) < n:
            if self._closed:
                raise ConnectionError("WebSocket closed during the handshake")
            got = await self._read_message()
            if not got:
                raise ConnectionError("WebSocket closed during the handshake")
            self._pending += got
        data = bytes(self._pending[:n])
        del self._pending[:n]
        return data

    async def _read_message(self) -> bytes:
        saved = bytes(self._pending)
        self._pending.clear()
        try:
            return await self.read()
        finally:
            self._pending[:0] = saved

    async def write(self, data: bytes) -> None:
        if self._closed or self._sock.closed:
            raise ConnectionError("WebSocket is closed")
        self._ws.send(data)
        await self._flush()

    def close(self) -> None:
        if not self._sock.closed:
            try:
                self._ws.close()
                if self._sock.outbound:
                    self.writer.write(bytes(self._sock.outbound))
            except Exception:  # a broken connection: nothing more to say to it
                pass
        self._closed = True
        self.writer.close()
