"""Fixtures of the eventd tests: the real sample job files, a job queue directory written like Ganeti does."""

from __future__ import annotations

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
