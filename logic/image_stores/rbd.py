"""The Ceph RBD store through librbd (Debian's python3-rbd / python3-rados bindings).

Each image is an RBD image ``<prefix><id>`` with a protected snapshot ``snap``:
servers' disks are copy-on-write clones of that snapshot, and the image cannot be
deleted while clones exist. An upload is written to ``<prefix><id>.part`` (grown as
data arrives, trimmed to the exact size at the end), snapshotted and protected, and
only then renamed: an interrupted upload is removed and leaves no RBD image behind.

Locations are ``rbd://<pool>/<name>@snap``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from django.conf import settings

from logic.image_stores.base import StoreError, StoreInUse

SNAPSHOT = "snap"
_GROW_MIN = 64 << 20


def _bindings():
    try:
        import rados
        import rbd
    except ImportError as exc:  # pragma: no cover - depends on the machine
        raise StoreError("the rbd store needs the python3-rados/python3-rbd bindings (see scripts/test.sh)") from exc
    return rados, rbd


def parse_location(location: str) -> tuple[str, str, str]:
    """``rbd://pool/name@snap`` -> (pool, name, snap)."""
    if not location.startswith("rbd://"):
        raise StoreError(f"not an rbd location: {location!r}")
    pool, _, rest = location[len("rbd://") :].partition("/")
    name, _, snap = rest.partition("@")
    if not pool or not name:
        raise StoreError(f"malformed rbd location: {location!r}")
    return pool, name, snap or SNAPSHOT


class RbdStore:
    """Images as RBD images in one pool."""

    name = "rbd"

    def __init__(self, *, conffile: str, user: str, pool: str, prefix: str = "image-", chunk_size: int = 1 << 20):
        self.conffile, self.user, self.pool, self.prefix, self.chunk_size = conffile, user, pool, prefix, chunk_size

    @classmethod
    def from_settings(cls) -> RbdStore:
        conf = settings.CYCLADES
        return cls(
            conffile=conf["IMAGE_RBD_CONF"],
            user=conf["IMAGE_RBD_USER"],
            pool=conf["IMAGE_RBD_POOL"],
            chunk_size=conf["IMAGE_CHUNK_SIZE"],
        )

    @contextmanager
    def ioctx(self, pool: str | None = None):
        """An I/O context on the pool (a fresh cluster connection; the conffile is always given)."""
        rados, _ = _bindings()
        cluster = rados.Rados(conffile=self.conffile, name=f"client.{self.user}")
        try:
            cluster.connect(timeout=30)
            ioctx = cluster.open_ioctx(pool or self.pool)
        except rados.Error as exc:
            cluster.shutdown()
            raise StoreError(f"Ceph is unavailable: {exc}") from exc
        try:
            yield ioctx
        finally:
            ioctx.close()
            cluster.shutdown()

    def location(self, name: str) -> str:
        return f"rbd://{self.pool}/{name}@{SNAPSHOT}"

    def write(self, image_id: str, chunks: Iterable[bytes], *, size_hint: int | None = None) -> str:
        _, rbd = _bindings()
        final, part = f"{self.prefix}{image_id}", f"{self.prefix}{image_id}.part"
        with self.ioctx() as ioctx:
            api = rbd.RBD()
            api.create(ioctx, part, size_hint or 0, old_format=False, features=rbd.RBD_FEATURE_LAYERING)
            try:
                with rbd.Image(ioctx, part) as image:
                    offset, allocated = 0, size_hint or 0
                    for chunk in chunks:
                        end = offset + len(chunk)
                        if end > allocated:
                            allocated = max(end, 2 * allocated, _GROW_MIN)
                            image.resize(allocated)
                        image.write(chunk, offset)
                        offset = end
                    if allocated != offset:
                        image.resize(offset)
                    image.flush()
                    image.create_snap(SNAPSHOT)
                    image.protect_snap(SNAPSHOT)
                api.rename(ioctx, part, final)
            except BaseException:
                self._remove(ioctx, part)
                raise
        return self.location(final)

    def read(self, location: str, offset: int = 0, length: int | None = None) -> Iterator[bytes]:
        pool, name, snap = parse_location(location)
        _, rbd = _bindings()
        with self.ioctx(pool) as ioctx:
            try:
                rbd.Image(ioctx, name, snapshot=snap, read_only=True).close()
            except rbd.ImageNotFound as exc:
                raise StoreError(f"image data {location} is missing") from exc
        return self._read(pool, name, snap, offset, length)

    def _read(self, pool: str, name: str, snap: str, offset: int, length: int | None) -> Iterator[bytes]:
        _, rbd = _bindings()
        with self.ioctx(pool) as ioctx, rbd.Image(ioctx, name, snapshot=snap, read_only=True) as image:
            end = image.size() if length is None else min(image.size(), offset + length)
            while offset < end:
                step = min(self.chunk_size, end - offset)
                yield image.read(offset, step)
                offset += step

    def delete(self, location: str) -> None:
        pool, name, _ = parse_location(location)
        with self.ioctx(pool) as ioctx:
            self._remove(ioctx, name)

    def _remove(self, ioctx, name: str) -> None:
        """Remove an RBD image and its snapshots; StoreInUse while any snapshot has clones."""
        _, rbd = _bindings()
        try:
            with rbd.Image(ioctx, name) as image:
                for snap in list(image.list_snaps()):
                    if image.is_protected_snap(snap["name"]):
                        image.set_snap(snap["name"])
                        children = list(image.list_children())
                        image.set_snap(None)
                        if children:
                            raise StoreInUse(f"{len(children)} clone(s) still use {name}@{snap['name']}")
                        image.unprotect_snap(snap["name"])
                    image.remove_snap(snap["name"])
        except rbd.ImageNotFound:
            return
        rbd.RBD().remove(ioctx, name)

    def exists(self, location: str) -> bool:
        pool, name, _ = parse_location(location)
        with self.ioctx(pool) as ioctx:
            return name in rbd_names(ioctx)

    def clone(self, location: str, child: str, pool: str | None = None) -> str:
        """A copy-on-write clone of the image's protected snapshot (a server's disk); returns its name."""
        src_pool, name, snap = parse_location(location)
        _, rbd = _bindings()
        with self.ioctx(src_pool) as parent, self.ioctx(pool or src_pool) as target:
            rbd.RBD().clone(parent, name, snap, target, child, features=rbd.RBD_FEATURE_LAYERING)
        return child

    def remove_volume(self, name: str, pool: str | None = None) -> None:
        """Remove a plain RBD image (a clone made by :meth:`clone`)."""
        with self.ioctx(pool) as ioctx:
            self._remove(ioctx, name)


def rbd_names(ioctx) -> list[str]:
    _, rbd = _bindings()
    return list(rbd.RBD().list(ioctx))
