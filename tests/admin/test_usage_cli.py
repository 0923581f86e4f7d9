"""The unmodified ``openstack usage show/list`` against the live test server (Nova's os-simple-tenant-usage)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from logic.enums import OpCode, ServerTask
from logic.models import Server
from tests.admin.events import CLUSTER, dispatch, op_event
from tests.factories import BackendFactory, FlavorFactory, ServerFactory

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

H = timedelta(hours=1)
OPENSTACK = Path(sys.executable).parent / "openstack"


def openstack(env_vars: dict[str, str], *args: str) -> dict | list:
    cli = str(OPENSTACK) if OPENSTACK.exists() else shutil.which("openstack")
    env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")} | env_vars | {"HOME": os.environ.get("HOME", "/tmp")}
    proc = subprocess.run([cli, *args, "-f", "json"], env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, f"openstack {' '.join(args)}: {proc.stdout}\n{proc.stderr}"
    return json.loads(proc.stdout)


@pytest.fixture
def lived(live_identity):
    """The hand-computed life of tests/admin/test_usage.py, in the member's project."""
    base = (timezone.now() - 30 * H).replace(minute=0, second=0, microsecond=0)
    small, big = FlavorFactory(vcpus=1, ram=256, disk=1), FlavorFactory(vcpus=2, ram=512, disk=2)
    member = live_identity.member
    server = ServerFactory(
        backend=BackendFactory(name=CLUSTER),
        flavor=small,
        project=member.project,
        user=member.user,
        task=ServerTask.BUILD,
        task_job_id=1,
    )
    name = server.ganeti_name
    dispatch(op_event(name, OpCode.INSTANCE_CREATE, 1, base))
    dispatch(op_event(name, OpCode.INSTANCE_SHUTDOWN, 2, base + 2 * H))
    dispatch(op_event(name, OpCode.INSTANCE_STARTUP, 3, base + 3 * H))
    Server.objects.filter(pk=server.pk).update(flavor=big, old_flavor=small, task=ServerTask.RESIZE, task_job_id=4)
    dispatch(op_event(name, OpCode.INSTANCE_SET_PARAMS, 4, base + 5 * H, beparams={"vcpus": 2, "maxmem": 512, "minmem": 512}))
    dispatch(op_event(name, OpCode.INSTANCE_REMOVE, 5, base + 8 * H))
    return live_identity


def test_openstack_usage_show_as_the_member(lived):
    shown = openstack(lived.os_env(lived.member), "usage", "show")
    assert shown["Project"] == lived.project.pk
    assert len(shown["Servers"]) == 1  # the JSON formatter gives the list; the table shows its length
    assert float(shown["CPU Hours"]) == pytest.approx(10)
    assert float(shown["RAM MB-Hours"]) == pytest.approx(2560)
    assert float(shown["Disk GB-Hours"]) == pytest.approx(11)


def test_openstack_usage_list_as_the_admin(lived):
    listed = openstack(lived.os_env(lived.admin), "usage", "list")
    [row] = listed
    assert row["Project"] == lived.project.pk and len(row["Servers"]) == 1 and float(row["CPU Hours"]) == pytest.approx(10)
    # a project that used nothing: Nova's empty answer, which the CLI shows as such
    other = openstack(lived.os_env(lived.admin), "usage", "show", "--project", lived.other_project.pk)
    assert not other.get("Servers")
