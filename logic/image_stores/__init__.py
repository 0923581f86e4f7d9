"""Image data stores, chosen by the ``IMAGE_STORE`` setting: ``file`` (default) or ``rbd`` (Ceph).

A store writes an image's data from an iterator of chunks (never all of it in
memory), reads a byte range back as an iterator, and deletes it. A write that
fails part-way leaves nothing behind: the data lives under a temporary name
until the store commits it.
"""

from __future__ import annotations

from django.conf import settings

from logic.image_stores.base import ImageStore, StoreError, StoreInUse


def get_store(name: str | None = None) -> ImageStore:
    """The configured store (or the one named, e.g. the store an existing image lives in)."""
    name = name or settings.CYCLADES["IMAGE_STORE"]
    if name == "file":
        from logic.image_stores.file import FileStore

        return FileStore.from_settings()
    if name == "rbd":
        from logic.image_stores.rbd import RbdStore

        return RbdStore.from_settings()
    raise StoreError(f"unknown image store {name!r}")


__all__ = ["ImageStore", "StoreError", "StoreInUse", "get_store"]
