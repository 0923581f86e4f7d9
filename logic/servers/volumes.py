"""What deleting a server does to its volumes.

Ganeti removes every disk of an instance it removes. So before the remove job, the
volumes attached to the server that should outlive it (``delete_on_termination`` false,
Nova's default for attached volumes) are detached by jobs that run first: shutdown (a
disk comes off a stopped instance only, without hotplug), one detach per volume, then the
remove, each depending on the success of the one before (a failed detach stops the chain
and the server stays). The volumes move detaching -> available through their own job
events (each detach job carries its own request id in its reason, so its end matches the
volume even before the job id is recorded). Volumes with ``delete_on_termination`` go
with the instance; :mod:`logic.volume_events` marks them deleted when the remove succeeds.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import transaction

from logic import volume_rbd
from logic.enums import OperState, VolumeAttachStatus, VolumeStatus, VolumeTask
from logic.errors import ConflictError
from logic.models import Server, Volume


def prepare_delete(server: Server) -> list[Volume]:
    """In the delete's transaction (server row locked): mark the volumes to keep as detaching.

    ConflictError (nothing changed) while a volume of the server is between states.
    """
    attached = list(
        Volume.objects.select_for_update(of=("self",))
        .select_related("volume_type")
        .filter(server=server, deleted=False)
        .order_by("attached_at", "id")
    )
    if any(v.task for v in attached):
        raise ConflictError(f"Cannot delete instance {server.pk} while one of its volumes is attaching or detaching.")
    # an RBD volume outlives the instance anyway (the provider never deletes an image Cyclades owns)
    keep = [v for v in attached if not v.delete_on_termination and not volume_rbd.is_rbd(v.volume_type.disk_template)]
    for volume in keep:
        volume.status, volume.attach_status = VolumeStatus.DETACHING, VolumeAttachStatus.DETACHING
        volume.task, volume.task_job_id = VolumeTask.DETACH, None
        volume.task_request_id = f"req-{uuid.uuid4()}"
        volume.save(update_fields=["status", "attach_status", "task", "task_job_id", "task_request_id", "updated_at"])
    return keep


def destroy_keeping(server: Server, keep: list[Volume]) -> int:
    """Submit shutdown, the detaches of ``keep`` and the remove as a chain; returns the remove job's id."""
    from logic import ganeti_jobs, rapi, volume_jobs
    from logic.backends import client_for

    if not keep:
        return ganeti_jobs.destroy_server(server)
    timeout = settings.CYCLADES.get("GANETI_SHUTDOWN_TIMEOUT", 60)
    with client_for(server.backend) as client:
        token = rapi.reason_carries_request_id.set(False)
        try:
            previous = None
            if server.operstate != OperState.STOPPED:
                previous = client.shutdown_instance(server.ganeti_name, timeout=timeout)
            for volume in keep:
                extra = {"depends": [[previous, ["success"]]]} if previous else {}
                previous = client.modify_instance(
                    server.ganeti_name,
                    disks=[volume_jobs.detach_change(volume)],
                    reason=f"detach before delete {volume.task_request_id}",
                    **extra,
                )
                with transaction.atomic():
                    Volume.objects.filter(pk=volume.pk, task=VolumeTask.DETACH, task_job_id__isnull=True).update(
                        task_job_id=previous
                    )
        finally:
            rapi.reason_carries_request_id.reset(token)
        # the remove carries the API request id: its end ends the server's task
        return client.remove_instance(server.ganeti_name, shutdown_timeout=timeout, depends=[previous])
