"""Where a new volume's data comes from: nothing (blank), a snapshot, another volume, or an image.

Sources need the ``ext`` template (RBD): a snapshot becomes a copy-on-write clone of the
protected RBD snapshot, another volume a full copy, an image a clone of the rbd image
store's protected snapshot (no byte copy) or, from the file store, its bytes written
into a new image. On the other templates a volume has no storage before its first
attach, so there is nothing to copy into: 400 naming the template.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from logic import volume_rbd
from logic.errors import InvalidInput
from logic.identity import AuthContext
from logic.models import Image, Volume, VolumeSnapshot, VolumeType

GIB = 1 << 30


@dataclass
class Source:
    kind: str  # snapshot | volume | image
    size: int  # the smallest size in GiB the new volume may have
    vtype: VolumeType | None  # the type a volume from it gets when the request names none
    snapshot: VolumeSnapshot | None = None
    volume: Volume | None = None
    image: Image | None = None

    def check(self, vtype: VolumeType, size: int) -> None:
        """400 unless a volume of ``vtype`` and ``size`` GiB can be made from this source."""
        if not volume_rbd.is_rbd(vtype.disk_template):
            raise InvalidInput(
                f"Creating a volume from {'an' if self.kind == 'image' else 'a'} {self.kind} needs a volume type on "
                f"RBD (disk_template ext); type {vtype.name} uses Ganeti's {vtype.disk_template!r} template, whose "
                "disks exist only inside an instance."
            )
        if size < self.size:
            raise InvalidInput(f"Invalid input received: size {size} GiB is smaller than the {self.kind}'s {self.size} GiB.")

    def fields(self) -> dict:
        """The new volume's columns that record its source."""
        return {
            "snapshot": self.snapshot,
            "source_volid": self.volume.id if self.volume else None,
            "image_ref": str(self.image.id) if self.image else "",
            "bootable": bool(self.image)
            or bool(self.volume and self.volume.bootable)
            or bool(self.snapshot and self.snapshot.volume.bootable),
        }


def parse(ctx: AuthContext, body: Mapping) -> Source | None:
    """The source named in a create request (404 for one the caller cannot see), or None (blank)."""
    from logic import images, volume_snapshots, volumes

    named = [key for key in ("snapshot_id", "source_volid", "imageRef") if body.get(key)]
    if len(named) > 1:
        raise InvalidInput(f"Invalid input: give only one of {', '.join(named)}.")
    if not named:
        return None
    key = named[0]
    if key == "snapshot_id":
        snapshot = volume_snapshots.get(ctx, body[key])
        return Source("snapshot", snapshot.size, snapshot.volume.volume_type, snapshot=snapshot)
    if key == "source_volid":
        volume = volumes.get(ctx, body[key])
        return Source("volume", volume.size, volume.volume_type, volume=volume)
    image = images.get(ctx, body[key])
    if image.status != "active" or not image.location:
        raise InvalidInput(f"Invalid image {image.id}: its status is {image.status}, it must be active with data.")
    return Source("image", max(1, -(-int(image.size or 0) // GIB)), None, image=image)


def make_image(volume: Volume, source: Source | None) -> None:
    """Create the new ``ext`` volume's RBD image from its source (raises RbdError when Ceph fails)."""
    name, size = volume.ganeti_name, volume.size
    if source is None:
        volume_rbd.create(name, size)
    elif source.kind == "snapshot":
        parent = source.snapshot.volume.ganeti_name
        volume_rbd.clone(parent, volume_rbd.snap_name(source.snapshot.id), name, size)
    elif source.kind == "volume":
        volume_rbd.copy(source.volume.ganeti_name, name, size)
    elif source.image.store == "rbd":
        volume_rbd.clone_image(source.image.location, name, size)
    else:
        from logic.image_stores import get_store

        store = get_store(source.image.store)
        volume_rbd.write(name, store.read(source.image.location), size)
