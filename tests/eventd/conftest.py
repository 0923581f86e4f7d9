"""Fixtures of the eventd tests: the real sample job files, a job queue directory written like Ganeti does."""

from __future__ import annotations

import functools
import json
import os
import re
import time
from pathlib import Path

import pytest

SAMPLES = Path(__file__).resolve().parent.parent / "fixtures" / "ganeti-samples"
JOB_QUEUE_SAMPLES = SAMPLES / "job-queue"
CLUSTER = "cluster.ganeti.test"


def sample_versions(job_id: int) -> list[Path]:
    """Every successive version of sample job ``job_id`` (job-N.00, job-N.01, ...), in order."""
    paths = [p for p in JOB_QUEUE_SAMPLES.iterdir() if re.fullmatch(rf"job-{job_id}\.\d+", p.name)]
    return sorted(paths, key=lambda p: int(p.name.rsplit(".", 1)[1]))


def all_sample_files() -> list[Path]:
    return sorted(JOB_QUEUE_SAMPLES.iterdir())


_TIMESTAMP_KEYS = ("received_timestamp", "start_timestamp", "exec_timestamp", "end_timestamp")


def _timestamps(job: dict):
    """Every ``[sec, usec]`` pair of a job: the job's, each opcode's and each log entry's."""
    for holder in (job, *job.get("ops", ())):
        for key in _TIMESTAMP_KEYS:
            if holder.get(key):
                yield holder[key]
        for entry in holder.get("log") or ():
            yield entry[1]


@functools.cache
def _shift_seconds() -> int:
    """How far the samples are moved so that the newest one ended a minute before this run.

    One shift for every sample of a run keeps their order and spacing, so versions of one
    job and jobs against each other stay as Ganeti wrote them.
    """
    newest = max(pair[0] for path in all_sample_files() for pair in _timestamps(json.loads(path.read_bytes())))
    return int(time.time()) - 60 - newest


def fresh_sample(path: Path) -> bytes:
    """A sample job file with its timestamps moved to just before now.

    The samples were recorded on a fixed day; eventd forgets finished jobs past its
    retention horizon, so a sample used as is would behave differently as the calendar
    moves on. Tests that feed samples to eventd use this, never the raw bytes.
    """
    job = json.loads(path.read_bytes())
    shift = _shift_seconds()
    for pair in _timestamps(job):
        pair[0] += shift
    return json.dumps(job).encode()


def write_job(queue_dir: Path, job_id: int, data: bytes) -> Path:
    """Write ``job-<id>`` the way Ganeti does: a temporary file renamed over the old one."""
    target = queue_dir / f"job-{job_id}"
    tmp = queue_dir / f".job-{job_id}.tmp{time.monotonic_ns()}"
    tmp.write_bytes(data)
    os.rename(tmp, target)
    return target


@pytest.fixture
def queue_dir(tmp_path: Path) -> Path:
    path = tmp_path / "queue"
    path.mkdir()
    return path


def collect(bus, queue: str, *, expect: int, timeout: float = 10.0) -> list:
    """Get (and ack) messages from ``queue`` until ``expect`` arrived or ``timeout`` passed."""
    got = []
    deadline = time.monotonic() + timeout
    while len(got) < expect and time.monotonic() < deadline:
        message = bus.get(queue)
        if message is None:
            time.sleep(0.02)
            continue
        bus.ack(message)
        got.append(message)
    return got
