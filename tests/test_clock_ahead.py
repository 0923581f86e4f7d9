"""The date guard's ``--clock-ahead`` really moves the clock a test sees (and only Python's wall clock)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

INNER = """
import datetime as dt, os, time
from django.utils import timezone

def test_the_clock_is_ahead():
    real = float(os.environ["REAL_NOW"])
    assert 29.9 * 86400 < time.time() - real < 30.1 * 86400
    assert 29.9 < (timezone.now() - dt.datetime.fromtimestamp(real, dt.UTC)).total_seconds() / 86400 < 30.1
    assert (dt.date.today() - dt.date.fromtimestamp(real)).days in (29, 30, 31)

def test_the_monotonic_clock_is_not_moved():
    assert time.monotonic() < float(os.environ["REAL_MONOTONIC"]) + 3600
"""


@pytest.mark.realclock  # it compares its own clock with a subprocess's: not itself run with the clock moved
def test_clock_ahead_moves_wall_clocks_not_the_monotonic_one(tmp_path):
    (tmp_path / "test_inner.py").write_text(INNER)
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "REAL_NOW": str(time.time()),
        "REAL_MONOTONIC": str(time.monotonic()),
        "DJANGO_SETTINGS_MODULE": "tests.settings",
    }
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "tests.clock_ahead",
            "--clock-ahead",
            "30",
            "-c",
            os.devnull,
            "--rootdir",
            str(tmp_path),
            "-p",
            "no:cacheprovider",
            str(tmp_path / "test_inner.py"),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 passed" in done.stdout
