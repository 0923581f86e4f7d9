"""``cyclades-vncauthproxy``: the VNC console authentication proxy.

Settings (``cyclades.conf``): VNCAUTHPROXY_* (secret, control socket, listen address,
port range, web port, timeouts, limits). A bad start (no secret, a port in use, an
unreadable certificate) is one line on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal

from cyclades import conf, logs
from cyclades.cli import StartupError, run
from vncauthproxy.config import ProxyConfig
from vncauthproxy.server import Proxy

log = logging.getLogger("vncauthproxy")


def build_config(settings: dict) -> ProxyConfig:
    """The proxy's configuration from settings (raises StartupError saying what is wrong)."""
    try:
        config = ProxyConfig.from_settings(settings)
    except OSError as exc:
        raise StartupError(f"VNCAUTHPROXY_SECRET_FILE: {exc}") from exc
    except ValueError as exc:
        raise StartupError(f"VNCAUTHPROXY_PORT_RANGE: {exc}") from exc
    if len(config.secret) < 32:
        raise StartupError("VNCAUTHPROXY_SECRET: set a shared secret of at least 32 characters (or VNCAUTHPROXY_SECRET_FILE)")
    return config


async def _serve(config: ProxyConfig) -> None:
    proxy = Proxy(config)
    try:
        await proxy.start()
    except OSError as exc:
        raise StartupError(f"cannot listen: {exc}") from exc
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        log.info("vncauthproxy stopping")
        await proxy.stop()


def _main(argv: list[str]) -> int:
    argparse.ArgumentParser(prog="cyclades-vncauthproxy", description="VNC authentication proxy for server consoles.").parse_args(
        argv
    )
    settings = conf.load()
    logs.setup(settings["LOG_FORMAT"], settings["LOG_LEVEL"])
    config = build_config(settings)
    asyncio.run(_serve(config))
    return 0


def main() -> None:
    run(_main)
