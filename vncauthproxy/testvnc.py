"""A small VNC server standing in for a guest's console (embedded mode, tests, benchmarks).

RFB 3.3/3.7/3.8, security None or VNC authentication, Raw encoding in the pixel
format the client asks for (true colour, 8/16/32 bits per pixel). The screen is a
fixed picture: a title bar and colour bands, so a viewer shows something other than
a blank canvas. Keys typed are counted (``keys``) so tests can check input arrives. The screen
never changes, so incremental update requests get no answer.
"""

from __future__ import annotations

import asyncio
import struct

from vncauthproxy.rfb import SEC_NONE, SEC_VNC, vnc_response

BANDS = [(200, 30, 30), (30, 170, 30), (30, 60, 200), (230, 200, 40), (240, 240, 240)]
TITLE = (0, 168, 0)


class TestVncServer:
    """``await start()`` listens on ``host:port`` (0 = any free port, see ``.port``)."""

    def __init__(
        self, host: str = "127.0.0.1", port: int = 0, *, width: int = 640, height: int = 400, password: str | None = None
    ) -> None:
        self.host, self.port = host, port
        self.width, self.height = width, height
        self.password = password
        self.name = b"cyclades test console"
        self.keys = 0
        self.connections = 0
        self._server: asyncio.base_events.Server | None = None
        self._frames: dict[tuple, bytes] = {}

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._client, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server:
            self._server.close()

    def pixel(self, x: int, y: int) -> tuple[int, int, int]:
        if y < self.height // 8:
            return TITLE
        return BANDS[(x * len(BANDS)) // self.width]

    def _frame(self, fmt: tuple) -> bytes:
        if fmt not in self._frames:
            bpp, big, rmax, gmax, bmax, rs, gs, bs = fmt
            size = bpp // 8
            order = "big" if big else "little"
            rows = []
            for y in range(self.height):
                row = bytearray()
                for x in range(self.width):
                    r, g, b = self.pixel(x, y)
                    value = ((r * rmax // 255) << rs) | ((g * gmax // 255) << gs) | ((b * bmax // 255) << bs)
                    row += value.to_bytes(size, order)
                rows.append(bytes(row))
            self._frames[fmt] = b"".join(rows)
        return self._frames[fmt]

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            await self._session(reader, writer)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def _session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"RFB 003.008\n")
        minor = int((await reader.readexactly(12))[8:11])
        kind = SEC_VNC if self.password else SEC_NONE
        if minor >= 7:
            writer.write(bytes([1, kind]))
            if (await reader.readexactly(1))[0] != kind:
                return
        else:
            writer.write(struct.pack("!I", kind))
        if kind == SEC_VNC:
            challenge = bytes(range(16))
            writer.write(challenge)
            if await reader.readexactly(16) != vnc_response(self.password or "", challenge):
                writer.write(struct.pack("!I", 1) + (struct.pack("!I", 6) + b"denied" if minor >= 8 else b""))
                return
        if kind == SEC_VNC or minor >= 8:
            writer.write(struct.pack("!I", 0))
        await reader.readexactly(1)  # ClientInit (shared flag)
        fmt = (32, 0, 255, 255, 255, 16, 8, 0)
        writer.write(
            struct.pack("!HHBBBBHHHBBB3x", self.width, self.height, 32, 24, 0, 1, 255, 255, 255, 16, 8, 0)
            + struct.pack("!I", len(self.name))
            + self.name
        )
        while True:
            (kind_byte,) = await reader.readexactly(1)
            if kind_byte == 0:  # SetPixelFormat
                data = await reader.readexactly(19)
                bpp, _depth, big, _true, rmax, gmax, bmax, rs, gs, bs = struct.unpack("!3xBBBBHHHBBB3x", data)
                fmt = (bpp, big, rmax, gmax, bmax, rs, gs, bs)
            elif kind_byte == 2:  # SetEncodings
                _pad, count = struct.unpack("!BH", await reader.readexactly(3))
                await reader.readexactly(4 * count)
            elif kind_byte == 3:  # FramebufferUpdateRequest: the whole screen, Raw; the screen never changes
                incremental = (await reader.readexactly(9))[0]
                if incremental:
                    continue
                header = struct.pack("!BxH", 0, 1) + struct.pack("!HHHHi", 0, 0, self.width, self.height, 0)
                writer.write(header + self._frame(fmt))
                await writer.drain()
            elif kind_byte == 4:  # KeyEvent
                down = (await reader.readexactly(7))[0]
                self.keys += 1 if down else 0
            elif kind_byte == 5:  # PointerEvent
                await reader.readexactly(5)
            elif kind_byte == 6:  # ClientCutText
                (length,) = struct.unpack("!3xI", await reader.readexactly(7))
                await reader.readexactly(length)
            else:
                return
            await writer.drain()
