"""Helpers of the backend admin commands: finding a backend, reading secrets and files, output."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any

from django.core.management.base import CommandError

from logic.errors import LogicError
from logic.models import Backend, Server
from logic.rapi import RapiError

PASSWORD_ENV = "CYCLADES_BACKEND_RAPI_PASSWORD"


def backend_errors(handle: Callable) -> Callable:
    """Rule violations and RAPI failures become one line on stderr and exit status 1."""

    @wraps(handle)
    def wrapper(*args, **kwargs):
        try:
            return handle(*args, **kwargs)
        except (LogicError, RapiError) as exc:
            raise CommandError(str(exc)) from None

    return wrapper


def get_backend(name_or_id: str) -> Backend:
    query = Backend.objects.filter(name=name_or_id)
    if name_or_id.isdigit():
        query = query | Backend.objects.filter(id=int(name_or_id))
    backend = query.first()
    if backend is None:
        raise CommandError(f"no backend {name_or_id!r} (see backend-list)")
    return backend


def add_password_options(parser, *, required: bool) -> None:
    parser.add_argument("--password-file", help="File holding the RAPI password (first line); '-' reads standard input.")
    parser.add_argument(
        "--password",
        help=f"The RAPI password on the command line (visible in the process list: prefer --password-file or ${PASSWORD_ENV}).",
    )
    parser.set_defaults(password_required=required)


def read_password(options: dict, *, required: bool) -> str | None:
    """From --password-file, else the environment variable, else --password."""
    if options.get("password_file"):
        path = options["password_file"]
        try:
            text = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise CommandError(f"cannot read the password file: {exc}") from None
        password = text.splitlines()[0] if text.strip() else ""
        if not password:
            raise CommandError("the password file is empty")
        return password
    if os.environ.get(PASSWORD_ENV):
        return os.environ[PASSWORD_ENV]
    if options.get("password"):
        return options["password"]
    if required:
        raise CommandError(f"give the RAPI password with --password-file FILE or ${PASSWORD_ENV}")
    return None


def read_certificate(path: str | None) -> str | None:
    if not path:
        return None
    try:
        return Path(path).read_text(encoding="ascii")
    except (OSError, UnicodeError) as exc:
        raise CommandError(f"cannot read the certificate file: {exc}") from None


def describe(backend: Backend) -> dict[str, Any]:
    """Everything an operator wants to see about a backend (never the password)."""
    from logic.rapi import certificate_fingerprint

    fingerprint = certificate_fingerprint(backend.rapi_certificate) if backend.rapi_certificate else None
    return {
        "id": backend.id,
        "name": backend.name,
        "kind": backend.kind,
        "uri": backend.libvirt_uri or None,
        "rapi": f"{backend.rapi_host}:{backend.rapi_port}" if backend.rapi_host else None,
        "user": backend.rapi_user,
        "certificate_sha256": fingerprint,
        "hypervisor": backend.hypervisor,
        "disk_templates": list(backend.disk_templates or []),
        "drained": backend.drained,
        "offline": backend.offline,
        "mem_free_mib": backend.mem_free,
        "mem_total_mib": backend.mem_total,
        "cpu_free": backend.cpu_free,
        "cpu_total": backend.cpu_total,
        "disk_free_mib": backend.disk_free,
        "disk_total_mib": backend.disk_total,
        "stats_updated_at": backend.stats_updated_at.isoformat() if backend.stats_updated_at else None,
        "servers": Server.objects.filter(backend=backend, deleted=False).count(),
        "pinned_projects": sorted(str(p) for p in backend.pinned_projects.values_list("id", flat=True)),
    }


def state_of(row: dict) -> str:
    if row["offline"]:
        return "offline"
    return "drained" if row["drained"] else "online"


def print_rows(command, rows: list[dict], as_json: bool) -> None:
    """A rich table for people, JSON for scripts."""
    if as_json:
        command.stdout.write(json.dumps(rows, indent=2, default=str))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(box=None, header_style="bold")
    columns = [
        "id",
        "name",
        "state",
        "rapi",
        "hypervisor",
        "templates",
        "RAM free/total",
        "CPU free/total",
        "disk free/total",
        "servers",
        "stats",
    ]
    for c in columns:
        table.add_column(c)
    for r in rows:
        table.add_row(
            str(r["id"]),
            r["name"],
            state_of(r),
            r["rapi"],
            r["hypervisor"],
            ",".join(r["disk_templates"]),
            f"{r['mem_free_mib']}/{r['mem_total_mib']} MiB",
            f"{r['cpu_free']}/{r['cpu_total']}",
            f"{r['disk_free_mib']}/{r['disk_total_mib']} MiB",
            str(r["servers"]),
            (r["stats_updated_at"] or "never")[:19],
        )
    Console(file=command.stdout, width=200).print(table)


def print_one(command, row: dict, as_json: bool) -> None:
    if as_json:
        command.stdout.write(json.dumps(row, indent=2, default=str))
        return
    width = max(len(k) for k in row)
    for key, value in row.items():
        if isinstance(value, list):
            value = ", ".join(str(v) for v in value) or "-"
        command.stdout.write(f"{key.ljust(width)}  {value}")
