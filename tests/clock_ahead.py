"""``pytest --clock-ahead DAYS``: the whole run sees this process's clock moved DAYS ahead.

The date guard of scripts/test.sh uses it so that a test passing only near the day it
was written fails now, not next month. time-machine moves ``time.time``,
``datetime.now``, ``date.today`` and friends (the clock keeps ticking) but not the
monotonic clock, so timeouts and waits behave. Other processes (PostgreSQL, Ganeti,
the subprocesses a test starts) keep real time: only tests whose clocks are all this
process's belong in such a run.
"""

from __future__ import annotations

import datetime as dt

import pytest

_travel = None


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--clock-ahead", type=float, default=0.0, metavar="DAYS", help="move this process's clock DAYS ahead")


def pytest_configure(config: pytest.Config) -> None:
    global _travel
    days = config.getoption("--clock-ahead")
    if days:
        import time_machine

        _travel = time_machine.travel(dt.datetime.now(dt.UTC) + dt.timedelta(days=days), tick=True)
        _travel.start()


def pytest_report_header(config: pytest.Config) -> str | None:
    days = config.getoption("--clock-ahead")
    return f"clock moved {days:g} days ahead: now is {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC" if days else None


def pytest_unconfigure(config: pytest.Config) -> None:
    global _travel
    if _travel is not None:
        _travel.stop()
        _travel = None
