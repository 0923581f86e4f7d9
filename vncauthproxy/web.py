"""The web port: the noVNC viewer page and its files, and the WebSocket the page connects to.

``GET /vnc.html?token=T`` (what the compute API's console URL points at) serves the
product's viewer page; ``/novnc/...`` serves noVNC itself (npm ``@novnc/novnc``,
installed next to the page; no CDN). A WebSocket upgrade on any path carrying a
valid one-time token (``?token=``, noVNC's ``?path=websockify?token=``, or a
``token`` cookie as tempest sends it) becomes a console session; any other upgrade
is answered 403 without a single RFB byte.
"""

from __future__ import annotations

import asyncio
import http.client
import io
import mimetypes
import os
from http.cookies import SimpleCookie
from urllib.parse import parse_qs, unquote, urlsplit

MAX_HEAD = 16384
PAGES = {"/": "vnc.html", "/vnc.html": "vnc.html", "/vnc_lite.html": "vnc.html", "/console.js": "console.js"}
TYPES = {".js": "text/javascript", ".mjs": "text/javascript", ".html": "text/html; charset=utf-8", ".css": "text/css"}


class Request:
    """An HTTP request head: method, target, headers (case-insensitive)."""

    def __init__(self, method: str, target: str, headers: http.client.HTTPMessage) -> None:
        self.method = method
        self.target = target
        self.headers = headers
        parts = urlsplit(target)
        self.path = unquote(parts.path)
        self.query = parse_qs(parts.query)

    @property
    def is_websocket(self) -> bool:
        return self.headers.get("upgrade", "").lower() == "websocket"

    def token(self) -> str | None:
        """The one-time token, wherever the client put it."""
        if self.query.get("token"):
            return self.query["token"][0]
        for inner in self.query.get("path", []):  # noVNC's path=websockify?token=...
            found = parse_qs(urlsplit(inner).query).get("token")
            if found:
                return found[0]
        cookie = self.headers.get("cookie")
        if cookie:
            jar = SimpleCookie()
            try:
                jar.load(cookie)
            except Exception:  # a malformed cookie header carries no token
                return None
            if "token" in jar:
                return jar["token"].value
        return None


async def read_request(reader: asyncio.StreamReader) -> Request | None:
    """Read one request head; None when it is not HTTP at all."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError):
        return None
    if len(head) > MAX_HEAD:
        return None
    line, _, rest = head.partition(b"\r\n")
    try:
        method, target, version = line.decode("latin-1").split(" ")
    except ValueError:
        return None
    if not version.startswith("HTTP/1."):
        return None
    headers = http.client.parse_headers(io.BytesIO(rest))
    return Request(method, target, headers)


async def respond(writer: asyncio.StreamWriter, status: int, reason: str, body: bytes = b"", ctype: str = "text/plain") -> None:
    head = f"HTTP/1.1 {status} {reason}\r\nContent-Type: {ctype}\r\nContent-Length: {len(body)}\r\n"
    head += "Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\nConnection: close\r\n\r\n"
    writer.write(head.encode("latin-1") + body)
    await writer.drain()


def static_file(web_dir: str, novnc_dir: str, path: str) -> str | None:
    """The file a GET path maps to, never outside the page's directory or noVNC's."""
    if path in PAGES:
        return os.path.join(web_dir, PAGES[path])
    if path.startswith("/novnc/"):
        base = os.path.realpath(novnc_dir)
        full = os.path.realpath(os.path.join(base, path[len("/novnc/") :]))
        if full.startswith(base + os.sep) and os.path.isfile(full):
            return full
    return None


async def serve_static(writer: asyncio.StreamWriter, request: Request, web_dir: str, novnc_dir: str) -> None:
    if request.method not in ("GET", "HEAD"):
        await respond(writer, 405, "Method Not Allowed", b"Only GET.\n")
        return
    path = static_file(web_dir, novnc_dir, request.path)
    if path is None or not os.path.isfile(path):
        await respond(writer, 404, "Not Found", b"Not found.\n")
        return
    with open(path, "rb") as handle:
        body = handle.read()
    ext = os.path.splitext(path)[1]
    ctype = TYPES.get(ext) or mimetypes.guess_type(path)[0] or "application/octet-stream"
    await respond(writer, 200, "OK", b"" if request.method == "HEAD" else body, ctype)
