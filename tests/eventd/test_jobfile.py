"""Parsing Ganeti job files: every real sample version, and partial or garbage files."""

from __future__ import annotations

import json

import pytest

from eventd import jobfile
from tests.eventd.conftest import all_sample_files, sample_versions


@pytest.mark.parametrize("path", all_sample_files(), ids=lambda p: p.name)
def test_every_sample_version_parses(path):
    job = jobfile.read(path)
    raw = json.loads(path.read_bytes())
    assert job.id == raw["id"]
    assert [op.status for op in job.ops] == [op["status"] for op in raw["ops"]]
    assert all(op.op_id.startswith("OP_") for op in job.ops)
    assert job.received_timestamp is not None


def test_create_sample_details():
    job = jobfile.read(sample_versions(2)[-1])
    (op,) = job.ops
    assert (job.id, op.op_id, op.instance, op.status, job.status) == (2, "OP_INSTANCE_CREATE", "smoke-1", "success", "success")
    assert op.end_timestamp == (1795211572, 542520)
    assert op.last_log_message == "* starting instance..."
    assert op.result == ["node1.ganeti.test"]


def test_network_sample_has_network_name():
    op = jobfile.read(sample_versions(7)[-1]).ops[0]
    assert (op.op_id, op.network, op.instance) == ("OP_NETWORK_ADD", "snf-net-1", None)


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"   \n",
        b'{"id": 2, "ops": [{"input": {"OP_ID": "OP_INSTANCE_CREATE"}, "sta',  # truncated mid-write
        b"\x00\x01garbage\xff",
        b"[1, 2, 3]",
        b'{"id": "x", "ops": []}',
        b'{"id": 3, "ops": []}',
        b'{"id": 3, "ops": [{"input": {}, "status": "queued"}]}',
        b'{"id": 3, "ops": [{"input": {"OP_ID": "OP_X"}, "status": "exploded"}]}',
        b'{"id": 3, "ops": [{"input": {"OP_ID": "OP_X"}, "status": "queued", "start_timestamp": "yesterday"}]}',
        b'{"id": 3, "ops": [{"input": {"OP_ID": "OP_X"}, "status": "queued", "log": {}}]}',
    ],
)
def test_partial_or_garbage_files_are_refused(data):
    with pytest.raises(jobfile.JobFileError):
        jobfile.parse(data)


def test_every_truncation_of_a_real_file_is_refused_or_complete():
    data = sample_versions(9)[-1].read_bytes()
    for cut in range(0, len(data), 7):
        with pytest.raises(jobfile.JobFileError):
            jobfile.parse(data[:cut])
    assert jobfile.parse(data).id == 9


def test_missing_file_reads_as_none(tmp_path):
    assert jobfile.read(tmp_path / "job-5") is None


def test_file_name_must_match_its_job_id(tmp_path):
    (tmp_path / "job-5").write_bytes(sample_versions(2)[0].read_bytes())
    with pytest.raises(jobfile.JobFileError, match="holds job 2"):
        jobfile.read(tmp_path / "job-5")


@pytest.mark.parametrize(
    ("name", "job_id"),
    [("job-12", 12), ("job-0", 0), ("job-12.tmp", None), (".job-12.tmp1", None), ("lock", None), ("serial", None)],
)
def test_job_file_names(name, job_id):
    assert jobfile.job_id_from_name(name) == job_id


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        (["success", "success"], "success"),
        (["success", "running"], "running"),
        (["waiting", "queued"], "waiting"),
        (["queued", "queued"], "queued"),
        (["success", "error", "error"], "error"),
        (["canceling", "queued"], "canceling"),
        (["canceled", "canceled"], "canceled"),
        (["running", "waiting"], "running"),
    ],
)
def test_job_status_derivation(statuses, expected):
    assert jobfile.job_status(statuses) == expected
