"""vncauthproxy through its public interfaces: the control socket, plain RFB ports, the web port.

Clients are real: vncdotool's ``vncdo`` for screens, and raw sockets speaking RFB
3.3/3.7/3.8 and the WebSocket handshake exactly as tempest's test_novnc does.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import socket
import struct
import time
import urllib.request

import pytest

from tests.console.conftest import SECRET, RunningProxy, vncdo
from vncauthproxy.client import ProxyRefused, request_forwarding
from vncauthproxy.rfb import vnc_response
from vncauthproxy.testvnc import BANDS, TITLE


def png_pixels(path) -> tuple[int, int, list[tuple[int, int, int]]]:
    """Width, height and RGB pixels of a PNG that vncdotool wrote (8-bit RGB/RGBA, no interlace)."""
    import zlib

    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, width = 8, b"", 0
    while pos < len(data):
        (length,) = struct.unpack("!I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour = struct.unpack("!IIBB", body[:10])
            assert depth == 8 and colour in (2, 6)
            channels = 3 if colour == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    raw = zlib.decompress(idat)
    stride = width * channels
    rows, prev = [], bytearray(stride)
    for y in range(height):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - channels] if i >= channels else 0
            b, c = prev[i], prev[i - channels] if i >= channels else 0
            if kind == 1:
                line[i] = (line[i] + a) & 255
            elif kind == 2:
                line[i] = (line[i] + b) & 255
            elif kind == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif kind == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line))
        prev = line
    pixels = [tuple(row[x * channels : x * channels + 3]) for row in rows for x in range(width)]
    return width, height, pixels


def recv_exact(sock: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise ConnectionError(f"closed after {len(data)} of {n} bytes")
        data += chunk
    return data


def rfb_login(port: int, password: str, minor: int) -> tuple[socket.socket, int]:
    """Authenticate as an RFB 3.<minor> client; returns the socket and the security result."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    assert recv_exact(sock, 12) == b"RFB 003.008\n"
    sock.sendall(b"RFB 003.%03d\n" % minor)
    if minor == 3:
        assert struct.unpack("!I", recv_exact(sock, 4))[0] == 2
    else:
        assert recv_exact(sock, 2) == b"\x01\x02"
        sock.sendall(b"\x02")
    sock.sendall(vnc_response(password, recv_exact(sock, 16)))
    return sock, struct.unpack("!I", recv_exact(sock, 4))[0]


def server_init(sock: socket.socket) -> tuple[int, int, bytes]:
    sock.sendall(b"\x01")  # ClientInit: shared
    width, height = struct.unpack("!HH", recv_exact(sock, 4))
    recv_exact(sock, 16)
    (length,) = struct.unpack("!I", recv_exact(sock, 4))
    return width, height, recv_exact(sock, length)


def refused(port: int) -> bool:
    """The port no longer takes connections, or closes them without a word."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=3) as sock:
            return sock.recv(12) == b""
    except OSError:
        return True


def test_vncdo_captures_the_guest_screen_through_the_proxy(proxy, tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="vncauthproxy")
    fwd = proxy.forward(label="test session")
    assert set(fwd) >= {"id", "port", "password", "token", "expires_in"} and len(fwd["password"]) == 8
    assert fwd["port"] in proxy.config.ports
    out = tmp_path / "screen.png"
    result = vncdo(fwd["port"], fwd["password"], out)
    assert result.returncode == 0, result.stderr
    width, height, pixels = png_pixels(out)
    assert (width, height) == (proxy.guest.width, proxy.guest.height)
    assert pixels[5 * width + 5] == TITLE  # the guest's picture, pixel for pixel
    assert [pixels[(height - 5) * width + (i * width) // len(BANDS) + 5] for i in range(len(BANDS))] == BANDS
    # one-shot: the port is closed once used; one structured line for the session
    assert refused(fwd["port"])
    records = [r for r in caplog.records if getattr(r, "event", None) == "vnc-session"]
    assert len(records) == 1
    rec = records[0]
    assert rec.forwarding == fwd["id"] and rec.label == "test session" and rec.via == "rfb"
    assert rec.outcome == "closed by client" and rec.bytes_to_client > width * height and rec.rfb_version == "3.8"


@pytest.mark.parametrize("minor", [3, 7, 8])
def test_rfb_versions_3_3_3_7_3_8(proxy, minor):
    fwd = proxy.forward()
    sock, result = rfb_login(fwd["port"], fwd["password"], minor)
    with sock:
        assert result == 0
        assert server_init(sock) == (proxy.guest.width, proxy.guest.height, proxy.guest.name)


def test_wrong_password_is_refused_and_three_revoke_the_forwarding(proxy, tmp_path):
    fwd = proxy.forward()
    result = vncdo(fwd["port"], "wrong", tmp_path / "x.png")
    assert result.returncode != 0 and not (tmp_path / "x.png").exists()
    sock, status = rfb_login(fwd["port"], "wrong2", 8)
    sock.close()
    assert status == 1
    before = proxy.guest.connections
    sock, status = rfb_login(fwd["port"], "wrong3", 7)
    sock.close()
    assert status == 1
    assert refused(fwd["port"])  # revoked: even the right password is too late now
    assert proxy.guest.connections == before == 0  # an unauthenticated client never reaches the guest


def test_a_used_forwarding_is_refused(proxy):
    fwd = proxy.forward()
    sock, status = rfb_login(fwd["port"], fwd["password"], 8)
    assert status == 0
    assert refused(fwd["port"])
    sock.close()


def test_an_expired_forwarding_is_refused(proxy):
    fwd = proxy.forward(ttl=0.3)
    time.sleep(0.8)
    assert refused(fwd["port"])
    assert proxy.call(_status(proxy))["pending"] == 0


async def _status(proxy):
    return {"pending": len(proxy.proxy.registry), "sessions": proxy.proxy.sessions.active}


def test_a_silent_client_is_dropped_on_time(proxy):
    fwd = proxy.forward()
    sock = socket.create_connection(("127.0.0.1", fwd["port"]), timeout=10)
    start = time.monotonic()
    assert recv_exact(sock, 12) == b"RFB 003.008\n"
    assert sock.recv(100) == b""  # says nothing -> dropped after the handshake timeout
    elapsed = time.monotonic() - start
    assert proxy.config.handshake_timeout - 0.1 <= elapsed < proxy.config.handshake_timeout + 1.5
    sock.close()


def test_idle_session_is_closed():
    running = RunningProxy(idle_timeout=0.5)
    try:
        fwd = running.forward()
        sock, status = rfb_login(fwd["port"], fwd["password"], 8)
        assert status == 0
        server_init(sock)
        start = time.monotonic()
        sock.settimeout(5)
        assert sock.recv(100) == b""
        assert 0.4 <= time.monotonic() - start < 2.5
        sock.close()
    finally:
        running.close()


def test_guest_with_a_wrong_guest_password_is_reported_to_the_client(proxy):
    fwd = proxy.forward(guest_password="nope")
    sock, status = rfb_login(fwd["port"], fwd["password"], 8)
    with sock:
        assert status == 1
        (length,) = struct.unpack("!I", recv_exact(sock, 4))
        assert b"cannot be reached" in recv_exact(sock, length)


def test_control_socket_refuses_a_wrong_secret_and_bad_requests(proxy):
    with pytest.raises(ProxyRefused, match="wrong secret"):
        request_forwarding("127.0.0.1", 5900, control_host="127.0.0.1", control_port=proxy.control_port, secret="x" * 40)
    with pytest.raises(ProxyRefused, match="port must be"):
        proxy.forward(port=70000)
    with pytest.raises(ProxyRefused, match="ttl"):
        proxy.forward(ttl=10_000)
    with socket.create_connection(("127.0.0.1", proxy.control_port), timeout=5) as sock:
        sock.sendall(b"not json\n" + json.dumps({"secret": SECRET, "op": "status"}).encode() + b"\n")
        stream = sock.makefile("rb")
        assert json.loads(stream.readline())["ok"] is False
        assert json.loads(stream.readline()) == {"ok": True, "pending": 0, "sessions": 0}


def test_port_range_and_pending_limit():
    small = RunningProxy(max_pending=2)
    try:
        first, second = small.forward(), small.forward()
        assert first["port"] != second["port"]
        with pytest.raises(ProxyRefused, match="too many pending"):
            small.forward()
    finally:
        small.close()


# ----------------------------------------------------------------------------- WebSocket (noVNC, tempest)
class BufferedSocket:
    """A socket with bytes that arrived together with the HTTP response head put back in front."""

    def __init__(self, sock: socket.socket, leftover: bytes) -> None:
        self.sock, self.leftover = sock, leftover

    def recv(self, n: int) -> bytes:
        if self.leftover:
            data, self.leftover = self.leftover[:n], self.leftover[n:]
            return data
        return self.sock.recv(n)

    def sendall(self, data: bytes) -> None:
        self.sock.sendall(data)

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.sock.close()


def ws_connect(port: int, *, path: str = "/websockify", cookie: str | None = None) -> tuple[BufferedSocket, bytes]:
    """Tempest's upgrade request (token in a cookie, binary subprotocol); returns the socket and response head."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    head = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    if cookie:
        head += f"Cookie: {cookie}\r\n"
    key = base64.b64encode(os.urandom(16)).decode()
    head += f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: binary\r\n\r\n"
    sock.sendall(head.encode())
    response = b""
    while b"\r\n\r\n" not in response:
        chunk = sock.recv(4096)
        if not chunk:
            break
        response += chunk
    head, sep, rest = response.partition(b"\r\n\r\n")
    return BufferedSocket(sock, rest), head + sep


def ws_send(sock: BufferedSocket, data: bytes) -> None:
    mask = os.urandom(4)
    sock.sendall(bytes([0x82, 0x80 | len(data)]) + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data)))


def ws_recv(sock: BufferedSocket) -> bytes | None:
    header = sock.recv(2)
    if len(header) < 2:
        return None
    length = header[1] & 127
    if length == 126:
        (length,) = struct.unpack("!H", recv_exact(sock, 2))
    elif length == 127:
        (length,) = struct.unpack("!Q", recv_exact(sock, 8))
    return recv_exact(sock, length)


def test_websocket_with_token_speaks_rfb_with_security_none(proxy):
    fwd = proxy.forward()
    sock, response = ws_connect(proxy.web_port, cookie=f"token={fwd['token']}")
    with sock:
        assert response.startswith(b"HTTP/1.1 101 Switching Protocols")
        assert b"Sec-WebSocket-Protocol: binary" in response
        assert ws_recv(sock) == b"RFB 003.008\n"
        ws_send(sock, b"RFB 003.008\n")
        assert ws_recv(sock) == b"\x01\x01"  # one security type: None (the token authenticated)
        ws_send(sock, b"\x01")
        assert ws_recv(sock) == b"\x00\x00\x00\x00"
        ws_send(sock, b"\x01")
        init = ws_recv(sock)
        assert len(init) >= 24 and struct.unpack("!HH", init[:4]) == (proxy.guest.width, proxy.guest.height)
    # the token was one-time, and the plain port of the same forwarding is gone too
    sock, response = ws_connect(proxy.web_port, path=f"/websockify?token={fwd['token']}")
    with sock:
        assert response.startswith(b"HTTP/1.1 403")
        assert ws_recv(sock) is None
    assert refused(fwd["port"])


def test_websocket_with_a_bad_token_gets_no_rfb(proxy):
    fwd = proxy.forward()
    for cookie in (f"token=bad{fwd['token']}", None):
        sock, response = ws_connect(proxy.web_port, cookie=cookie)
        with sock:
            assert not response.startswith(b"HTTP/1.1 101") and response.startswith(b"HTTP/1.1 403")
            data = ws_recv(sock)
            assert data is None or not data.startswith(b"RFB ")
    # the real token still works (a bad guess does not burn it)
    sock, response = ws_connect(proxy.web_port, path=f"/websockify?token={fwd['token']}")
    with sock:
        assert response.startswith(b"HTTP/1.1 101")


def test_web_port_serves_the_novnc_page_and_novnc(proxy):
    page = urllib.request.urlopen(f"http://127.0.0.1:{proxy.web_port}/vnc.html?token=abc", timeout=5)
    body = page.read().decode()
    assert page.status == 200 and "<html" in body and "</html>" in body and "noVNC" in body and "<script" in body
    js = urllib.request.urlopen(f"http://127.0.0.1:{proxy.web_port}/console.js", timeout=5)
    assert js.headers["Content-Type"] == "text/javascript" and b"novnc/core/rfb.js" in js.read()
    rfb = urllib.request.urlopen(f"http://127.0.0.1:{proxy.web_port}/novnc/core/rfb.js", timeout=5)
    assert b"export default class RFB" in rfb.read()
    for bad in ("/novnc/../vnc.html", "/novnc/%2e%2e/%2e%2e/config.py", "/etc/passwd"):
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(f"http://127.0.0.1:{proxy.web_port}{bad}", timeout=5)
        assert err.value.code == 404


def test_the_daemon_refuses_to_start_without_a_secret(tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    env = {"PATH": os.environ["PATH"], "CYCLADES_SECRET_KEY": "k" * 40, "CYCLADES_DATA_DIR": str(tmp_path)}
    proc = subprocess.run(
        [str(Path(sys.executable).parent / "cyclades-vncauthproxy")], env=env, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 2 and proc.stderr.strip().startswith("cyclades-vncauthproxy: error: VNCAUTHPROXY_SECRET")
