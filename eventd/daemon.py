"""The eventd loop: job file changes → contract messages → RabbitMQ (or the spool).

For each changed job file: parse it, compare every opcode's status with what
was already published (:mod:`eventd.state`), publish one ``ganeti-op-status``
message per opcode whose status changed (in opcode order; on success of
create/startup/set_params/reboot with the instance's live NICs/disks), then
remember the new statuses. Only the current status of an opcode is published:
when Ganeti moved through several statuses between two reads, the ones in
between were never visible in the file and are not invented.

On start (and whenever inotify overflowed, or this node just became the
master) the whole queue directory is scanned: the catch-up publishes what
changed while eventd was not watching. Jobs are processed in job id order.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterable

from eventd import messages
from eventd.jobfile import Job, JobFileError, job_id_from_name
from eventd.jobfile import read as read_job
from eventd.live import Lookup
from eventd.mastership import Mastership
from eventd.publisher import Publisher
from eventd.state import PublishedState
from eventd.watcher import Watcher

log = logging.getLogger(__name__)

PRUNE_INTERVAL = 3600.0


def _seconds(ts: tuple[int, int] | None) -> float | None:
    return None if ts is None else ts[0] + ts[1] / 1e6


def job_ended(job: Job) -> float | None:
    """When a finished job ended, by Ganeti's clock (None while it runs)."""
    if not job.finished:
        return None
    ends = [op.end_timestamp for op in job.ops if op.end_timestamp] + [job.end_timestamp]
    known = [_seconds(ts) for ts in ends if ts is not None]
    return max(known) if known else time.time()


class EventDaemon:
    """Watches one Ganeti job queue directory and publishes its opcode status changes."""

    def __init__(
        self,
        *,
        queue_dir: str,
        cluster: str,
        publisher: Publisher,
        state: PublishedState,
        host: str,
        mastership: Mastership | None = None,
        lookup: Lookup | None = None,
        heartbeat_interval: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.queue_dir = queue_dir
        self.cluster = cluster
        self.publisher = publisher
        self.state = state
        self.host = host
        self.mastership = mastership
        self.lookup = lookup
        self.heartbeat_interval = heartbeat_interval
        self._clock = clock
        self.started_ns = time.time_ns()
        self.events = 0  # op-status messages produced (published or spooled)
        self.bad_files = 0
        self._was_master = False
        self._next_heartbeat = 0.0
        self._next_prune = clock() + PRUNE_INTERVAL
        self.stop_event = threading.Event()

    # ------------------------------------------------------------------ jobs
    def is_master(self) -> bool:
        return True if self.mastership is None else self.mastership.is_master()

    def job_path(self, job_id: int) -> str:
        return os.path.join(self.queue_dir, f"job-{job_id}")

    def read_job(self, job_id: int) -> Job | None:
        """Parse one job file; None when it is gone (archived) or unreadable (logged)."""
        path = self.job_path(job_id)
        try:
            return read_job(path)
        except JobFileError as exc:
            self.bad_files += 1
            log.warning("skipping unreadable job file %s: %s", path, exc)
        except OSError as exc:
            self.bad_files += 1
            log.warning("cannot read job file %s: %s", path, exc.strerror or exc)
        return None

    def process_job(self, job_id: int) -> int:
        """Publish the status changes of one job file; returns how many messages."""
        return self.process_many([job_id])

    def process(self, job: Job) -> int:
        return self._publish_batch([job])

    def _changes(self, job: Job) -> list[tuple[str, str | None, dict]]:
        published = self.state.published(job.id)
        if published is None and self.state.is_forgotten(job_ended(job)):
            return []  # finished before the retention horizon: published long ago (or never ours to)
        changed = messages.changed_ops(job, published)
        return messages.op_envelopes(self.cluster, job, changed, self.lookup) if changed else []

    def _publish_batch(self, jobs: list[Job]) -> int:
        """Publish the changes of ``jobs`` as one batch, then remember them.

        Recorded only after the batch was published or spooled: a crash in
        between republishes (harmless), it never skips.
        """
        envelopes: list[tuple[str, str | None, dict]] = []
        touched: list[Job] = []
        for job in jobs:
            changes = self._changes(job)
            if changes:
                envelopes.extend(changes)
                touched.append(job)
        if not envelopes:
            return 0
        self.publisher.send_many(envelopes)
        self.events += len(envelopes)
        for job in touched:
            self.state.record(job.id, [op.status for op in job.ops], finished=job.finished, ended=job_ended(job))
        return len(envelopes)

    def job_ids_on_disk(self) -> list[int]:
        ids = (job_id_from_name(name) for name in os.listdir(self.queue_dir))
        return sorted(i for i in ids if i is not None)

    def process_many(self, job_ids: Iterable[int], batch_size: int = 200) -> int:
        """Process jobs in id order, publishing in batches of up to ``batch_size`` jobs."""
        count = 0
        batch: list[Job] = []
        for job_id in sorted(job_ids):
            job = self.read_job(job_id)
            if job is not None:
                batch.append(job)
            if len(batch) >= batch_size:
                count += self._publish_batch(batch)
                batch = []
        return count + (self._publish_batch(batch) if batch else 0)

    def catch_up(self) -> int:
        """Scan the whole queue directory; returns how many messages it produced."""
        job_ids = self.job_ids_on_disk()
        count = self.process_many(job_ids)
        self.state.flush()
        self.state.prune(job_ids)
        log.info("catch-up: %d job file(s), %d message(s)", len(job_ids), count)
        return count

    # ------------------------------------------------------------------ periodic
    def heartbeat(self) -> bool:
        body = messages.heartbeat_message(
            self.cluster,
            self.host,
            is_master=self._was_master,
            now_ns=time.time_ns(),
            started_ns=self.started_ns,
            spool_depth=self.publisher.spool.depth(),
            published=self.publisher.published,
        )
        return self.publisher.send_transient(messages.routing_key(self.cluster, messages.KIND_HEARTBEAT), body, body["id"])

    def tick(self) -> None:
        """Periodic work: mastership transitions, spool replay, heartbeat, pruning."""
        now = self._clock()
        master = self.is_master()
        if master and not self._was_master:
            self._was_master = True
            self.catch_up()
        self._was_master = master
        self.publisher.drain()
        if self.heartbeat_interval > 0 and now >= self._next_heartbeat:
            self._next_heartbeat = now + self.heartbeat_interval
            self.heartbeat()
        if now >= self._next_prune:
            self._next_prune = now + PRUNE_INTERVAL
            self.state.prune(self.job_ids_on_disk())

    def _timeout_ms(self) -> int:
        waits = [self.publisher.retry_interval if self.publisher.spool_pending else 5.0]
        if self.heartbeat_interval > 0:
            waits.append(self._next_heartbeat - self._clock())
        if self.mastership is not None:
            waits.append(self.mastership.interval)
        # Never block long: stop() is noticed within half a second.
        return int(max(0.01, min([*waits, 0.5])) * 1000)

    # ------------------------------------------------------------------ loop
    def run(self, *, once: bool = False, ready: threading.Event | None = None) -> None:
        """Watch until :meth:`stop` (or, with ``once``, catch up, replay the spool and return)."""
        watcher = None if once else Watcher(self.queue_dir, self.publisher.spool.directory)
        try:
            self.tick()  # watches are in place before the catch-up: nothing slips in between
            if ready is not None:
                ready.set()
            while not once and not self.stop_event.is_set():
                changes = watcher.read(self._timeout_ms())
                if changes.spool:
                    self.publisher.notice_spool_change()
                if self.is_master() and self._was_master:
                    if changes.overflow:
                        log.warning("inotify queue overflowed: rescanning %s", self.queue_dir)
                        self.catch_up()
                    elif changes.job_ids:
                        self.process_many(changes.job_ids)
                    self.state.flush()
                self.tick()
        finally:
            self.state.flush()
            if watcher is not None:
                watcher.close()

    def stop(self) -> None:
        self.stop_event.set()
