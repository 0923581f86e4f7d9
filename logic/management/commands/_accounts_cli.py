"""Helpers shared by the identity admin commands: errors as CommandError, tables or JSON output."""

from __future__ import annotations

import getpass
import json
import sys
from collections.abc import Callable, Iterable
from functools import wraps
from pathlib import Path

from django.core.management.base import CommandError

from logic.accounts import AccountError


def account_errors(handle: Callable) -> Callable:
    """Turn AccountError into CommandError (one line on stderr, exit status 1)."""

    @wraps(handle)
    def wrapper(*args, **kwargs):
        try:
            return handle(*args, **kwargs)
        except AccountError as exc:
            raise CommandError(str(exc)) from None

    return wrapper


def render(rows: Iterable[dict], columns: list[str], as_json: bool) -> str:
    """Rows as JSON (for scripts) or as an aligned text table."""
    rows = list(rows)
    if as_json:
        return json.dumps(rows, indent=2, default=str)
    table = [columns] + [[str(row.get(c, "")) for c in columns] for row in rows]
    widths = [max(len(line[i]) for line in table) for i in range(len(columns))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip() for line in table)


def read_password(options) -> str | None:
    """From --password, --password-file (``-``: stdin; first line) or, only with --password-prompt, the terminal."""
    if options["password"] is not None:
        return options["password"]
    if options["password_file"]:
        path = options["password_file"]
        try:
            text = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise CommandError(f"cannot read the password file: {exc}") from None
        password = text.splitlines()[0] if text else ""
        if not password:
            raise CommandError("the password file is empty")
        return password
    if options["password_prompt"]:
        first = getpass.getpass("Password: ")
        if first != getpass.getpass("Password (again): "):
            raise CommandError("the passwords do not match")
        return first
    return None
