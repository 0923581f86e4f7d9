"""Admins import image data from a file on the API server, inside ``IMAGE_IMPORT_DIR`` only.

Two ways in: ``cyclades-manage image-import --path P`` (creates the image too) and
Glance's ``POST /v2/images/{id}/import`` with the method ``local-path`` (admins only;
``{"method": {"name": "local-path", "path": P}}``). There is no import from URLs by
design (``web-download`` is refused: no internet here, and an SSRF risk), and
``glance-direct`` needs a staging area this cloud does not have.

A path is accepted only if it is absolute, names a regular file, and both its real
path (every symlink resolved) and the file actually opened lie inside the real path of
``IMAGE_IMPORT_DIR``; the file is opened without following a final symlink and checked
again through the open descriptor, so a symlink swapped in between changes nothing.
The data then streams into the store like an upload (checksums computed on the way).
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Iterator
from pathlib import Path

from django.conf import settings
from django.db import transaction

from logic import image_data
from logic import images as registry
from logic.errors import ConflictError, InvalidInput, PolicyError
from logic.identity import AuthContext
from logic.models import Image

METHOD = "local-path"
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


def import_dir() -> Path | None:
    """The real path of ``IMAGE_IMPORT_DIR`` (None: local imports are off)."""
    configured = settings.CYCLADES.get("IMAGE_IMPORT_DIR") or ""
    return Path(os.path.realpath(configured)) if configured else None


def _inside(path: str, root: Path) -> bool:
    return os.path.commonpath([path, str(root)]) == str(root) and path != str(root)


def open_local(raw: object) -> tuple[int, int]:
    """Open an importable file: (descriptor, size). InvalidInput for anything outside the import directory."""
    root = import_dir()
    if root is None:
        raise PolicyError("Local imports are disabled: IMAGE_IMPORT_DIR is not set.")
    if not isinstance(raw, str) or not raw:
        raise InvalidInput("A local path is required.")
    if _URL.match(raw):
        raise InvalidInput(f"{raw!r} is a URL: images are imported only from files in the import directory.")
    if not os.path.isabs(raw) or "\x00" in raw:
        raise InvalidInput(f"{raw!r}: an absolute path inside the import directory {root} is required.")
    real = os.path.realpath(raw)
    if not _inside(real, root):
        raise InvalidInput(f"{raw!r} is outside the import directory {root}.")
    try:
        fd = os.open(real, os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise InvalidInput(f"{raw!r} cannot be opened: {exc.strerror}.") from None
    try:
        info = os.fstat(fd)
        opened = os.readlink(f"/proc/self/fd/{fd}") if os.path.exists(f"/proc/self/fd/{fd}") else real
        if not stat.S_ISREG(info.st_mode):
            raise InvalidInput(f"{raw!r} is not a regular file.")
        if not _inside(opened, root):
            raise InvalidInput(f"{raw!r} is outside the import directory {root}.")
    except BaseException:
        os.close(fd)
        raise
    return fd, info.st_size


def _chunks(fd: int, chunk_size: int) -> Iterator[bytes]:
    with os.fdopen(fd, "rb") as f:
        while chunk := f.read(chunk_size):
            yield chunk


def import_into(ctx: AuthContext, image_id: object, method: object) -> Image:
    """``POST /v2/images/{id}/import``: the ``local-path`` method (admins) fills a queued image; other methods refused."""
    if not isinstance(method, dict) or not isinstance(method.get("name"), str):
        raise InvalidInput('The import request needs {"method": {"name": ...}}.')
    name = method["name"]
    if name == "web-download":
        raise InvalidInput("Import method web-download is not supported: images are never fetched from URLs.")
    if name != METHOD:
        raise InvalidInput(f"Import method {name} is not supported. Supported: {METHOD} (administrators).")
    if not ctx.is_admin:
        raise PolicyError("Policy doesn't allow this operation: only administrators may import local files.")
    image = registry.owned(ctx, image_id)
    if image.status != "queued":
        raise ConflictError(f"Image {image.pk} is {image.status}: only a queued image can be imported into.")
    return import_file(image, method.get("path"))


def import_file(image: Image, path: object) -> Image:
    """Stream an importable file (see :func:`open_local`) into ``image``'s data; the image is ``active`` after."""
    fd, size = open_local(path)
    with transaction.atomic():
        locked = Image.objects.select_for_update().get(pk=image.pk)
        if locked.status != "queued":
            os.close(fd)
            raise ConflictError(f"Image {image.pk} is {locked.status}: only a queued image can be imported into.")
    return image_data.store_data(locked, _chunks(fd, settings.CYCLADES["IMAGE_CHUNK_SIZE"]), expected_size=size)
