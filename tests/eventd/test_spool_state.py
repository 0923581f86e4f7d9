"""The on-disk spool (atomic, ordered, failure-stops-drain) and the published-state file."""

from __future__ import annotations

import os

import pytest

from eventd.spool import Spool
from eventd.state import PublishedState


def test_spool_keeps_order_and_writes_atomically(tmp_path):
    spool = Spool(str(tmp_path / "spool"))
    for i in range(50):
        spool.put("ganeti.c.op", {"id": f"m{i}", "n": i})
    names = spool.names()
    assert len(names) == 50 and names == sorted(names)
    assert not [n for n in os.listdir(spool.directory) if n.startswith(".")]  # no temporary left
    assert [item.body["n"] for item in spool] == list(range(50))
    assert [item.message_id for item in spool][:2] == ["m0", "m1"]


def test_two_writers_one_directory(tmp_path):
    a = Spool(str(tmp_path), source="eventd")
    b = Spool(str(tmp_path), source="hook")
    a.put("k", {"id": "a1"})
    b.put("k", {"id": "b1"})
    a.put("k", {"id": "a2"})
    assert [i.message_id for i in a] == ["a1", "b1", "a2"]


def test_drain_stops_at_the_first_failure_keeping_the_rest(tmp_path):
    spool = Spool(str(tmp_path))
    for i in range(5):
        spool.put("k", {"id": f"m{i}"})
    sent = []

    def publish(key, body, message_id):
        if message_id == "m2":
            raise ConnectionError("broker gone")
        sent.append(message_id)

    with pytest.raises(ConnectionError):
        spool.drain(publish)
    assert sent == ["m0", "m1"]
    assert [i.message_id for i in spool] == ["m2", "m3", "m4"]
    assert spool.drain(lambda k, b, m: sent.append(m)) == 3
    assert sent == ["m0", "m1", "m2", "m3", "m4"] and spool.depth() == 0


def test_unreadable_spool_file_is_quarantined_not_dropped(tmp_path):
    spool = Spool(str(tmp_path))
    spool.put("k", {"id": "good1"})
    (tmp_path / "00000000000000000001-x-1-00000001.msg").write_text("{not json")
    spool.put("k", {"id": "good2"})
    assert [i.message_id for i in spool] == ["good1", "good2"]
    assert os.listdir(tmp_path / "bad") == ["00000000000000000001-x-1-00000001.msg"]


def test_state_survives_reopen(tmp_path):
    path = str(tmp_path / "state.sqlite3")
    state = PublishedState(path)
    state.record(7, ["success", "running"], finished=False, ended=None)
    state.flush()
    state.close()
    state = PublishedState(path)
    assert state.published(7) == ["success", "running"]
    assert state.published(8) is None


def test_unflushed_state_is_lost_only_as_far_as_republishing(tmp_path):
    path = str(tmp_path / "state.sqlite3")
    state = PublishedState(path)
    state.record(1, ["success"], finished=True, ended=1e9)
    state.flush()
    state.record(2, ["running"], finished=False, ended=None)  # crash before flush
    state._db.close()
    again = PublishedState(path)
    assert again.published(1) == ["success"] and again.published(2) is None


def test_prune_bounds_the_state(tmp_path):
    state = PublishedState(str(tmp_path / "s.sqlite3"), retention=3600)
    now = 1_000_000.0
    state.record(1, ["success"], finished=True, ended=now - 7200)  # ended long ago
    state.record(2, ["success"], finished=True, ended=now - 10)  # recent, file archived
    state.record(3, ["success"], finished=True, ended=now - 10)  # recent, file present
    state.record(4, ["running"], finished=False, ended=None)  # running: always kept
    state.flush()
    assert state.prune(present_job_ids=[3, 4], now=now) == 2
    assert [state.published(i) for i in (1, 2, 3, 4)] == [None, None, ["success"], ["running"]]
    assert state.is_forgotten(now - 7200, now=now) and not state.is_forgotten(now - 10, now=now)
    assert not state.is_forgotten(None, now=now)
