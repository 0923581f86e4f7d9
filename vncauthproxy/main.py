"""``cyclades-vncauthproxy`` entry point."""

from __future__ import annotations

import argparse

from cyclades.cli import StartupError, run


def _main(argv: list[str]) -> int:
    argparse.ArgumentParser(prog="cyclades-vncauthproxy", description="VNC authentication proxy for server consoles.").parse_args(
        argv
    )
    raise StartupError("the VNC authentication proxy is not part of this release yet (it comes with the VNC console issue)")


def main() -> None:
    run(_main)
