"""The committed migration matches the models and applies to an empty database.

The suite runs with --nomigrations for speed, so both are checked in a separate
process with the real migration modules.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest


def manage(data_dir: str, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CYCLADES_DATABASE", "DJANGO_SETTINGS"))}
    env.update({"CYCLADES_SECRET_KEY": "m" * 40, "CYCLADES_DATA_DIR": data_dir})
    return subprocess.run(
        [sys.executable, "-c", "from cyclades.cli import manage; manage()", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_models_and_migrations_agree(tmp_path):
    proc = manage(str(tmp_path), "makemigrations", "logic", "--check", "--dry-run")
    if proc.returncode != 0:
        pytest.fail(f"models changed without a migration:\n{proc.stdout}{proc.stderr}")


def test_migrations_apply_to_an_empty_database(tmp_path):
    proc = manage(str(tmp_path), "migrate", "-v0")
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "cyclades.sqlite3").stat().st_size > 0
