"""Volumes of the ``ext`` template: RBD images in Ceph that Cyclades owns (librbd, never ``rbd map``).

A volume of a type whose template is ``ext`` is the RBD image ``volume.ganeti_name`` in the
pool ``VOLUME_RBD_POOL``, created with the volume (blank, a copy of another volume, a
clone of a snapshot or of an image's protected snapshot) and removed with it. Ganeti sees
it only while it is attached: the attach job adds an ``ext`` disk of the ``cyclades-rbd``
provider with ``image=<name>`` (the provider adopts it and never deletes it), the detach
job removes that disk again and the image lives on. Snapshots are RBD snapshots
``snap-<snapshot id>``, protected so that volumes can be cloned from them.
"""

from __future__ import annotations

from contextlib import contextmanager

from django.conf import settings

from logic.image_stores.base import StoreError
from logic.image_stores.rbd import RbdStore, parse_location

#: The Ganeti template whose volumes live here.
TEMPLATE = "ext"
GIB = 1 << 30


class RbdError(StoreError):
    """Ceph refused or failed; the message says what."""


def is_rbd(template: str) -> bool:
    return template == TEMPLATE


def provider() -> str:
    return settings.CYCLADES["VOLUME_EXT_PROVIDER"]


def pool() -> str:
    return settings.CYCLADES["VOLUME_RBD_POOL"]


def _store() -> RbdStore:
    conf = settings.CYCLADES
    return RbdStore(conffile=conf["VOLUME_RBD_CONF"], user=conf["VOLUME_RBD_USER"], pool=conf["VOLUME_RBD_POOL"])


def _rbd():
    import rbd

    return rbd


@contextmanager
def _ioctx():
    try:
        with _store().ioctx() as ioctx:
            yield ioctx
    except StoreError as exc:
        if isinstance(exc, RbdError):
            raise
        raise RbdError(str(exc)) from exc


def snap_name(snapshot_id: object) -> str:
    return f"snap-{snapshot_id}"


def create(name: str, size_gib: int) -> None:
    """A blank image of ``size_gib`` GiB."""
    rbd = _rbd()
    with _ioctx() as ioctx:
        try:
            rbd.RBD().create(ioctx, name, size_gib * GIB, old_format=False, features=rbd.RBD_FEATURE_LAYERING)
        except rbd.Error as exc:
            raise RbdError(f"cannot create RBD image {pool()}/{name}: {exc}") from exc


def clone(parent: str, snap: str, child: str, size_gib: int, *, parent_pool: str | None = None) -> None:
    """A copy-on-write clone of ``parent@snap`` (protected), grown to ``size_gib`` when that is larger."""
    rbd = _rbd()
    store = _store()
    try:
        with store.ioctx(parent_pool or pool()) as source, store.ioctx() as target:
            rbd.RBD().clone(source, parent, snap, target, child, features=rbd.RBD_FEATURE_LAYERING)
            with rbd.Image(target, child) as image:
                if image.size() < size_gib * GIB:
                    image.resize(size_gib * GIB)
    except rbd.Error as exc:
        raise RbdError(f"cannot clone {parent}@{snap} as {child}: {exc}") from exc


def clone_image(location: str, child: str, size_gib: int) -> None:
    """A clone of an rbd image-store image (``rbd://pool/name@snap``)."""
    parent_pool, name, snap = parse_location(location)
    clone(name, snap, child, size_gib, parent_pool=parent_pool)


def copy(source: str, target: str, size_gib: int) -> None:
    """A full copy of another volume's image (no dependency on it), grown to ``size_gib``."""
    rbd = _rbd()
    with _ioctx() as ioctx:
        try:
            with rbd.Image(ioctx, source, read_only=True) as image:
                image.copy(ioctx, target, features=rbd.RBD_FEATURE_LAYERING)
            with rbd.Image(ioctx, target) as image:
                if image.size() < size_gib * GIB:
                    image.resize(size_gib * GIB)
        except rbd.Error as exc:
            raise RbdError(f"cannot copy {source} to {target}: {exc}") from exc


def write(name: str, chunks, size_gib: int) -> None:
    """A blank image filled with ``chunks`` from its start (an image from the file store)."""
    rbd = _rbd()
    create(name, size_gib)
    try:
        with _ioctx() as ioctx, rbd.Image(ioctx, name) as image:
            offset = 0
            for chunk in chunks:
                if offset + len(chunk) > size_gib * GIB:
                    raise RbdError(f"the image data does not fit in {size_gib} GiB")
                image.write(chunk, offset)
                offset += len(chunk)
            image.flush()
    except BaseException:
        remove(name)
        raise


def resize(name: str, size_gib: int) -> None:
    rbd = _rbd()
    with _ioctx() as ioctx:
        try:
            with rbd.Image(ioctx, name) as image:
                image.resize(size_gib * GIB)
        except rbd.Error as exc:
            raise RbdError(f"cannot resize {name}: {exc}") from exc


def size(name: str) -> int | None:
    """The image's size in bytes; None when it does not exist."""
    rbd = _rbd()
    with _ioctx() as ioctx:
        try:
            with rbd.Image(ioctx, name, read_only=True) as image:
                return image.size()
        except rbd.ImageNotFound:
            return None


def snapshots(name: str) -> list[str]:
    rbd = _rbd()
    with _ioctx() as ioctx:
        try:
            with rbd.Image(ioctx, name, read_only=True) as image:
                return [s["name"] for s in image.list_snaps()]
        except rbd.ImageNotFound:
            return []


def remove(name: str) -> None:
    """Remove the image (and its snapshots without clones); gone already is fine."""
    with _ioctx() as ioctx:
        _store()._remove(ioctx, name)


def snapshot(name: str, snap: str) -> None:
    """A protected RBD snapshot (volumes clone from it)."""
    rbd = _rbd()
    with _ioctx() as ioctx:
        try:
            with rbd.Image(ioctx, name) as image:
                image.create_snap(snap)
                image.protect_snap(snap)
        except rbd.Error as exc:
            raise RbdError(f"cannot snapshot {name}: {exc}") from exc


def clones_of(name: str, snap: str) -> list[str]:
    rbd = _rbd()
    with _ioctx() as ioctx:
        try:
            with rbd.Image(ioctx, name, snapshot=snap, read_only=True) as image:
                return [child for _, child in image.list_children()]
        except rbd.ImageNotFound:
            return []


def flatten(name: str) -> None:
    """Copy the parent's data into a clone so that it no longer depends on its parent snapshot."""
    rbd = _rbd()
    with _ioctx() as ioctx:
        try:
            with rbd.Image(ioctx, name) as image:
                image.flatten()
        except rbd.Error as exc:
            raise RbdError(f"cannot flatten {name}: {exc}") from exc


def remove_snapshot(name: str, snap: str) -> None:
    """Unprotect and remove a snapshot; clones made from it are flattened first. Gone already is fine."""
    rbd = _rbd()
    for child in clones_of(name, snap):
        flatten(child)
    with _ioctx() as ioctx:
        try:
            with rbd.Image(ioctx, name) as image:
                if snap not in [s["name"] for s in image.list_snaps()]:
                    return
                if image.is_protected_snap(snap):
                    image.unprotect_snap(snap)
                image.remove_snap(snap)
        except rbd.ImageNotFound:
            return
        except rbd.Error as exc:
            raise RbdError(f"cannot remove snapshot {name}@{snap}: {exc}") from exc


def disk_spec(name: str, size_gib: int) -> dict:
    """The ``ext`` disk Ganeti adds for an attach: the provider adopts the image (and never deletes it)."""
    return {"size": size_gib * 1024, "name": name, "provider": provider(), "image": name}
