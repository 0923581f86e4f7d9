"""Usage records from the state history the event pipeline writes (real PostgreSQL, the dispatcher's batch path).

The hand-computed case (flavor A = 1 vCPU / 256 MiB / 1 GiB, B = 2 vCPU / 512 MiB / 2 GiB):

    0h created, running A   2h stopped   3h started   5h resized to B   8h removed

over [0h, 10h): running 2+2+3 = 7 h; vCPU-hours 2+2+6 = 10; RAM 512+512+1536 = 2560 MiB-h;
disk 5×1 + 3×2 = 11 GiB-h over 8 h of existence.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from logic.enums import OpCode, OperState, ServerTask
from logic.models import Server, ServerStateRecord
from logic.usage import records
from tests.admin.events import CLUSTER, dispatch, op_event
from tests.factories import BackendFactory, FlavorFactory, ServerFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

H = timedelta(hours=1)


@pytest.fixture
def base():
    """A period start well in the past (fresh each run: no dependence on the date)."""
    return (timezone.now() - 30 * H).replace(minute=0, second=0, microsecond=0)


@pytest.fixture
def history(base, member):
    """One server through the hand-computed life above; returns (server, flavor A, flavor B)."""
    backend = BackendFactory(name=CLUSTER)
    small = FlavorFactory(vcpus=1, ram=256, disk=1)
    big = FlavorFactory(vcpus=2, ram=512, disk=2)
    server = ServerFactory(
        backend=backend, flavor=small, project=member.project, user=member.user_obj, task=ServerTask.BUILD, task_job_id=1
    )
    name = server.ganeti_name
    dispatch(op_event(name, OpCode.INSTANCE_CREATE, 1, base, beparams={"vcpus": 1, "maxmem": 256, "minmem": 256}))
    dispatch(op_event(name, OpCode.INSTANCE_SHUTDOWN, 2, base + 2 * H))
    dispatch(op_event(name, OpCode.INSTANCE_STARTUP, 3, base + 3 * H))
    # the API's intent for a resize (logic.servers.resize): new flavor, old one kept, task waiting for job 4
    Server.objects.filter(pk=server.pk).update(flavor=big, old_flavor=small, task=ServerTask.RESIZE, task_job_id=4)
    dispatch(op_event(name, OpCode.INSTANCE_SET_PARAMS, 4, base + 5 * H, beparams={"vcpus": 2, "maxmem": 512, "minmem": 512}))
    dispatch(op_event(name, OpCode.INSTANCE_REMOVE, 5, base + 8 * H))
    return server, small, big


def test_the_pipeline_writes_the_state_history(history, base):
    server, small, big = history
    rows = list(ServerStateRecord.objects.filter(server=server).values_list("at", "operstate", "vcpus"))
    assert rows == [
        (base, OperState.STARTED, 1),
        (base + 2 * H, OperState.STOPPED, 1),
        (base + 3 * H, OperState.STARTED, 1),
        (base + 5 * H, OperState.STARTED, 2),
        (base + 8 * H, OperState.DESTROYED, 2),
    ]


def test_usage_matches_the_hand_computed_case(history, base, member):
    server, _, big = history
    [project] = records.compute(base, base + 10 * H)
    assert project.project_id == member.project.pk
    [usage] = project.servers
    assert usage.server_id == server.pk and usage.flavor == big.name
    assert usage.running_hours == pytest.approx(7)
    assert usage.vcpu_hours == pytest.approx(10)
    assert usage.ram_mib_hours == pytest.approx(2560)
    assert usage.existing_hours == pytest.approx(8)
    assert usage.disk_gib_hours == pytest.approx(11)
    assert usage.ended_at == base + 8 * H and usage.state == OperState.DESTROYED


def test_a_period_cuts_the_intervals(history, base):
    [project] = records.compute(base + H, base + 4 * H)
    [usage] = project.servers
    assert (usage.running_hours, usage.vcpu_hours, usage.ram_mib_hours) == pytest.approx((2, 2, 512))
    assert (usage.existing_hours, usage.disk_gib_hours) == pytest.approx((3, 3))
    assert records.compute(base + 9 * H, base + 10 * H) == []  # removed by then


def test_a_period_not_over_yet_ends_now(member, base):
    server = ServerFactory(
        project=member.project, user=member.user_obj, backend=BackendFactory(name=CLUSTER), task=ServerTask.BUILD, task_job_id=1
    )
    dispatch(op_event(server.ganeti_name, OpCode.INSTANCE_CREATE, 1, base))
    [project] = records.compute(base, base + 100 * H, now=base + 4 * H)
    assert project.servers[0].running_hours == pytest.approx(4)


def test_usage_export_command_csv_and_json(history, base, tmp_path):
    out = io.StringIO()
    start, end = (base.isoformat(), (base + 10 * H).isoformat())
    call_command("usage-export", "--from", start, "--to", end, "--format", "csv", "--no-progress", stdout=out)
    [row] = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert float(row["vcpu_hours"]) == pytest.approx(10) and float(row["disk_gib_hours"]) == pytest.approx(11)
    target = tmp_path / "usage.json"
    call_command("usage-export", "--from", start, "--to", end, "--format", "json", "--output", str(target), "--no-progress")
    data = json.loads(target.read_text())
    assert data["projects"][0]["ram_mib_hours"] == pytest.approx(2560)


def test_usage_export_refuses_a_bad_period():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="end of the period"):
        call_command("usage-export", "--from", "2024-02-01", "--to", "2024-01-01")
    with pytest.raises(CommandError, match="Invalid start"):
        call_command("usage-export", "--from", "yesterday")


def test_admin_usage_endpoint_json_csv_msgpack(history, base, admin, member):
    import msgpack

    query = {"start": base.isoformat(), "end": (base + 10 * H).isoformat()}
    body = admin.get("/admin/v1/usage", query).json()
    assert body["projects"][0]["vcpu_hours"] == pytest.approx(10)
    as_csv = admin.get("/admin/v1/usage", {**query, "format": "csv"})
    assert as_csv["Content-Type"].startswith("text/csv")
    assert float(next(csv.DictReader(io.StringIO(as_csv.content.decode())))["ram_mib_hours"]) == pytest.approx(2560)
    packed = admin.get("/admin/v1/usage", query, HTTP_ACCEPT="application/msgpack")
    assert msgpack.unpackb(packed.content) == body
    bad = admin.get("/admin/v1/usage", {"start": "soon"})
    assert bad.status_code == 400 and "Invalid start" in bad.json()["badRequest"]["message"]
    assert member.get("/admin/v1/usage", query).status_code == 403


def test_progress_bar_runs_for_large_walks(monkeypatch, capsys):
    from logic.management.commands import _progress

    monkeypatch.setattr(_progress, "PROGRESS_FROM", 2)
    with _progress.progress_bar("walking") as start:
        step = start(3)
        for _ in range(3):
            step()
    with _progress.progress_bar("walking", enabled=False) as start:
        start(1000)()
    assert capsys.readouterr().out == ""


def test_nova_simple_tenant_usage_shapes_and_policy(history, base, member, admin, other):
    server, _, big = history
    mv = {"HTTP_X_OPENSTACK_NOVA_API_VERSION": "2.1"}
    query = {"start": base.replace(tzinfo=None).isoformat(), "end": (base + 10 * H).replace(tzinfo=None).isoformat()}
    shown = member.get(f"/compute/v2.1/os-simple-tenant-usage/{member.project.pk}", query, **mv).json()["tenant_usage"]
    assert shown["total_vcpus_usage"] == pytest.approx(10) and shown["total_hours"] == pytest.approx(8)
    [item] = shown["server_usages"]
    assert item["instance_id"] == str(server.pk) and item["state"] == "terminated" and item["flavor"] == big.name
    assert item["uptime"] == 8 * 3600
    assert member.get("/compute/v2.1/os-simple-tenant-usage", query, **mv).status_code == 403
    assert other.get(f"/compute/v2.1/os-simple-tenant-usage/{member.project.pk}", query, **mv).status_code == 403
    listed = admin.get("/compute/v2.1/os-simple-tenant-usage", query, **mv).json()["tenant_usages"]
    assert [u["tenant_id"] for u in listed] == [member.project.pk] and "server_usages" not in listed[0]
    detailed = admin.get("/compute/v2.1/os-simple-tenant-usage", {**query, "detailed": "1"}, **mv).json()
    assert len(detailed["tenant_usages"][0]["server_usages"]) == 1
    empty = admin.get(f"/compute/v2.1/os-simple-tenant-usage/{other.project.pk}", query, **mv).json()
    assert empty == {"tenant_usage": {}}
    bad = member.get(f"/compute/v2.1/os-simple-tenant-usage/{member.project.pk}", {"start": "x"}, **mv)
    assert bad.status_code == 400 and "Invalid start" in bad.json()["badRequest"]["message"]
