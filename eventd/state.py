"""What eventd already published, so a restart does not publish it again.

A small SQLite file (stdlib ``sqlite3``), one row per job still worth
remembering::

    jobs(job_id INTEGER PRIMARY KEY,
         statuses TEXT,     -- the opcode statuses last published, comma separated
         finished INTEGER,  -- 1 once the job's status was success/error/canceled
         ended REAL,        -- when it finished (Ganeti's end timestamp, epoch seconds)
         updated REAL)      -- when this row last changed (local clock)

Writes are batched: :meth:`PublishedState.record` changes the row in the open
transaction and :meth:`flush` commits (eventd flushes after each batch of
inotify events). Crashing before a flush can only make eventd publish some
messages again on restart, never skip one: it records a status after the
broker confirmed it (or after it was spooled).

Bounded size (:meth:`prune`): a finished job's row is dropped once its file left
the queue directory (Ganeti archived it) or it ended more than ``retention``
seconds ago. The catch-up treats a finished job that ended before that horizon
and has no row as already published (:meth:`is_forgotten`), so pruning never
causes republishing.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Iterable

SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    job_id INTEGER PRIMARY KEY,
    statuses TEXT NOT NULL,
    finished INTEGER NOT NULL DEFAULT 0,
    ended REAL,
    updated REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS jobs_finished_ended ON jobs (finished, ended);
"""


class PublishedState:
    """The published opcode statuses of every job eventd still remembers."""

    def __init__(self, path: str, *, retention: float = 86400.0):
        directory = os.path.dirname(os.path.abspath(path))
        os.makedirs(directory, mode=0o750, exist_ok=True)
        self.path = path
        self.retention = retention
        self._db = sqlite3.connect(path, isolation_level="DEFERRED", check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(SCHEMA)
        self._db.commit()
        self._cache: dict[int, list[str]] = {}

    def published(self, job_id: int) -> list[str] | None:
        """The opcode statuses published for ``job_id`` (None: nothing remembered)."""
        if job_id in self._cache:
            return self._cache[job_id]
        row = self._db.execute("SELECT statuses FROM jobs WHERE job_id = ?", (job_id,)).fetchone()
        statuses = row[0].split(",") if row else None
        if statuses is not None:
            self._cache[job_id] = statuses
        return statuses

    def record(self, job_id: int, statuses: list[str], *, finished: bool, ended: float | None) -> None:
        """Remember that ``statuses`` were published for the job (committed at the next flush)."""
        self._cache[job_id] = list(statuses)
        self._db.execute(
            "INSERT INTO jobs (job_id, statuses, finished, ended, updated) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (job_id) DO UPDATE SET statuses = excluded.statuses, finished = excluded.finished, "
            "ended = excluded.ended, updated = excluded.updated",
            (job_id, ",".join(statuses), int(finished), ended, time.time()),
        )

    def flush(self) -> None:
        self._db.commit()
        if len(self._cache) > 50_000:  # the cache only saves reads; keep memory flat
            self._cache.clear()

    def horizon(self, now: float | None = None) -> float:
        return (time.time() if now is None else now) - self.retention

    def is_forgotten(self, ended: float | None, now: float | None = None) -> bool:
        """True for a finished job that ended before the retention horizon (pruned or never worth it)."""
        return ended is not None and ended < self.horizon(now)

    def prune(self, present_job_ids: Iterable[int] | None = None, now: float | None = None) -> int:
        """Forget finished jobs that ended before the horizon or whose file is gone; returns how many."""
        cur = self._db.execute("DELETE FROM jobs WHERE finished = 1 AND ended < ?", (self.horizon(now),))
        removed = cur.rowcount
        if present_job_ids is not None:
            present = set(present_job_ids)
            gone = [
                (job_id,)
                for (job_id,) in self._db.execute("SELECT job_id FROM jobs WHERE finished = 1").fetchall()
                if job_id not in present
            ]
            self._db.executemany("DELETE FROM jobs WHERE job_id = ?", gone)
            removed += len(gone)
        self._db.commit()
        self._cache.clear()
        return removed

    def count(self) -> int:
        return self._db.execute("SELECT COUNT(*) FROM jobs").fetchone()[0]

    def close(self) -> None:
        try:
            self._db.commit()
        finally:
            self._db.close()
