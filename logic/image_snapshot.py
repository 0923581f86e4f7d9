"""Snapshots: a server's disk taken into a new image (Nova ``createImage``), through Ganeti.

The image is created ``queued`` (charged to the image count quota, private, with
Nova's snapshot properties). Then Ganeti is asked for a local backup export
(:func:`logic.ganeti_jobs.snapshot_server`): our OS definition's ``export`` script
streams the instance's first disk to ``PUT /image/upload/<grant>``. The grant is a
one-time, expiring :class:`~logic.models.ImageFetchGrant` for that image (purpose
``upload:...``), signed by the node with the fetch key exactly like a deploy fetch; its
id is the only thing in the OS parameters. The upload moves the image ``queued ->
saving -> active`` and computes MD5 and SHA-512 as the bytes pass.

Any failure drops the image: a refused or broken upload (partial data removed by the
store), a submission that fails, or an export job that ends without the data (the
dispatcher hands its events to :func:`apply_export_events`). Dropping marks the image
``deleted`` and gives its quota back, as Nova deletes a failed snapshot's image: no
orphan bytes, the quota as before.
"""

from __future__ import annotations

import hmac
import logging
import secrets
from collections.abc import Iterable, Mapping
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from logic import image_data, image_deploy, image_write, quotas
from logic.enums import JobStatus, OpCode, OperState, QuotaResource
from logic.errors import ConflictError, PolicyError
from logic.identity import AuthContext
from logic.image_stores import get_store
from logic.models import Backend, Image, ImageFetchGrant, Server
from logic.servers.errors import Conflict, Invalid
from logic.servers.lookup import check_unlocked, get_server
from logic.servers.submit import log_action

log = logging.getLogger(__name__)

UPLOAD = "upload:"
SNAPSHOT_STATES = {OperState.STARTED, OperState.STOPPED}
MAX_METADATA = 128


def _validate(name: object, metadata: object) -> tuple[str, dict[str, str]]:
    if not isinstance(name, str) or not name.strip():
        raise Invalid("createImage requires a non-empty 'name'.")
    if len(name) > 255:
        raise Invalid("Invalid image name: at most 255 characters.")
    if metadata is None:
        metadata = {}
    if not isinstance(metadata, dict):
        raise Invalid("Invalid metadata: an object of string keys and values is required.")
    if len(metadata) > MAX_METADATA:
        raise Invalid(f"Invalid metadata: at most {MAX_METADATA} items.")
    for key, value in metadata.items():
        if not isinstance(key, str) or not key or len(key) > 255:
            raise Invalid(f"Invalid metadata key {key!r}: 1-255 characters.")
        if not isinstance(value, str) or len(value) > 255:
            raise Invalid(f"Invalid metadata value for {key!r}: a string of at most 255 characters.")
    return name, metadata


def _properties(server: Server, metadata: Mapping[str, str], kind: str) -> dict[str, str]:
    """Nova's snapshot properties, the base image's own properties, then the caller's metadata."""
    base = server.image
    props = {k: v for k, v in ((base.properties or {}) if base else {}).items() if isinstance(v, str)}
    props |= {
        "image_type": kind,
        "instance_uuid": str(server.pk),
        "user_id": str(server.user_id),
        "owner_id": str(server.project_id),
        "image_location": "snapshot",
    }
    if base is not None:
        props["base_image_ref"] = str(base.pk)
    return props | dict(metadata)


def create_image(
    ctx: AuthContext,
    raw_id: str,
    name: object,
    metadata: object,
    *,
    request_id: str,
    kind: str = "snapshot",
    rotation: int | None = None,
) -> Image:
    """``createImage``: a ``queued`` image now; Ganeti's export fills it (``saving`` -> ``active``) or it is dropped."""
    name, metadata = _validate(name, metadata)
    server = get_server(ctx, raw_id)
    check_unlocked(ctx, server)
    if server.task:
        raise Conflict(f"Cannot 'createImage' instance {server.pk} while it has a pending task ({server.task}).")
    if server.operstate not in SNAPSHOT_STATES:
        raise Conflict(f"Cannot 'createImage' instance {server.pk} while it is in state {server.operstate}.")
    if not server.flavor.has_disk:
        raise Conflict(f"Cannot 'createImage' instance {server.pk}: its flavor is diskless, so there is no disk to take.")
    if server.backend is None or server.backend.kind != Backend.Kind.GANETI:
        raise Conflict(f"Cannot 'createImage' instance {server.pk}: snapshots are taken on Ganeti backends only.")
    busy = Image.objects.filter(
        status__in=("queued", "saving"), properties__instance_uuid=str(server.pk), properties__image_location="snapshot"
    )
    if busy.exists():
        raise Conflict(f"Cannot 'createImage' instance {server.pk}: a snapshot of it is being taken.")
    image_deploy.fetch_key()  # refuse before anything is created if nodes could not sign
    body: dict[str, Any] = {
        "name": name,
        "disk_format": "raw",
        "container_format": "bare",
        "visibility": "private",
        "min_disk": server.flavor.disk,
        "min_ram": server.image.min_ram if server.image else 0,
    }
    image = image_write.create(ctx, body)
    Image.objects.filter(pk=image.pk).update(properties=_properties(server, metadata, kind))
    image.refresh_from_db()
    grant, row = issue_upload_grant(image, rotation=rotation)
    log_action(ctx, server, "createImage", request_id, finished=True)
    osparams = {"img_upload": grant, "img_upload_image": str(image.pk), "img_url": image_deploy.fetch_base_url()}
    from logic import ganeti_jobs

    try:
        job_id = ganeti_jobs.snapshot_server(server, osparams)
    except Exception as exc:  # recorded: the image is dropped and the caller gets a clear error
        log.warning("snapshot of server %s: submission failed: %s", server.pk, exc, exc_info=True)
        drop(image, f"the Ganeti export could not be submitted: {exc}")
        raise Conflict(f"Cannot 'createImage' instance {server.pk}: the Ganeti job could not be submitted ({exc}).") from None
    ImageFetchGrant.objects.filter(pk=row.pk).update(purpose=export_purpose(server.backend.name, job_id, rotation))
    log.info("snapshot of server %s into image %s: export job %s", server.pk, image.pk, job_id)
    return image


def issue_upload_grant(image: Image, *, rotation: int | None = None) -> tuple[str, ImageFetchGrant]:
    """A one-time grant to upload ``image``'s data, valid ``IMAGE_FETCH_TTL`` seconds; only its hash is stored.

    The purpose says what it is for: ``upload:[<cluster>:<export job>][;rotate=<n>]`` (a backup's rotation).
    """
    grant = secrets.token_urlsafe(24)
    ttl = int(settings.CYCLADES.get("IMAGE_FETCH_TTL", 3600))
    row = ImageFetchGrant.objects.create(
        token_hash=image_deploy.grant_hash(grant),
        image=image,
        purpose=UPLOAD + _rotation_suffix(rotation),
        expires_at=timezone.now() + timedelta(seconds=ttl),
    )
    return grant, row


def _rotation_suffix(rotation: int | None) -> str:
    return f";rotate={int(rotation)}" if rotation is not None else ""


def _rotation(purpose: str) -> int | None:
    _, sep, value = purpose.partition(";rotate=")
    return int(value) if sep and value.isdigit() else None


def export_purpose(cluster: str, job_id: int, rotation: int | None = None) -> str:
    """The grant's purpose once its export job is known: events name the job by cluster and id."""
    return f"{UPLOAD}{cluster}:{int(job_id)}{_rotation_suffix(rotation)}"[:255]


def drop(image: Image, reason: str) -> bool:
    """A snapshot failed: its data (if any) removed, the image deleted and its quota given back; False if already gone."""
    with transaction.atomic():
        row = Image.objects.select_for_update().filter(pk=image.pk).exclude(status__in=("deleted", "active")).first()
        if row is None:
            return False
        if row.location:
            get_store(row.store).delete(row.location)
        row.status = "deleted"
        row.location = ""
        row.properties = {**(row.properties or {}), "snapshot_failure": reason[:255]}
        row.save(update_fields=["status", "location", "properties", "updated_at"])
        ImageFetchGrant.objects.filter(image=row, used_at__isnull=True).update(used_at=timezone.now())
        if row.owner_id is not None:
            quotas.accept(quotas.charge(row.owner_id, None, {QuotaResource.IMAGES: -1}, reason=f"failed snapshot {row.pk}"))
    log.warning("snapshot image %s dropped: %s", image.pk, reason)
    return True


class GrantSpent(ConflictError):
    """The upload grant is unknown, used or expired, or its image takes no data (409): nothing to upload."""


def _signed(grant: str, signature: str | None) -> None:
    if not signature or not hmac.compare_digest(image_deploy.sign(grant), signature):
        raise PolicyError("Invalid upload signature.")


def _usable(grant: str):
    return ImageFetchGrant.objects.filter(
        token_hash=image_deploy.grant_hash(grant), purpose__startswith=UPLOAD, used_at__isnull=True, expires_at__gt=timezone.now()
    )


def check_upload(grant: str, signature: str | None) -> None:
    """``HEAD /image/upload/<grant>``: whether an upload would be taken (uses nothing up).

    The export script asks first: an instance keeps its last upload grant in its OS
    parameters, so a later plain ``gnt-backup export`` finds a spent one (409) and writes
    the disk to Ganeti instead.
    """
    _signed(grant, signature)
    row = _usable(grant).select_related("image").first()
    if row is None or row.image.status != "queued":
        raise GrantSpent("This upload grant is unknown, expired or already used.")


def redeem_upload(grant: str, signature: str | None) -> tuple[Image, int | None]:
    """The queued image an upload grant is for (and a backup's rotation), once: PolicyError (grant untouched) for a bad
    signature, GrantSpent for a used/expired grant."""
    _signed(grant, signature)
    row = _usable(grant).select_related("image").first()
    if row is None or _usable(grant).filter(pk=row.pk).update(used_at=timezone.now()) != 1:
        raise GrantSpent("This upload grant is unknown, expired or already used.")
    if row.image.status != "queued":
        raise GrantSpent(f"Image {row.image_id} is {row.image.status}: it takes no data.")
    return row.image, _rotation(row.purpose)


def receive(grant: str, signature: str | None, chunks: Iterable[bytes], expected_size: int | None) -> Image:
    """``PUT /image/upload/<grant>``: store the streamed disk as the image's data; any failure drops the image."""
    image, rotation = redeem_upload(grant, signature)
    try:
        image = image_data.store_data(image, chunks, expected_size=expected_size)
    except BaseException as exc:
        drop(image, f"the upload failed: {exc}")
        raise
    if rotation is not None:
        from logic import image_backup  # late: it builds on this module

        image_backup.rotate(image, rotation)
    return image


def apply_export_events(events: Iterable[Any]) -> list[str]:
    """The end of a snapshot's export job: an image still without data is dropped (in the caller's transaction)."""
    ends = [e for e in events if e.operation == OpCode.BACKUP_EXPORT and e.job_finished and e.job_id]
    dropped = []
    for ev in ends:
        base = export_purpose(ev.cluster, ev.job_id)
        grants = ImageFetchGrant.objects.filter(Q(purpose=base) | Q(purpose__startswith=base + ";"))
        for grant in grants.select_related("image"):
            ok = ev.status == JobStatus.SUCCESS and (ev.job_status or ev.status) == JobStatus.SUCCESS
            if grant.image.status == "active":
                continue
            why = "the export ended without uploading the disk" if ok else f"the export job {ev.job_id} {ev.status}"
            if drop(grant.image, why):
                dropped.append(str(grant.image_id))
    return dropped
