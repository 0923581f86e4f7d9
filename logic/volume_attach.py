"""Attaching and detaching volumes (Nova's os-volume_attachments), and deleting a volume Ganeti holds.

Each action checks everything first (a refusal changes nothing), writes the intent in one
transaction (status attaching/detaching/deleting, the task, the request id), submits the
Ganeti job (:mod:`logic.volume_jobs`) and records its id. The job's end is applied by
:mod:`logic.volume_events` from the Ganeti events, never here. A submission that fails
leaves the volume in ``error`` with the reason (nothing will come from Ganeti).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable

from django.db import transaction
from django.utils import timezone

from logic import quotas, volume_jobs, volumes
from logic.enums import DISKLESS, OperState, QuotaResource, VolumeAttachStatus, VolumeStatus, VolumeTask
from logic.errors import ConflictError, InvalidInput, NotFoundError
from logic.identity import AuthContext
from logic.ids import parse_uuid
from logic.models import Backend, Server, Volume

log = logging.getLogger(__name__)

#: Server states in which Ganeti may add a disk (without hotplug it appears at the next start).
ATTACHABLE_STATES = (OperState.STARTED, OperState.STOPPED)
#: Without hotplug (the fake hypervisor has none) Ganeti refuses to take a disk off a running instance.
DETACHABLE_STATES = (OperState.STOPPED,)
#: A libvirt host unplugs a disk from a running domain too (and changes the definition of a stopped one).
LIBVIRT_DETACHABLE_STATES = (OperState.STARTED, OperState.STOPPED)


def _on_libvirt(server: Server) -> bool:
    return server.backend is not None and server.backend.kind == Backend.Kind.LIBVIRT


def _jobs_for(server: Server):
    """The volume operations of the server's backend: :mod:`logic.volume_jobs` (Ganeti) or the libvirt driver's."""
    if _on_libvirt(server):
        from logic.drivers.libvirt import devices

        return devices.attach_volume, devices.detach_volume
    return volume_jobs.attach, volume_jobs.detach


def _server(ctx: AuthContext, server_id: object) -> Server:
    """The caller's live server, locked; 404 otherwise."""
    try:
        pk = int(str(server_id))
    except ValueError:
        pk = None
    server = (
        Server.objects.select_for_update(of=("self",)).select_related("flavor", "backend").filter(pk=pk, deleted=False).first()
        if pk is not None
        else None
    )
    if server is None or (server.project_id != getattr(ctx.project, "pk", None) and not ctx.is_admin):
        raise NotFoundError(f"Instance {server_id} could not be found.")
    return server


def _volume(ctx: AuthContext, volume_id: object) -> Volume:
    """A live volume of the caller's project, locked; 404 otherwise."""
    pk = parse_uuid(volume_id)
    volume = Volume.objects.select_for_update(of=("self",)).select_related("volume_type").filter(pk=pk, deleted=False).first() \
        if pk else None  # fmt: skip
    if volume is None or (volume.project_id != getattr(ctx.project, "pk", None) and not ctx.is_admin):
        raise NotFoundError(f"Volume {volume_id} could not be found.")
    return volume


def attachments(ctx: AuthContext, server_id: object) -> list[Volume]:
    """The volumes attached (or being attached or detached) to a server of the caller."""
    with transaction.atomic():
        server = _server(ctx, server_id)
    return list(Volume.objects.filter(server=server, deleted=False).order_by("attached_at", "id"))


def attachment(ctx: AuthContext, server_id: object, volume_id: object) -> Volume:
    for volume in attachments(ctx, server_id):
        if str(volume.id) == str(parse_uuid(volume_id)):
            return volume
    raise NotFoundError(f"Volume {volume_id} is not attached to instance {server_id}.")


def _device(server: Server) -> str:
    """The next device name: the flavor's disk is vda, volumes follow in attach order."""
    taken = Volume.objects.filter(server=server, deleted=False).count()
    first = 1 if server.flavor.disk_template != DISKLESS else 0
    return f"/dev/vd{chr(ord('a') + first + taken)}"


def _submit(volume: Volume, task: str, request_id: str, submit: Callable[[], int]) -> int | None:
    """Submit the job of an intent already committed; record its id, or put the volume in error."""
    try:
        job_id = int(submit())
    except Exception as exc:  # every failure is recorded: the request must not be a 500
        log.warning("job submission for volume %s (%s) failed: %s", volume.pk, task, exc, exc_info=True)
        with transaction.atomic():
            row = Volume.objects.select_for_update().filter(pk=volume.pk, task=task, task_request_id=request_id).first()
            if row is not None:
                quotas.release(row.task_commission)
                Volume.objects.filter(pk=row.pk).update(
                    status=VolumeStatus.ERROR,
                    task=None,
                    task_request_id=None,
                    fault={"message": f"Could not submit the Ganeti job: {exc}", "created": timezone.now().isoformat()},
                    updated_at=timezone.now(),
                )
        return None
    with transaction.atomic():
        # The job may have ended and been applied already (matched by request id): then keep that outcome.
        recorded = Volume.objects.filter(pk=volume.pk, task=task, task_request_id=request_id, task_job_id__isnull=True)
        if recorded.update(task_job_id=job_id):
            volume.task_job_id = job_id
            if volume.task_commission_id:
                quotas.bind_job(volume.task_commission, job_id)
    return job_id


def attach(
    ctx: AuthContext,
    server_id: object,
    volume_id: object,
    *,
    device: object = None,
    delete_on_termination: object = False,
    request_id: str,
) -> Volume:
    """Attach an available volume of the caller to one of its servers (Ganeti ModifyInstance disk add/attach).

    ``delete_on_termination`` (Nova 2.79): the volume goes with the server when it is deleted.
    The attachment gets its id at once (Nova's Cinder attachment is made by the request).
    """
    volumes.require_write(ctx)
    if not isinstance(delete_on_termination, bool):
        raise InvalidInput("Invalid input for field/attribute delete_on_termination: it must be a boolean.")
    if device is not None and not isinstance(device, str):
        raise InvalidInput("Invalid input for field/attribute device: it must be a string.")
    with transaction.atomic():
        server = _server(ctx, server_id)
        volume = _volume(ctx, volume_id)
        if volume.project_id != server.project_id:
            raise InvalidInput(f"Volume {volume.id} and instance {server.pk} belong to different projects.")
        if volume.status != VolumeStatus.AVAILABLE or volume.server_id is not None:
            raise InvalidInput(f"Invalid volume: volume {volume.id} status must be available to attach (it is {volume.status}).")
        if server.flavor.disk_template == DISKLESS:
            raise ConflictError(f"Instance {server.pk} has a diskless flavor: Ganeti cannot add disks to a diskless instance.")
        if server.task or server.operstate not in ATTACHABLE_STATES:
            raise ConflictError(f"Cannot 'attach_volume' instance {server.pk} while it is {server.operstate}/{server.task}.")
        if Volume.objects.filter(server=server, task__isnull=False, deleted=False).exists():
            raise ConflictError(f"Instance {server.pk} is already changing a volume; try again when that ends.")
        if _on_libvirt(server):
            from logic.drivers.libvirt import devices

            devices.check_volume(volume)  # RBD volumes only (any flavor with disks)
        elif volume.volume_type.disk_template != server.flavor.disk_template:
            raise InvalidInput(
                f"Volume {volume.id} is of type {volume.volume_type.name} (Ganeti disk template "
                f"{volume.volume_type.disk_template}), instance {server.pk} uses {server.flavor.disk_template}: Ganeti "
                "gives the disks it adds to an instance the instance's own template."
            )
        if volume.has_disk and volume.backend_id != server.backend_id:
            raise InvalidInput(f"Volume {volume.id} lives on another Ganeti cluster than instance {server.pk}.")
        volume.status, volume.attach_status = VolumeStatus.ATTACHING, VolumeAttachStatus.ATTACHING
        volume.server, volume.backend = server, server.backend
        volume.device = _device(server)
        volume.delete_on_termination, volume.attachment_id = delete_on_termination, uuid.uuid4()
        volume.task, volume.task_request_id, volume.task_job_id, volume.fault = VolumeTask.ATTACH, request_id, None, None
        volume.save()
    _submit(volume, VolumeTask.ATTACH, request_id, lambda: _jobs_for(server)[0](volume, server))
    volume.refresh_from_db()
    return volume


def set_delete_on_termination(ctx: AuthContext, server_id: object, volume_id: object, value: object) -> Volume:
    """Change whether an attached volume goes with its server (Nova 2.85's attachment update)."""
    volumes.require_write(ctx)
    if not isinstance(value, bool):
        raise InvalidInput("Invalid input for field/attribute delete_on_termination: it must be a boolean.")
    with transaction.atomic():
        volume = attachment(ctx, server_id, volume_id)
        Volume.objects.filter(pk=volume.pk).update(delete_on_termination=value)
    volume.refresh_from_db()
    return volume


def detach(ctx: AuthContext, server_id: object, volume_id: object, *, request_id: str) -> Volume:
    """Detach a volume from the server it is attached to (Ganeti 3 disk detach: the disk lives on)."""
    volumes.require_write(ctx)
    with transaction.atomic():
        server = _server(ctx, server_id)
        volume = _volume(ctx, volume_id)
        if volume.server_id != server.pk:
            raise NotFoundError(f"Volume {volume.id} is not attached to instance {server.pk}.")
        if volume.status != VolumeStatus.IN_USE or volume.attach_status != VolumeAttachStatus.ATTACHED:
            raise InvalidInput(f"Invalid volume: volume {volume.id} must be in-use to detach (it is {volume.status}).")
        if server.task or server.operstate not in (LIBVIRT_DETACHABLE_STATES if _on_libvirt(server) else DETACHABLE_STATES):
            raise ConflictError(
                f"Cannot 'detach_volume' instance {server.pk} while it is {server.operstate}/{server.task}: without disk "
                "hotplug Ganeti takes a disk off a stopped instance only; stop the server first."
            )
        volume.status, volume.attach_status = VolumeStatus.DETACHING, VolumeAttachStatus.DETACHING
        volume.task, volume.task_request_id, volume.task_job_id, volume.fault = VolumeTask.DETACH, request_id, None, None
        volume.save()
    _submit(volume, VolumeTask.DETACH, request_id, lambda: _jobs_for(server)[1](volume, server))
    volume.refresh_from_db()
    return volume


def _holder(volume: Volume) -> Server | None:
    """A server to remove a detached disk through: its last server, else another of its project on the same
    cluster; stopped (no hotplug), with disks, and with nothing in flight."""
    candidates = (
        Server.objects.select_for_update(of=("self",))
        .select_related("backend", "flavor")
        .filter(
            project_id=volume.project_id,
            backend_id=volume.backend_id,
            deleted=False,
            task__isnull=True,
            operstate__in=DETACHABLE_STATES,
        )  # fmt: skip
        .exclude(flavor__disk_template=DISKLESS)
    )
    busy = set(Volume.objects.filter(task__isnull=False, deleted=False, server__isnull=False).values_list("server_id", flat=True))
    ordered = sorted(candidates, key=lambda s: (s.pk != volume.last_server_id, s.pk))
    return next((s for s in ordered if s.pk not in busy), None)


def delete_held(ctx: AuthContext, volume: Volume, *, request_id: str) -> None:
    """Delete a detached volume whose disk Ganeti holds: attach it to a stopped server (its last one first) and remove it.

    The quota is freed when the removal job succeeds (its commission is bound to the job).
    """
    volumes.require_write(ctx)
    with transaction.atomic():
        row = _volume(ctx, volume.pk)
        volumes.check_deletable(row)
        server = _holder(row)
        if server is None:
            raise ConflictError(
                f"Volume {row.id}'s detached Ganeti disk is removed through a stopped server of its project on the "
                "same cluster (Ganeti removes a detached disk only by attaching it first), and there is none: stop "
                "one, or attach the volume to a server and try again."
            )
        row.task_commission = quotas.charge(
            row.project_id,
            row.user_id,
            {QuotaResource.VOLUMES: -1, QuotaResource.VOLUME_GB: -row.size},
            reason=f"delete volume {row.id}",
            action="VOLUME",
            request_id=request_id,
        )
        row.status, row.task, row.task_request_id, row.task_job_id = VolumeStatus.DELETING, VolumeTask.DELETE, request_id, None
        row.save()
    _submit(row, VolumeTask.DELETE, request_id, lambda: volume_jobs.remove(row, server, attached=False))
