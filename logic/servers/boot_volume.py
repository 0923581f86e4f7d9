"""Boot from volume (Nova's ``block_device_mapping_v2`` with ``destination_type: volume``).

The boot device (``boot_index`` 0) is an RBD volume, so the flavor must use the ``ext``
template: with ``source_type: image`` a new volume of ``volume_size`` GiB is made from the
image (a clone of the rbd store's protected snapshot, or the file store's bytes), with
``source_type: volume`` an available RBD volume of the caller is used. The instance's disk 0
is then an ext disk adopting that image (``image=<name>``: Ganeti never deletes it) and the
OS definition writes nothing. The volume is in-use on ``/dev/vda`` from the create on;
when the instance is removed, ``delete_on_termination`` decides whether the volume goes too
(see :mod:`logic.volume_events`).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.utils import timezone

from logic import volume_rbd
from logic.enums import VolumeAttachStatus, VolumeStatus
from logic.identity import AuthContext
from logic.models import Flavor, Image, Server, Volume, VolumeType
from logic.servers.errors import Invalid

BOOT_DEVICE = "/dev/vda"


@dataclass
class BootVolume:
    source: str  # image | volume
    delete_on_termination: bool
    image: Image | None = None
    volume: Volume | None = None
    size: int = 0


def _bool(value: object, field: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in {"true", "false", "1", "0"}:
        return value.lower() in {"true", "1"}
    raise Invalid(f"Invalid input for field/attribute {field}: {value!r} is not a boolean.")


def parse(ctx: AuthContext, device: dict, flavor: Flavor) -> BootVolume:
    """The boot volume a block device (boot index 0, destination volume) asks for; 400 when it cannot be."""
    from logic import images, volumes

    if not volume_rbd.is_rbd(flavor.disk_template):
        raise Invalid(
            f"Booting from a volume needs a flavor on RBD (disk_template ext); flavor {flavor.name} uses "
            f"{flavor.disk_template!r}, and a volume's template must be its server's."
        )
    source, ref = device.get("source_type"), device.get("uuid")
    delete = _bool(device.get("delete_on_termination", False), "delete_on_termination")
    if not ref:
        raise Invalid("Invalid input for field/attribute block_device_mapping_v2: 'uuid' is required.")
    if source == "image":
        try:
            image = images.get(ctx, ref)
        except volumes.NotFoundError as exc:
            raise Invalid(f"Block device image {ref} could not be found.") from exc
        size = device.get("volume_size")
        if size is None:
            raise Invalid("Block device with source_type image and destination_type volume needs a volume_size.")
        try:
            size = volumes.parse_size(size, field="volume_size")
        except volumes.InvalidInput as exc:
            raise Invalid(str(exc)) from exc
        return BootVolume("image", delete, image=image, size=size)
    if source == "volume":
        try:
            volume = volumes.get(ctx, ref)
        except volumes.NotFoundError as exc:
            raise Invalid(f"Block device volume {ref} could not be found.") from exc
        if volume.status != VolumeStatus.AVAILABLE or volume.server_id is not None:
            raise Invalid(f"Invalid volume: volume {volume.id} status must be available to boot from (it is {volume.status}).")
        if not volume_rbd.is_rbd(volume.volume_type.disk_template):
            raise Invalid(f"Volume {volume.id} is not on RBD (type {volume.volume_type.name}): it cannot be a boot disk.")
        return BootVolume("volume", delete, volume=volume, size=volume.size)
    raise Invalid(f"Block device source_type {source!r} cannot boot a volume: use image or volume.")


def boot_type() -> VolumeType:
    found = VolumeType.objects.filter(disk_template=volume_rbd.TEMPLATE, is_public=True).order_by("name").first()
    if found is None:
        raise Invalid("Booting from a new volume needs a public volume type on RBD (disk_template ext): there is none.")
    return found


def attach_at_create(ctx: AuthContext, server: Server, boot: BootVolume, *, request_id: str) -> Volume:
    """In the create's transaction: the server's boot volume (made from the image, or the given one), in-use on vda."""
    from logic import volumes

    if boot.source == "image":
        body = {
            "size": boot.size,
            "imageRef": str(boot.image.pk),
            "volume_type": str(boot_type().pk),
            "name": f"{server.name}-boot",
        }
        volume = volumes.create(ctx, body, request_id=request_id)
    else:
        volume = Volume.objects.select_for_update().get(pk=boot.volume.pk)
        if volume.status != VolumeStatus.AVAILABLE or volume.server_id is not None:
            raise Invalid(f"Invalid volume: volume {volume.id} status must be available to boot from (it is {volume.status}).")
    volume.status, volume.attach_status, volume.has_disk = VolumeStatus.IN_USE, VolumeAttachStatus.ATTACHED, True
    volume.server, volume.last_server, volume.backend, volume.device = server, server, server.backend, BOOT_DEVICE
    volume.attached_at, volume.attachment_id = timezone.now(), uuid.uuid4()
    volume.delete_on_termination, volume.bootable = boot.delete_on_termination, True
    volume.save()
    return volume


def of(server: Server) -> Volume | None:
    """The server's boot volume, if it boots from one."""
    return (
        Volume.objects.select_related("volume_type")
        .filter(server=server, device=BOOT_DEVICE, deleted=False, volume_type__disk_template=volume_rbd.TEMPLATE)
        .first()
    )
