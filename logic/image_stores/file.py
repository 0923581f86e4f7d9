"""The local file store: one file per image in ``IMAGE_FILE_DIR``.

Data is written to ``<id>.part`` and renamed to ``<id>`` only when complete, so an
interrupted upload leaves no file under an image's name; the partial file is removed.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path

from django.conf import settings

from logic.image_stores.base import StoreError


class FileStore:
    """Images as files in one directory."""

    name = "file"

    def __init__(self, directory: str | Path, chunk_size: int = 1 << 20):
        self.directory = Path(directory)
        self.chunk_size = chunk_size

    @classmethod
    def from_settings(cls) -> FileStore:
        conf = settings.CYCLADES
        directory = conf["IMAGE_FILE_DIR"].replace("{DATA_DIR}", conf["DATA_DIR"])
        return cls(directory, conf["IMAGE_CHUNK_SIZE"])

    def path(self, location: str) -> Path:
        """The file of a location (``file://<path>``); only paths inside the store's directory."""
        path = Path(location.removeprefix("file://"))
        if path.parent != self.directory:
            raise StoreError(f"location {location!r} is outside the file store {self.directory}")
        return path

    def write(self, image_id: str, chunks: Iterable[bytes], *, size_hint: int | None = None) -> str:
        self.directory.mkdir(parents=True, exist_ok=True)
        final = self.directory / image_id
        part = self.directory / f"{image_id}.part"
        try:
            with open(part, "wb") as out:
                for chunk in chunks:
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            os.replace(part, final)
        except BaseException:
            part.unlink(missing_ok=True)
            raise
        return f"file://{final}"

    def read(self, location: str, offset: int = 0, length: int | None = None) -> Iterator[bytes]:
        path = self.path(location)
        try:
            handle = open(path, "rb")  # noqa: SIM115 - closed by the generator that reads it
        except OSError as exc:
            raise StoreError(f"image data {path} cannot be read: {exc.strerror}") from exc
        return _read_file(handle, offset, length, self.chunk_size)

    def delete(self, location: str) -> None:
        self.path(location).unlink(missing_ok=True)

    def exists(self, location: str) -> bool:
        return self.path(location).is_file()


def _read_file(handle, offset: int, length: int | None, chunk_size: int) -> Iterator[bytes]:
    with handle:
        handle.seek(offset)
        left = length
        while left is None or left > 0:
            chunk = handle.read(chunk_size if left is None else min(chunk_size, left))
            if not chunk:
                return
            if left is not None:
                left -= len(chunk)
            yield chunk
