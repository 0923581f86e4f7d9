"""Duplicates and reordering are harmless: any delivery order of any number of copies
gives the state that applying each event once, in order, gives (property-based)."""

from __future__ import annotations

import copy

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from logic.enums import ServerTask
from logic.events import apply_event
from logic.models import Server
from tests.pipeline.jobevents import SAMPLE_NIC, job_messages

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

SCENARIOS = {
    # create, shutdown, startup, an operator's reboot, remove
    "lifecycle": (2, 3, 4, 5, 6),
    # create on a network, shutdown, a reboot refused by a hook (error)
    "network": (9, 10, 19),
    # the same without the remove: the final state is not a terminal one
    "running": (2, 3, 4, 5),
}
FIELDS = (
    "operstate", "deleted", "task", "task_job_id", "backend_job_id", "backend_opcode", "backend_jobstatus",
    "backend_logmsg", "backendtime", "backend_eventtime", "fault", "launched_at", "terminated_at",
    "build_percentage", "flavor_id", "nics_synced_at", "backend_reboot_type",
)  # fmt: skip


def stream(jobs: tuple[int, ...], instance: str) -> list[dict]:
    out = []
    for job in jobs:
        # a NIC that changes over the life of the server: the newest report must win
        nics = [dict(SAMPLE_NIC, ip=f"10.0.1.{job}", mac=f"aa:00:01:00:00:{job:02d}")]
        out.extend(job_messages(job, instance=instance, nics=nics))
    return out


def snapshot(server: Server) -> dict:
    s = Server.objects.get(pk=server.pk)
    state = {f: getattr(s, f) for f in FIELDS}
    state["nics"] = list(s.nics.order_by("index").values_list("index", "mac", "ipv4", "network_name"))
    state["actions"] = list(s.actions.order_by("job_id").values_list("job_id", "result", "finish_time", "message"))
    return state


def rename(messages: list[dict], instance: str) -> list[dict]:
    out = copy.deepcopy(messages)
    for m in out:
        m["instance"] = instance
    return out


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data(), scenario=st.sampled_from(sorted(SCENARIOS)))
def test_every_message_twice_in_any_order_gives_the_in_order_state(make_server, data, scenario):
    jobs = SCENARIOS[scenario]
    in_order_server = make_server(task=ServerTask.BUILD, task_job=jobs[0])
    shuffled_server = make_server(task=ServerTask.BUILD, task_job=jobs[0])
    messages = stream(jobs, in_order_server.ganeti_name)
    # the stream may be cut anywhere (a job still running at the end)
    cut = data.draw(st.integers(min_value=1, max_value=len(messages)), label="cut")
    messages = messages[:cut]

    for m in messages:
        apply_event(m)
    deliveries = data.draw(st.permutations(rename(messages, shuffled_server.ganeti_name) * 2), label="deliveries")
    for m in deliveries:
        apply_event(m)

    expected, got = snapshot(in_order_server), snapshot(shuffled_server)
    assert got == expected
