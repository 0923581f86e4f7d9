"""Processes with bad settings stop with one line naming the problem, not a traceback."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

PY = sys.executable


def run_entry(entry: str, env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    code = f"import sys; sys.argv[0] = {entry.split(':')[0].rsplit('.', 1)[-1]!r}; from {entry.split(':')[0]} import {entry.split(':')[1]} as m; m()"
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(("CYCLADES_", "DJANGO_"))}
    full_env.update({"CYCLADES_SECRET_KEY": "k" * 40, "CYCLADES_DATA_DIR": env.pop("DATA_DIR", "/tmp/cyclades-startup-test")})
    full_env.update(env)
    return subprocess.run([PY, "-c", code, *args], env=full_env, capture_output=True, text=True, timeout=60)


def assert_one_line_error(proc: subprocess.CompletedProcess, *fragments: str) -> None:
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    for fragment in fragments:
        assert fragment in lines[0]


def test_manage_with_unknown_database_scheme():
    proc = run_entry("cyclades.cli:manage", {"CYCLADES_DATABASE_URL": "oracle://db/x"}, "check")
    assert_one_line_error(proc, "CYCLADES_DATABASE_URL", "unknown database scheme 'oracle'")


def test_manage_without_secret_key():
    proc = run_entry("cyclades.cli:manage", {"CYCLADES_SECRET_KEY": ""}, "check")
    assert_one_line_error(proc, "CYCLADES_SECRET_KEY", "required")


def test_dispatcher_with_unreachable_rabbitmq(tmp_path):
    proc = run_entry(
        "dispatcher.main:main", {"CYCLADES_BUS_URL": "amqp://guest:guest@127.0.0.1:1/%2F", "DATA_DIR": str(tmp_path)}
    )
    assert_one_line_error(proc, "cannot reach RabbitMQ at amqp://guest@127.0.0.1:1")
    assert "guest:guest" not in proc.stderr  # no password in the message


@pytest.mark.parametrize("entry", ["dispatcher.main:main", "cyclades.allinone:main"])
def test_bad_bus_scheme(entry, tmp_path):
    proc = run_entry(
        entry,
        {"CYCLADES_BUS_URL": "kafka://x", "DATA_DIR": str(tmp_path)},
        *(["--data-dir", str(tmp_path)] if "allinone" in entry else []),
    )
    assert_one_line_error(proc, "CYCLADES_BUS_URL", "kafka")
