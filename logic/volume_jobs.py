"""Ganeti jobs for volumes: each function submits ModifyInstance jobs and returns the id to wait for.

A volume's disk is named ``volume.ganeti_name`` in Ganeti, and every modification names
the disk by it (indexes shift when disks come and go). Hotplug is off: the fake
hypervisor refuses it, and on KVM a disk change then applies at the next start.

* attach, first time: ``disks=[["add", -1, {"size": MiB, "name": ..., "dev_type": template}]]``;
* attach, a detached disk: ``[["attach", -1, {"name": ...}]]`` (Ganeti 3 keeps detached disks);
* detach: ``[["detach", name, {}]]``;
* an RBD volume (``ext``): attach adds an ext disk adopting its image (``provider``, ``image``),
  detach removes that disk (the provider keeps the image);
* remove a detached disk: attach it to its last server, then remove it (Ganeti has no
  opcode that removes a detached disk), as two jobs, the second depending on the first.
"""

from __future__ import annotations

import logging

from logic import rapi, volume_rbd
from logic.backends import client_for
from logic.errors import InvalidInput
from logic.models import Server, Volume

log = logging.getLogger(__name__)


def _client(server: Server):
    if server.backend is None:
        raise InvalidInput(f"server {server.id} has no backend yet")
    return client_for(server.backend)


def detach_change(volume: Volume) -> list:
    """The disk modification that takes the volume off its instance: Ganeti 3's detach (the disk lives on in
    Ganeti), or for an RBD volume a remove (the provider keeps the image Cyclades owns)."""
    if volume_rbd.is_rbd(volume.volume_type.disk_template):
        return ["remove", volume.ganeti_name, {}]
    return ["detach", volume.ganeti_name, {}]


def attach(volume: Volume, server: Server) -> int:
    """Give ``server`` the volume's disk: create it (first attach) or attach the detached one."""
    if volume_rbd.is_rbd(volume.volume_type.disk_template):
        change = ["add", -1, volume_rbd.disk_spec(volume.ganeti_name, volume.size)]
    elif volume.has_disk:
        change = ["attach", -1, {"name": volume.ganeti_name}]
    else:
        spec = {"size": volume.size * 1024, "name": volume.ganeti_name, "dev_type": volume.volume_type.disk_template}
        change = ["add", -1, spec]
    with _client(server) as client:
        job_id = client.modify_instance(server.ganeti_name, disks=[change], hotplug=False)
    log.info("attach of %s to %s submitted as job %s", volume.ganeti_name, server.ganeti_name, job_id,
             extra={"volume": str(volume.id), "server_id": server.id, "job_id": job_id})  # fmt: skip
    return job_id


def detach(volume: Volume, server: Server) -> int:
    """Take the volume's disk off ``server``; Ganeti keeps it as a detached disk."""
    with _client(server) as client:
        job_id = client.modify_instance(server.ganeti_name, disks=[detach_change(volume)], hotplug=False)
    log.info("detach of %s from %s submitted as job %s", volume.ganeti_name, server.ganeti_name, job_id,
             extra={"volume": str(volume.id), "server_id": server.id, "job_id": job_id})  # fmt: skip
    return job_id


def remove(volume: Volume, server: Server, *, attached: bool) -> int:
    """Destroy the volume's disk through ``server`` (attaching it first when it is detached)."""
    with _client(server) as client:
        depends = None
        if not attached:
            # Only the last job carries the API request id in its reason: the first one ending must not end the task.
            token = rapi.reason_carries_request_id.set(False)
            try:
                first = client.modify_instance(server.ganeti_name, disks=[["attach", -1, {"name": volume.ganeti_name}]])
            finally:
                rapi.reason_carries_request_id.reset(token)
            depends = [first]
        extra = {"depends": [[j, ["success"]] for j in depends]} if depends else {}
        job_id = client.modify_instance(server.ganeti_name, disks=[["remove", volume.ganeti_name, {}]], **extra)
    log.info("removal of %s through %s submitted as job %s", volume.ganeti_name, server.ganeti_name, job_id,
             extra={"volume": str(volume.id), "server_id": server.id, "job_id": job_id})  # fmt: skip
    return job_id
