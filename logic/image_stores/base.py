"""What every image store provides."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Protocol


class StoreError(Exception):
    """The store failed (I/O error, backend unavailable)."""


class StoreInUse(StoreError):
    """The data cannot be deleted: something (a copy-on-write clone) still depends on it."""


class ImageStore(Protocol):
    """An image data store; ``location`` is the store's own name for one image's data."""

    name: str

    def write(self, image_id: str, chunks: Iterable[bytes], *, size_hint: int | None = None) -> str:
        """Store the chunks as the data of ``image_id``; returns the location. Nothing is left on failure."""
        ...

    def read(self, location: str, offset: int = 0, length: int | None = None) -> Iterator[bytes]:
        """The data (or ``length`` bytes from ``offset``) in chunks."""
        ...

    def delete(self, location: str) -> None:
        """Remove the data (a missing location is fine); StoreInUse while clones depend on it."""
        ...

    def exists(self, location: str) -> bool:
        """Whether the data is there."""
        ...
