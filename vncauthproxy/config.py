"""The proxy's configuration, read from the product's settings (``VNCAUTHPROXY_*``)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

WEB_DIR = Path(__file__).resolve().parent / "web"


def parse_port_range(text: str) -> range:
    """``"5900-5999"`` -> range(5900, 6000); raises ValueError on nonsense."""
    low, sep, high = str(text).partition("-")
    start, stop = int(low), int(high if sep else low)
    if not 0 < start <= stop < 65536:
        raise ValueError(f"not a port range: {text!r} (use e.g. 5900-5999)")
    return range(start, stop + 1)


@dataclass(frozen=True)
class ProxyConfig:
    """Everything the daemon needs; ``from_settings`` maps the product's settings onto it."""

    secret: str
    control_host: str = "127.0.0.1"
    control_port: int = 24999
    control_cert: str = ""
    control_key: str = ""
    listen_host: str = "127.0.0.1"
    ports: range = range(5900, 6000)
    web_port: int = 6080  # -1: no web/WebSocket listener; 0: any free port (tests)
    web_dir: str = str(WEB_DIR)
    forward_ttl: float = 30.0
    max_ttl: float = 300.0
    handshake_timeout: float = 10.0
    connect_timeout: float = 5.0
    idle_timeout: float = 900.0
    session_timeout: float = 8 * 3600.0
    max_pending: int = 1000
    max_sessions: int = 500
    max_failures: int = 3
    sweep_interval: float = 1.0

    @classmethod
    def from_settings(cls, s: dict) -> ProxyConfig:
        secret = s.get("VNCAUTHPROXY_SECRET") or ""
        secret_file = s.get("VNCAUTHPROXY_SECRET_FILE") or ""
        if not secret and secret_file:
            secret = Path(secret_file).read_text().strip()
        return cls(
            secret=secret,
            control_host=s["VNCAUTHPROXY_CONTROL_HOST"],
            control_port=s["VNCAUTHPROXY_CONTROL_PORT"],
            control_cert=s["VNCAUTHPROXY_CONTROL_CERT"] or "",
            control_key=s["VNCAUTHPROXY_CONTROL_KEY"] or "",
            listen_host=s["VNCAUTHPROXY_LISTEN_HOST"],
            ports=parse_port_range(s["VNCAUTHPROXY_PORT_RANGE"]),
            web_port=s["VNCAUTHPROXY_WEB_PORT"],
            web_dir=s["VNCAUTHPROXY_WEB_DIR"] or str(WEB_DIR),
            forward_ttl=s["VNCAUTHPROXY_FORWARD_TTL"],
            handshake_timeout=s["VNCAUTHPROXY_HANDSHAKE_TIMEOUT"],
            idle_timeout=s["VNCAUTHPROXY_IDLE_TIMEOUT"],
            session_timeout=s["VNCAUTHPROXY_SESSION_TIMEOUT"],
            max_pending=s["VNCAUTHPROXY_MAX_PENDING"],
            max_sessions=s["VNCAUTHPROXY_MAX_SESSIONS"],
        )

    def novnc_dir(self) -> str:
        """Where noVNC (npm ``@novnc/novnc``) is installed for the viewer page."""
        return os.path.join(self.web_dir, "node_modules", "@novnc", "novnc")
