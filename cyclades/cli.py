"""Console-script plumbing: every process stops with one clear line on a bad start.

A daemon that cannot start (a bad setting, an unreachable broker) prints
``<program>: error: <what is wrong>`` on stderr and exits with status 2, never a
traceback. Django-free, so eventd can use it.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable

from cyclades.conf import SettingsError

EXIT_STARTUP = 2


class StartupError(Exception):
    """A process cannot start; the message says why."""


def _startup_errors() -> tuple[type[BaseException], ...]:
    errors: list[type[BaseException]] = [SettingsError, StartupError]
    try:
        from bus import BusError

        errors.append(BusError)
    except ImportError:  # the bus is optional on hook-only nodes
        pass
    return tuple(errors)


def run(main: Callable[[list[str]], int | None], argv: list[str] | None = None) -> None:
    """Run ``main(argv)``; turn startup errors into one line and exit code 2."""
    prog = os.path.basename(sys.argv[0]) or "cyclades"
    try:
        code = main(sys.argv[1:] if argv is None else argv)
    except _startup_errors() as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        sys.exit(EXIT_STARTUP)
    except KeyboardInterrupt:
        sys.exit(130)
    sys.exit(code or 0)


def django_setup() -> None:
    """Load settings (raising SettingsError with a clear message) and set Django up."""
    from cyclades import conf

    conf.load()  # fail early with the setting's name, before Django wraps errors
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cyclades.settings")
    import django

    django.setup()


def _manage(argv: list[str]) -> int:
    from cyclades import conf

    conf.load()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cyclades.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["cyclades-manage", *argv])
    return 0


def manage() -> None:
    """``cyclades-manage``: Django's management command with the product's commands."""
    run(_manage)
