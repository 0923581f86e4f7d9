"""The volume jobs on the real Ganeti sandbox: add, detach, attach (by name) and remove a volume's disk.

Checks what Ganeti itself reports (``gnt-instance info`` through gnt-ns, and the RAPI) after each job.
"""

from __future__ import annotations

import re
import subprocess

import pytest

from logic import volume_jobs
from logic.enums import OperState
from logic.models import Volume, VolumeType
from tests.factories import FlavorFactory, ServerFactory, UserFactory
from tests.fixtures_ganeti import create_instance

pytestmark = [pytest.mark.ganeti, pytest.mark.postgres, pytest.mark.django_db, pytest.mark.usefixtures("ganeti_reset")]


def gnt_disk_names(instance: str) -> list[str]:
    """The disk names ``gnt-instance info`` shows, in disk order."""
    out = subprocess.run(["gnt-ns", "gnt-instance", "info", instance], capture_output=True, text=True, timeout=60, check=True)
    disks = out.stdout.split("Disks:", 1)[1]
    blocks = re.split(r"^\s+- disk/\d+:", disks, flags=re.MULTILINE)[1:]
    return [m.group(1) for b in blocks if (m := re.search(r"^\s+name: (\S+)$", b, re.MULTILINE))]


def test_add_detach_attach_remove(rapi, wait_job, sandbox_backend):
    user = UserFactory()
    flavor = FlavorFactory(disk_template="file", disk=1)
    server = ServerFactory(user=user, flavor=flavor, backend=sandbox_backend, operstate=OperState.STOPPED)
    wait_job(create_instance(rapi, server.ganeti_name, disk_template="file", disks=[{"size": 64, "name": "root"}]))
    wait_job(rapi.shutdown_instance(server.ganeti_name, timeout=0))  # no hotplug: disks come off stopped instances
    vtype = VolumeType.objects.create(name="file-t", disk_template="file")
    volume = Volume.objects.create(project=server.project, user=user, size=1, volume_type=vtype, status="available")

    wait_job(volume_jobs.attach(volume, server))
    assert gnt_disk_names(server.ganeti_name) == ["root", volume.ganeti_name]
    info = rapi.get_instance(server.ganeti_name)
    assert info["disk.sizes"] == [64, 1024]

    wait_job(volume_jobs.detach(volume, server))
    assert gnt_disk_names(server.ganeti_name) == ["root"]

    volume.has_disk = True
    wait_job(volume_jobs.attach(volume, server))
    assert gnt_disk_names(server.ganeti_name) == ["root", volume.ganeti_name]
    wait_job(volume_jobs.detach(volume, server))

    # a detached disk is removed by attaching it and removing it, two dependent jobs
    wait_job(volume_jobs.remove(volume, server, attached=False))
    assert gnt_disk_names(server.ganeti_name) == ["root"]
    again = volume_jobs.attach(volume, server)
    with pytest.raises(Exception, match="(?i)not found|no disk|cannot find|doesn't exist|does not exist"):
        wait_job(again)
