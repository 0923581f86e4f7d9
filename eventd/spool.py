"""The on-disk spool: messages waiting for RabbitMQ, written by eventd and by the Ganeti hooks.

Stdlib only (the hooks import it). Format, one message per file in the spool
directory::

    <spool>/<time_ns:020d>-<source>-<pid>-<seq:08d>.msg     # JSON, see below
    <spool>/.<same name>.tmp                                  # being written; ignored

    {"routing_key": "ganeti.<cluster>.op", "message_id": "<the body's id>", "body": {...}}

A file appears atomically: written to a dot-prefixed temporary name, flushed,
fsync'ed, then renamed into place (IN_MOVED_TO for a watcher). File names sort
in the order the messages were spooled (a writer never goes back in time:
its timestamps are forced to increase), so replaying in sorted-name order
preserves each writer's order. A file is deleted only after the broker confirmed
the message; a crash in between replays it again (duplicates are harmless:
the id is the dedup key).

A file that cannot be parsed is moved to ``<spool>/bad/`` (kept for the
operator, never replayed, never silently dropped).
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

SUFFIX = ".msg"
BAD_DIR = "bad"


class SpoolError(Exception):
    """A spool file could not be read as a message."""


@dataclass(frozen=True)
class Spooled:
    """A message waiting in the spool."""

    path: str
    routing_key: str
    message_id: str | None
    body: dict[str, Any]


class Spool:
    """A directory of pending messages. Safe for several writer processes."""

    def __init__(self, directory: str, *, source: str = "eventd", fsync: bool = True):
        if not source.replace("_", "").replace("-", "").isalnum():
            raise ValueError(f"spool source must be alphanumeric, got {source!r}")
        self.directory = directory
        self.source = source
        self.fsync = fsync
        self._lock = threading.Lock()
        self._last_ns = 0
        self._seq = 0
        os.makedirs(directory, mode=0o750, exist_ok=True)

    # ------------------------------------------------------------------ writing
    def _next_name(self) -> str:
        with self._lock:
            now = max(time.time_ns(), self._last_ns + 1)
            self._last_ns = now
            self._seq += 1
            return f"{now:020d}-{self.source}-{os.getpid()}-{self._seq:08d}{SUFFIX}"

    def put(self, routing_key: str, body: dict[str, Any], message_id: str | None = None) -> str:
        """Spool one message atomically; returns its file path."""
        record = {"routing_key": routing_key, "message_id": message_id or body.get("id"), "body": body}
        data = json.dumps(record, separators=(",", ":")).encode()
        name = self._next_name()
        tmp = os.path.join(self.directory, f".{name}.tmp")
        final = os.path.join(self.directory, name)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o640)
        try:
            os.write(fd, data)
            if self.fsync:
                os.fsync(fd)
        finally:
            os.close(fd)
        try:
            os.rename(tmp, final)
        except BaseException:
            os.unlink(tmp)
            raise
        if self.fsync:
            _fsync_dir(self.directory)
        return final

    # ------------------------------------------------------------------ reading
    def names(self) -> list[str]:
        """Pending file names, oldest first."""
        try:
            entries = os.listdir(self.directory)
        except FileNotFoundError:
            return []
        return sorted(n for n in entries if n.endswith(SUFFIX) and not n.startswith("."))

    def depth(self) -> int:
        return len(self.names())

    def read(self, name: str) -> Spooled:
        path = os.path.join(self.directory, name)
        try:
            with open(path, "rb") as f:
                record = json.loads(f.read())
        except (OSError, ValueError) as exc:
            raise SpoolError(f"{path}: {exc}") from exc
        if (
            not isinstance(record, dict)
            or not isinstance(record.get("body"), dict)
            or not isinstance(record.get("routing_key"), str)
        ):
            raise SpoolError(f"{path}: not a spooled message")
        return Spooled(path, record["routing_key"], record.get("message_id"), record["body"])

    def __iter__(self) -> Iterator[Spooled]:
        for name in self.names():
            try:
                yield self.read(name)
            except SpoolError:
                if os.path.exists(os.path.join(self.directory, name)):
                    self.quarantine(name)
                    continue
                # vanished: another drainer took it

    def remove(self, item: Spooled) -> None:
        try:
            os.unlink(item.path)
        except FileNotFoundError:
            pass

    def quarantine(self, name: str) -> str:
        """Move an unreadable file aside to ``bad/``."""
        bad = os.path.join(self.directory, BAD_DIR)
        os.makedirs(bad, exist_ok=True)
        target = os.path.join(bad, name)
        os.rename(os.path.join(self.directory, name), target)
        return target

    def drain(self, publish: Callable[[str, dict[str, Any], str | None], None], *, limit: int | None = None) -> int:
        """Publish pending messages oldest first, deleting each after ``publish`` returned.

        Stops at the first exception (re-raised), leaving that message and the
        later ones in place, so the order is kept. Returns how many went out.
        """
        sent = 0
        for item in self:
            publish(item.routing_key, item.body, item.message_id)
            self.remove(item)
            sent += 1
            if limit is not None and sent >= limit:
                break
        return sent


def _fsync_dir(directory: str) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
