"""Asking Ganeti for an instance's live NICs/disks/beparams (through ``logic.rapi``).

eventd attaches them to the success message of create/startup/set_params/reboot,
so the dispatcher learns the IPs and MACs Ganeti chose without polling. The
lookup is a plain callable ``name -> RAPI instance dict or None`` so tests and
the benchmark can inject their own; a failed lookup is logged and the message
goes out without the live fields (the hook report and reconciliation still
carry them).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

Lookup = Callable[[str], dict[str, Any] | None]


def _read(path: str, what: str) -> str:
    from cyclades.cli import StartupError

    try:
        with open(path) as f:
            return f.read()
    except OSError as exc:
        raise StartupError(f"{what} {path}: {exc.strerror or exc}") from exc


def rapi_lookup(
    host: str,
    port: int,
    username: str | None,
    password_file: str | None,
    certificate_file: str | None,
    *,
    timeout: float = 5.0,
) -> Lookup:
    """A lookup through the product's RAPI client (``logic.rapi``, Django-free)."""
    from logic.rapi import RapiClient, RapiError, RapiNotFound

    password = _read(password_file, "EVENTD_RAPI_PASSWORD_FILE").strip() if password_file else None
    pem = _read(certificate_file, "EVENTD_RAPI_CERT") if certificate_file else None
    client = RapiClient(host, port, username or None, password, pem, timeout=timeout, read_retries=1)

    def lookup(name: str) -> dict[str, Any] | None:
        try:
            return client.get_instance(name)
        except RapiNotFound:
            log.info("instance %s is gone already; no live NICs/disks to report", name)
        except RapiError as exc:
            log.warning("cannot query instance %s through RAPI: %s", name, exc)
        return None

    return lookup
