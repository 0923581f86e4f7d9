"""inotify on the job queue directory (and the spool directory).

Ganeti rewrites ``job-N`` by writing a temporary file and renaming it over the
old one, which shows as IN_MOVED_TO; IN_CLOSE_WRITE covers writers that write
in place (and our own tests/simulators). The spool directory is watched for
IN_MOVED_TO because spool files appear by rename (hooks, see
:mod:`eventd.spool`). An inotify queue overflow (IN_Q_OVERFLOW) means events
were lost: the caller rescans the whole directory.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from inotify_simple import INotify, flags

from eventd.jobfile import job_id_from_name
from eventd.spool import SUFFIX

QUEUE_MASK = flags.MOVED_TO | flags.CLOSE_WRITE
SPOOL_MASK = flags.MOVED_TO


@dataclass
class Changes:
    """What changed since the last read."""

    job_ids: set[int] = field(default_factory=set)
    spool: bool = False
    overflow: bool = False

    def __bool__(self) -> bool:
        return bool(self.job_ids or self.spool or self.overflow)


class Watcher:
    """Collects job file and spool changes; ``read`` blocks up to a timeout."""

    def __init__(self, queue_dir: str, spool_dir: str | None = None, *, read_delay_ms: int = 2):
        self._inotify = INotify()
        self._queue_wd = self._inotify.add_watch(queue_dir, QUEUE_MASK)
        self._spool_wd = self._inotify.add_watch(spool_dir, SPOOL_MASK) if spool_dir else None
        self.read_delay_ms = read_delay_ms

    def read(self, timeout_ms: int) -> Changes:
        changes = Changes()
        for event in self._inotify.read(timeout=max(0, int(timeout_ms)), read_delay=self.read_delay_ms):
            if event.mask & flags.Q_OVERFLOW:
                changes.overflow = True
            elif event.wd == self._queue_wd:
                job_id = job_id_from_name(event.name)
                if job_id is not None:
                    changes.job_ids.add(job_id)
            elif event.wd == self._spool_wd and event.name.endswith(SUFFIX) and not event.name.startswith("."):
                changes.spool = True
        return changes

    def fileno(self) -> int:
        return self._inotify.fileno()

    def close(self) -> None:
        self._inotify.close()
