"""The RFB (VNC) handshake, both ways: as a server to the client, as a client to the guest.

Only the handshake differs between RFB 3.3, 3.7 and 3.8; from ClientInit on the
protocol is the same, so after both handshakes the proxy copies bytes unchanged.

Spec: RFC 6143 (3.8) and its notes on 3.3/3.7. VNC authentication encrypts a
16-byte challenge with DES, keyed by the password (at most 8 characters, each
byte's bits reversed).
"""

from __future__ import annotations

import os
import struct

from vncauthproxy.streams import ByteStream

VERSIONS = {b"RFB 003.003\n": (3, 3), b"RFB 003.007\n": (3, 7), b"RFB 003.008\n": (3, 8)}
OUR_VERSION = b"RFB 003.008\n"
SEC_INVALID = 0
SEC_NONE = 1
SEC_VNC = 2
MAX_PASSWORD = 8


class HandshakeError(Exception):
    """The peer broke the RFB handshake or authentication failed; the message says how."""


class AuthFailed(HandshakeError):
    """The client answered the VNC challenge with a wrong password."""


def _reverse_bits(byte: int) -> int:
    return int(f"{byte:08b}"[::-1], 2)


def vnc_response(password: str, challenge: bytes) -> bytes:
    """The 16-byte answer to a VNC authentication challenge for ``password``."""
    from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
    from cryptography.hazmat.primitives.ciphers import Cipher, modes

    raw = password.encode("latin-1")[:MAX_PASSWORD].ljust(MAX_PASSWORD, b"\0")
    key = bytes(_reverse_bits(b) for b in raw)
    encryptor = Cipher(TripleDES(key * 3), modes.ECB()).encryptor()  # 3 x the same key = single DES
    return encryptor.update(challenge) + encryptor.finalize()


def parse_version(banner: bytes) -> tuple[int, int]:
    """(major, minor) of a ProtocolVersion message; unknown 3.x minors count as 3.3 (as the spec says)."""
    if len(banner) != 12 or not banner.startswith(b"RFB ") or banner[7:8] != b"." or not banner.endswith(b"\n"):
        raise HandshakeError(f"not an RFB version message: {banner[:12]!r}")
    try:
        major, minor = int(banner[4:7]), int(banner[8:11])
    except ValueError as exc:
        raise HandshakeError(f"not an RFB version message: {banner!r}") from exc
    if major != 3:
        raise HandshakeError(f"unsupported RFB version {major}.{minor}")
    if minor >= 8:
        return 3, 8
    return (3, 7) if minor == 7 else (3, 3)


async def _fail(stream: ByteStream, version: tuple[int, int], reason: str) -> None:
    """Tell a client that security failed (with a reason where the version allows one)."""
    if version >= (3, 8):
        text = reason.encode()
        await stream.write(struct.pack("!II", 1, len(text)) + text)
    else:
        await stream.write(struct.pack("!I", 1))


class ClientHandshake:
    """The server side of a client's handshake, up to (not including) the security result.

    ``await accept(password)`` negotiates the version and authenticates: with a
    password the client must answer a VNC challenge; without one (the WebSocket
    path, already authenticated by its one-time token) the security type is None.
    ``await succeed()`` / ``await refuse(reason)`` then finish the handshake once
    the proxy knows whether the guest is reachable.
    """

    def __init__(self, stream: ByteStream) -> None:
        self.stream = stream
        self.version: tuple[int, int] = (3, 3)
        self._security = SEC_INVALID

    async def accept(self, password: str | None) -> tuple[int, int]:
        stream = self.stream
        await stream.write(OUR_VERSION)
        self.version = parse_version(await stream.readexactly(12))
        wanted = SEC_VNC if password is not None else SEC_NONE
        if self.version == (3, 3):
            await stream.write(struct.pack("!I", wanted))
        else:
            await stream.write(bytes([1, wanted]))
            chosen = (await stream.readexactly(1))[0]
            if chosen != wanted:
                await _fail(stream, self.version, "unsupported security type")
                raise HandshakeError(f"client chose security type {chosen}, offered {wanted}")
        self._security = wanted
        if password is not None:
            challenge = os.urandom(16)
            await stream.write(challenge)
            answer = await stream.readexactly(16)
            if answer != vnc_response(password, challenge):
                await _fail(stream, self.version, "authentication failed")
                raise AuthFailed("wrong password")
        return self.version

    async def succeed(self) -> None:
        """Send the security result OK (RFB 3.3/3.7 send none after security type None)."""
        if self._security == SEC_VNC or self.version >= (3, 8):
            await self.stream.write(struct.pack("!I", 0))

    async def refuse(self, reason: str) -> None:
        """Tell the authenticated client that its console cannot be reached."""
        if self._security == SEC_VNC or self.version >= (3, 8):
            await _fail(self.stream, self.version, reason)


async def connect_guest(stream: ByteStream, password: str | None) -> tuple[int, int]:
    """Do the client side of the handshake with the guest's VNC server (None or VNC auth).

    Returns the version spoken; afterwards the guest waits for ClientInit.
    """
    version = parse_version(await stream.readexactly(12))
    await stream.write(b"RFB 003.%03d\n" % version[1])
    if version == (3, 3):
        (kind,) = struct.unpack("!I", await stream.readexactly(4))
        if kind == SEC_INVALID:
            raise HandshakeError(f"guest refused the connection: {await _reason(stream)}")
        offered = [kind]
    else:
        (count,) = await stream.readexactly(1)
        if count == 0:
            raise HandshakeError(f"guest refused the connection: {await _reason(stream)}")
        offered = list(await stream.readexactly(count))
    if password is None and SEC_NONE in offered:
        chosen = SEC_NONE
    elif SEC_VNC in offered:
        if password is None:
            raise HandshakeError("guest asks for a VNC password and none is configured")
        chosen = SEC_VNC
    elif SEC_NONE in offered:
        chosen = SEC_NONE
    else:
        raise HandshakeError(f"guest offers no supported security type: {offered}")
    if version != (3, 3):
        await stream.write(bytes([chosen]))
    if chosen == SEC_VNC:
        challenge = await stream.readexactly(16)
        await stream.write(vnc_response(password or "", challenge))
    if chosen == SEC_VNC or version >= (3, 8):
        (result,) = struct.unpack("!I", await stream.readexactly(4))
        if result != 0:
            reason = await _reason(stream) if version >= (3, 8) else "security failure"
            raise HandshakeError(f"guest refused authentication: {reason}")
    return version


async def _reason(stream: ByteStream) -> str:
    (length,) = struct.unpack("!I", await stream.readexactly(4))
    return (await stream.readexactly(min(length, 4096))).decode("latin-1", "replace")
