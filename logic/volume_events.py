"""How Ganeti's job events move a volume: the volume part of the one state-transition path.

The dispatcher's transaction that applies a batch of events to servers
(:func:`logic.events.apply_events`) hands the same events here: an event of a finished
job that is the job a volume waits for (by job id, or by the API request id in the job's
reason trail when the API has not recorded the id yet) ends the volume's task::

    ATTACH  success -> in-use (attached)          failure -> error, detached, with the reason
    DETACH  success -> available (detached)       failure -> error, still attached, with the reason
    DELETE  success -> deleted, quota freed       failure -> error, quota charge released

When a server's instance is removed (OP_INSTANCE_REMOVE succeeded), Ganeti removed the
disks still attached to it: those volumes (``delete_on_termination``; the others were
detached first, see :mod:`logic.servers.volumes`) are deleted and their quota freed.

Any other event changes nothing, so duplicates and late events are harmless: once the
task ended, its job's events no longer match.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable
from typing import Any

from django.db.models import Q
from django.utils import timezone

from logic import quotas, volume_rbd
from logic.enums import JobStatus, OpCode, QuotaResource, VolumeAttachStatus, VolumeStatus, VolumeTask
from logic.models import Volume

log = logging.getLogger(__name__)


def _ends(events: Iterable[Any]) -> list[Any]:
    """The events that end a job of ``OP_INSTANCE_SET_PARAMS`` (what volume jobs are)."""
    return [e for e in events if e.operation == OpCode.INSTANCE_SET_PARAMS and e.job_finished and e.job_id]


def _error(event: Any) -> str:
    result = event.result
    if isinstance(result, list) and len(result) == 2 and isinstance(result[0], str):
        args = result[1] if isinstance(result[1], list) else [result[1]]
        parts = [str(a) for a in args if a not in (None, "")]
        return f"{result[0]}: {'; '.join(parts)}" if parts else result[0]
    return str(result or event.logmsg or f"Ganeti job {event.job_id} {event.status}")


def apply(events: Iterable[Any]) -> list[str]:
    """Apply the job ends among ``events`` (parsed :class:`logic.event_messages.Event`) to volumes, in the caller's
    transaction; returns the ids of the volumes changed."""
    events = list(events)
    changed = _removed_with_instances(events)
    ends = _ends(events)
    if not ends:
        return changed
    job_ids = {e.job_id for e in ends}
    request_ids = set().union(*(e.request_ids for e in ends))
    match = Q(task_job_id__in=job_ids) | Q(task_job_id__isnull=True, task_request_id__in=request_ids)
    waiting = list(
        Volume.objects.select_for_update(of=("self",))
        .select_related("backend", "task_commission", "volume_type")
        .filter(match, task__isnull=False, deleted=False)
        .order_by("id")
    )
    for event in ends:
        for volume in waiting:
            if volume.task is None or (volume.backend is not None and volume.backend.name != event.cluster):
                continue
            by_id = volume.task_job_id == event.job_id
            by_request = volume.task_job_id is None and volume.task_request_id in event.request_ids
            if by_id or by_request:
                _end_task(volume, event)
                changed.append(str(volume.id))
    return changed


def _end_task(volume: Volume, event: Any) -> None:
    ok = event.status == JobStatus.SUCCESS and (event.job_status in (None, JobStatus.SUCCESS))
    task, now = volume.task, timezone.now()
    if ok and task == VolumeTask.ATTACH:
        volume.status, volume.attach_status, volume.has_disk = VolumeStatus.IN_USE, VolumeAttachStatus.ATTACHED, True
        attachment_id = volume.attachment_id or uuid.uuid4()  # given by the attach request
        volume.attached_at, volume.attachment_id, volume.last_server_id = event.event_time, attachment_id, volume.server_id
    elif ok and task == VolumeTask.DETACH:
        volume.status, volume.attach_status = VolumeStatus.AVAILABLE, VolumeAttachStatus.DETACHED
        if volume_rbd.is_rbd(volume.volume_type.disk_template):
            volume.has_disk = False  # Ganeti removed its ext disk; the RBD image lives on outside Ganeti
        volume.server, volume.device, volume.attachment_id, volume.attached_at = None, None, None, None
    elif ok and task == VolumeTask.DELETE:
        quotas.accept(volume.task_commission)
        volume.deleted, volume.deleted_at, volume.has_disk = True, now, False
    else:
        reason = _error(event)
        volume.status, volume.fault = VolumeStatus.ERROR, {"message": reason[:1000], "created": now.isoformat()}
        if task == VolumeTask.ATTACH:
            volume.attach_status, volume.server, volume.device = VolumeAttachStatus.DETACHED, None, None
        elif task == VolumeTask.DETACH:
            volume.attach_status = VolumeAttachStatus.ATTACHED
        elif task == VolumeTask.DELETE:
            quotas.release(volume.task_commission)
        log.warning("volume %s: %s job %s failed: %s", volume.id, task, event.job_id, reason)
    volume.backend_job_id, volume.backend_jobstatus, volume.backend_eventtime = event.job_id, event.status, event.event_time
    volume.task, volume.task_job_id, volume.task_request_id, volume.task_commission = None, None, None, None
    volume.save()
    log.info("volume %s: %s job %s ended (%s): now %s", volume.id, task, event.job_id, event.status, volume.status)


def _removed_with_instances(events: list[Any]) -> list[str]:
    """Volumes still attached to instances that were removed: Ganeti removed their disks with them."""
    from logic.event_messages import server_id_for

    removed = {
        sid
        for e in events
        if e.operation == OpCode.INSTANCE_REMOVE and e.status == JobStatus.SUCCESS and (sid := server_id_for(e.instance))
    }
    # a failed remove of an instance that never came to be (its create failed) still ends the server
    failed = {
        sid
        for e in events
        if e.operation == OpCode.INSTANCE_REMOVE and e.job_finished and e.status != JobStatus.SUCCESS
        and (sid := server_id_for(e.instance))
    }  # fmt: skip
    if failed:
        from logic.models import Server

        removed |= set(Server.objects.filter(pk__in=failed, deleted=True).values_list("pk", flat=True))
    if not removed:
        return []
    gone = list(
        Volume.objects.select_for_update(of=("self",))
        .select_related("volume_type")
        .filter(server_id__in=removed, deleted=False, task__isnull=True, attach_status=VolumeAttachStatus.ATTACHED)
        .order_by("id")
    )
    for volume in gone:
        if volume_rbd.is_rbd(volume.volume_type.disk_template) and not volume.delete_on_termination:
            # Ganeti removed the ext disk; the RBD image Cyclades owns lives on: available again
            volume.status, volume.attach_status, volume.has_disk = VolumeStatus.AVAILABLE, VolumeAttachStatus.DETACHED, False
            volume.server, volume.device, volume.attachment_id, volume.attached_at = None, None, None, None
            volume.save()
            log.info("volume %s detached by the removal of its server", volume.id)
            continue
        commission = quotas.charge(
            volume.project_id,
            volume.user_id,
            {QuotaResource.VOLUMES: -1, QuotaResource.VOLUME_GB: -volume.size},
            reason=f"volume {volume.id} removed with server {volume.server_id}",
            force=True,
            action="VOLUME",
        )
        quotas.accept(commission)
        volume.deleted, volume.deleted_at, volume.has_disk = True, timezone.now(), False
        volume.status, volume.attach_status = VolumeStatus.DELETING, VolumeAttachStatus.DETACHED
        volume.save()
        if volume_rbd.is_rbd(volume.volume_type.disk_template):
            _remove_image(volume)
        log.info("volume %s removed with its server %s (delete_on_termination)", volume.id, volume.server_id)
    return [str(v.id) for v in gone]


def observe(volume_id, server_id: int | None, *, reason: str) -> bool:
    """Make a volume reflect what Ganeti shows (reconciliation): attached to ``server_id``, or to none.

    A task in flight ends as its job would have: attached -> in-use; not attached -> available after a
    detach, error (with ``reason``) after an attach. Returns whether anything changed.
    """
    volume = Volume.objects.select_for_update().filter(pk=volume_id, deleted=False).first()
    if volume is None:
        return False
    task, now = volume.task, timezone.now()
    if server_id is not None:
        if volume.server_id == server_id and volume.attach_status == VolumeAttachStatus.ATTACHED and not task:
            return False
        volume.status, volume.attach_status, volume.has_disk = VolumeStatus.IN_USE, VolumeAttachStatus.ATTACHED, True
        volume.server_id = volume.last_server_id = server_id
        volume.attached_at, volume.attachment_id = volume.attached_at or now, volume.attachment_id or uuid.uuid4()
    elif task == VolumeTask.ATTACH:
        volume.status, volume.attach_status, volume.server, volume.device = (
            VolumeStatus.ERROR, VolumeAttachStatus.DETACHED, None, None)  # fmt: skip
        volume.fault = {"message": reason[:1000], "created": now.isoformat()}
    elif task == VolumeTask.DELETE:
        return False  # whether the disk is gone is not visible in the instance listing: left to the job's end
    else:
        if volume.server_id is None and volume.attach_status == VolumeAttachStatus.DETACHED and not task:
            return False
        volume.status, volume.attach_status = VolumeStatus.AVAILABLE, VolumeAttachStatus.DETACHED
        volume.server, volume.device, volume.attachment_id, volume.attached_at = None, None, None, None
    volume.task, volume.task_job_id, volume.task_request_id = None, None, None
    volume.save()
    log.warning("volume %s repaired: %s", volume.id, reason)
    return True


def _remove_image(volume: Volume) -> None:
    """The RBD image of a volume removed with its server (Ganeti's ext disk went, the image Cyclades owns stays)."""
    try:
        volume_rbd.remove(volume.ganeti_name)
    except volume_rbd.StoreError as exc:  # Ceph down: the event is still applied; the leftover image is reported
        Volume.objects.filter(pk=volume.pk).update(
            fault={"message": f"RBD image {volume.ganeti_name} not removed: {exc}"[:1000], "created": timezone.now().isoformat()}
        )
        log.error("volume %s: RBD image %s not removed: %s", volume.id, volume.ganeti_name, exc)
