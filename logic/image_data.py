"""Image data: upload into a store and download from it, streamed in chunks with hashes computed on the way.

Upload life (Glance's)::

    queued --PUT file--> saving --complete--> active
                           \\--fails/interrupted/over quota--> queued (partial data removed)

The status moves to ``saving`` in a short transaction with the row locked, so a
second concurrent upload is refused (409); the bytes are streamed into the store
outside any transaction; the result is committed in a second locked transaction
that also checks the project's byte quota exactly. The MD5 (``checksum``) and
SHA-512 (``os_hash_value``) are computed from the same chunks as they pass.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import Sum

from logic import images as registry
from logic.errors import ConflictError, InvalidInput, PolicyError, RangeNotSatisfiable, TooLarge
from logic.identity import AuthContext
from logic.image_stores import StoreError, get_store
from logic.models import Image, Project

log = logging.getLogger(__name__)

HASH_ALGO = "sha512"
UNLIMITED = -1


class IncompleteUpload(InvalidInput):
    """The body ended before the announced length (the client went away)."""


def byte_limit() -> int:
    """The per-project limit of image data (QUOTA_IMAGE_BYTES; -1 = unlimited)."""
    return int(settings.CYCLADES.get("QUOTA_IMAGE_BYTES", UNLIMITED))


def bytes_used(project_id: str, *, exclude: Image | None = None) -> int:
    """Bytes of the project's stored images (those being saved count with their final size only)."""
    images = Image.objects.filter(owner_id=project_id).exclude(status="deleted").exclude(size__isnull=True)
    if exclude is not None:
        images = images.exclude(pk=exclude.pk)
    return int(images.aggregate(total=Sum("size"))["total"] or 0)


def _room(image: Image) -> int | None:
    """Bytes the image's owner may still store (None: unlimited)."""
    limit = byte_limit()
    if limit == UNLIMITED or image.owner_id is None:
        return None
    return max(0, limit - bytes_used(image.owner_id, exclude=image))


def _too_large(size: int, room: int) -> TooLarge:
    return TooLarge(f"Denying attempt to upload image: {size} bytes would exceed the image storage quota ({room} bytes left).")


@dataclass
class _Meter:
    """Counts, hashes and bounds the chunks that pass through it."""

    room: int | None
    expected: int | None
    size: int = 0

    def __post_init__(self) -> None:
        self.md5 = hashlib.md5(usedforsecurity=False)
        self.sha = hashlib.new(HASH_ALGO)

    def through(self, chunks: Iterable[bytes]) -> Iterator[bytes]:
        for chunk in chunks:
            self.size += len(chunk)
            if self.room is not None and self.size > self.room:
                raise _too_large(self.size, self.room)
            self.md5.update(chunk)
            self.sha.update(chunk)
            yield chunk
        if self.expected is not None and self.size != self.expected:
            raise IncompleteUpload(f"The upload ended after {self.size} of {self.expected} bytes.")


def upload(ctx: AuthContext, image_id: object, chunks: Iterable[bytes], *, expected_size: int | None = None) -> Image:
    """Stream ``chunks`` into the store as the image's data; the image is ``active`` when this returns."""
    if not ctx.can_write:
        raise PolicyError("Policy doesn't allow this operation: the reader role may only read.")
    return store_data(registry.owned(ctx, image_id), chunks, expected_size=expected_size)


def store_data(image: Image, chunks: Iterable[bytes], *, expected_size: int | None = None) -> Image:
    """Stream ``chunks`` into the store as a queued image's data (no permission check: callers made theirs)."""
    with transaction.atomic():
        image = Image.objects.select_for_update().get(pk=image.pk)
        if image.status != "queued":
            raise ConflictError(f"Image status transition from {image.status} to saving is not allowed")
        room = _room(image)
        if expected_size is not None and room is not None and expected_size > room:
            raise _too_large(expected_size, room)
        image.status = "saving"
        image.save(update_fields=["status", "updated_at"])
    store = get_store()
    meter = _Meter(room=room, expected=expected_size)
    try:
        location = store.write(str(image.pk), meter.through(chunks), size_hint=expected_size)
    except BaseException as exc:
        _back_to_queued(image)
        if isinstance(exc, StoreError):
            log.error("upload of image %s into the %s store failed: %s", image.pk, store.name, exc)
        raise
    try:
        return _commit(image, store.name, location, meter)
    except BaseException:
        store.delete(location)
        _back_to_queued(image)
        raise


def _commit(image: Image, store_name: str, location: str, meter: _Meter) -> Image:
    with transaction.atomic():
        if image.owner_id is not None:
            Project.objects.select_for_update().filter(pk=image.owner_id).first()  # serialises the byte quota
        image = Image.objects.select_for_update().get(pk=image.pk)
        if image.status != "saving":
            raise ConflictError(f"Image {image.pk} was {image.status} while its data was uploaded.")
        room = _room(image)
        if room is not None and meter.size > room:
            raise _too_large(meter.size, room)
        image.size = meter.size
        image.checksum = meter.md5.hexdigest()
        image.os_hash_algo = HASH_ALGO
        image.os_hash_value = meter.sha.hexdigest()
        image.store, image.location = store_name, location
        image.status = "active"
        image.save()
    log.info("image %s stored: %s bytes in the %s store", image.pk, meter.size, store_name)
    return image


def _back_to_queued(image: Image) -> None:
    """An upload failed: the image waits for data again (unless it was deleted meanwhile)."""
    Image.objects.filter(pk=image.pk, status="saving").update(status="queued")


# ----------------------------------------------------------------------------- download
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


@dataclass
class Download:
    """What a data download serves: the image, the byte span and the chunks."""

    image: Image
    start: int
    end: int  # exclusive
    partial: bool
    chunks: Iterator[bytes] | None

    @property
    def length(self) -> int:
        return self.end - self.start


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """``bytes=a-b`` / ``a-`` / ``-n`` -> [start, end); None for no (or an ignorable multi-) range."""
    if not header:
        return None
    match = _RANGE.match(header.strip().replace(" ", ""))
    if match is None:
        if header.strip().startswith("bytes=") and "," in header:
            return None
        raise InvalidInput(f"Invalid Range header: {header}")
    first, last = match.groups()
    if not first and not last:
        raise InvalidInput(f"Invalid Range header: {header}")
    if not first:
        start, end = max(0, size - int(last)), size
    else:
        start = int(first)
        end = min(size, int(last) + 1) if last else size
    if start >= size or start >= end:
        raise RangeNotSatisfiable(f"Requested range {header} is not satisfiable (size {size}).", size)
    return start, end


def download(ctx: AuthContext, image_id: object, range_header: str | None = None) -> Download:
    """The image's data (or a byte range of it); ``chunks`` None when the image has no data (Glance's 204)."""
    image = registry.get(ctx, image_id)
    if image.status == "deactivated" and not ctx.is_admin:
        raise PolicyError("The requested image has been deactivated. Image data download is forbidden.")
    if image.status not in ("active", "deactivated") or not image.location:
        return Download(image, 0, 0, False, None)
    return open_image(image, range_header)


def open_image(image: Image, range_header: str | None = None) -> Download:
    """The stored data of an active image (no permission check: for callers that already made one)."""
    size = image.size or 0
    span = parse_range(range_header, size)
    start, end = span or (0, size)
    chunks = get_store(image.store).read(image.location, start, end - start)
    return Download(image, start, end, span is not None, chunks)
