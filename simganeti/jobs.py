"""Jobs and the job queue: Ganeti's job file format, RAPI job view, and the runner.

Every change of a job is written to ``<queue_dir>/job-<id>`` the way Ganeti 3.0
writes it: a temporary file in the same directory renamed over the old one (so a
watcher sees IN_MOVED_TO with a complete file). The first three versions of a
file are written compactly by the queue daemon, the later ones by the job
process with spaces; both shapes are reproduced (samples/job-queue/job-N.MM).
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from simganeti import opdefs
from simganeti.execute import SEMANTICS, Context, EarlyFailure, Fill, Log, OpError, Sleep
from simganeti.faults import Faults

log = logging.getLogger("simganeti.jobs")

FINISHED = frozenset({"success", "error", "canceled"})


def now_ts() -> list[int]:
    t = time.time()
    sec = int(t)
    return [sec, int((t - sec) * 1_000_000)]


@dataclass
class OpState:
    """One opcode of a job, as stored in the job file."""

    input: dict[str, Any]
    status: str = "queued"
    result: Any = None
    log: list[list[Any]] = field(default_factory=list)
    start_timestamp: list[int] | None = None
    exec_timestamp: list[int] | None = None
    end_timestamp: list[int] | None = None
    priority: int = 0

    def file_dict(self, compact: bool) -> dict[str, Any]:
        if compact:  # the queue daemon's field order
            keys = ("input", "status", "result", "log", "priority", "start_timestamp", "exec_timestamp", "end_timestamp")
        else:
            keys = ("input", "status", "result", "log", "start_timestamp", "exec_timestamp", "end_timestamp", "priority")
        return {k: getattr(self, k) for k in keys}


@dataclass
class Job:
    id: int
    ops: list[OpState]
    received_timestamp: list[int]
    start_timestamp: list[int] | None = None
    end_timestamp: list[int] | None = None
    livelock: str | None = None
    process_id: int | None = None
    # bookkeeping, not written to the file
    cancel_requested: bool = False
    compact: bool = True

    # ------------------------------------------------------------ views
    @property
    def status(self) -> str:
        """The job's status computed from its opcodes, as Ganeti does."""
        status = "queued"
        all_success = True
        for op in self.ops:
            if op.status == "success":
                continue
            all_success = False
            if op.status == "waiting":
                status = "waiting"
            elif op.status == "running":
                status = "running"
            elif op.status in ("canceling", "error", "canceled"):
                status = op.status
                break
        return "success" if all_success else status

    @property
    def finished(self) -> bool:
        return self.status in FINISHED

    def file_text(self) -> str:
        ops = [op.file_dict(self.compact) for op in self.ops]
        if self.compact:
            data: dict[str, Any] = {
                "id": self.id,
                "ops": ops,
                "received_timestamp": self.received_timestamp,
                "start_timestamp": self.start_timestamp,
                "end_timestamp": self.end_timestamp,
            }
            if self.livelock:
                data["livelock"] = self.livelock
            return json.dumps(data, separators=(",", ":"))
        data = {
            "id": self.id,
            "ops": ops,
            "start_timestamp": self.start_timestamp,
            "end_timestamp": self.end_timestamp,
            "received_timestamp": self.received_timestamp,
            "livelock": self.livelock,
            "process_id": self.process_id,
        }
        return json.dumps(data)

    def summary(self) -> list[str]:
        out = []
        for op in self.ops:
            opdef = opdefs.BY_ID.get(op.input.get("OP_ID", ""))
            out.append(opdef.summary(op.input) if opdef else str(op.input.get("OP_ID", ""))[3:])
        return out

    def rapi(self) -> dict[str, Any]:
        """``GET /2/jobs/<id>``."""
        return {
            "id": self.id,
            "ops": [opdefs.rapi_view(op.input) for op in self.ops],
            "status": self.status,
            "summary": self.summary(),
            "opstatus": [op.status for op in self.ops],
            "received_ts": self.received_timestamp,
            "start_ts": self.start_timestamp,
            "end_ts": self.end_timestamp,
            "oplog": [op.log for op in self.ops],
            "opresult": [op.result for op in self.ops],
        }

    def field(self, name: str) -> Any:
        return self.rapi().get(name)

    @classmethod
    def from_file(cls, text: str) -> Job:
        data = json.loads(text)
        ops = [OpState(**{k: op.get(k) for k in OpState.__dataclass_fields__ if k in op}) for op in data["ops"]]
        return cls(
            id=int(data["id"]),
            ops=ops,
            received_timestamp=data.get("received_timestamp"),
            start_timestamp=data.get("start_timestamp"),
            end_timestamp=data.get("end_timestamp"),
            livelock=data.get("livelock"),
            process_id=data.get("process_id"),
            compact=False,
        )


def unknown_job(job_id: int) -> dict[str, Any]:
    """What Ganeti answers for a job id it does not know: 200 with every field null."""
    keys = ("ops", "status", "summary", "opstatus", "received_ts", "start_ts", "end_ts", "oplog", "opresult")
    return {"id": job_id, **dict.fromkeys(keys)}


class JobQueue:
    """Accepts jobs, runs them in threads, writes every version of their files.

    ``state_lock`` guards the cluster; ``on_change`` is called (under no lock)
    after every job that changed the cluster finishes (the master persists then).
    """

    def __init__(
        self,
        queue_dir: str,
        ctx: Context,
        state_lock: threading.RLock,
        faults: Faults,
        *,
        time_scale: float = 1.0,
        first_job_id: int = 1,
        on_change: Callable[[], None] | None = None,
        max_running: int = 20,
    ) -> None:
        self.queue_dir = queue_dir
        os.makedirs(queue_dir, exist_ok=True)
        self.ctx = ctx
        self.state_lock = state_lock
        self.faults = faults
        self.time_scale = time_scale
        self.on_change = on_change
        self.jobs: dict[int, Job] = {}
        self._next_id = first_job_id
        self._cond = threading.Condition()
        self._slots = threading.Semaphore(max_running)
        self._object_locks: dict[str, threading.Lock] = {}
        self._threads: list[threading.Thread] = []
        self._stopping = threading.Event()
        self._daemon_start = int(time.time())
        self._load_existing()

    # ------------------------------------------------------------ persistence
    def _load_existing(self) -> None:
        """Pick up job files of an earlier run; unfinished ones end as Ganeti ends them on restart."""
        for entry in os.listdir(self.queue_dir):
            if not entry.startswith("job-") or not entry[4:].isdigit():
                continue
            path = os.path.join(self.queue_dir, entry)
            try:
                with open(path) as f:
                    job = Job.from_file(f.read())
            except (OSError, ValueError, KeyError, TypeError) as exc:
                log.warning("ignoring unreadable job file %s: %s", path, exc)
                continue
            self.jobs[job.id] = job
            self._next_id = max(self._next_id, job.id + 1)
            if not job.finished:
                ts = now_ts()
                for op in job.ops:
                    if op.status not in FINISHED:
                        op.status = "error"
                        op.result = ["OpExecError", ["Unclean master daemon shutdown"]]
                        op.end_timestamp = ts
                job.end_timestamp = ts
                self._write(job)

    @property
    def next_job_id(self) -> int:
        return self._next_id

    def _write(self, job: Job) -> None:
        final = os.path.join(self.queue_dir, f"job-{job.id}")
        fd, tmp = tempfile.mkstemp(prefix=f".job-{job.id}", suffix=".new", dir=self.queue_dir)
        try:
            with os.fdopen(fd, "w") as f:
                f.write(job.file_text())
            os.chmod(tmp, 0o640)
            os.rename(tmp, final)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise

    def _changed(self, job: Job) -> None:
        """Write the job's new version and wake every waiter."""
        self._write(job)
        with self._cond:
            self._cond.notify_all()

    # ------------------------------------------------------------ submit
    def submit(
        self,
        ops: list[tuple[str, dict[str, Any]]],
        *,
        rapi_resource: str | None,
        user_reason: str | None,
        depends: list[list[Any]] | None = None,
    ) -> int:
        """Queue a job of (OP_ID, parameters) opcodes; returns its id at once.

        ``depends``: Ganeti's job dependencies (``[[job id, [statuses]]]``): the job
        waits for those jobs and fails without running if one ends otherwise.
        """
        received_ns = time.time_ns()
        with self._cond:
            job_id = self._next_id
            self._next_id += 1
        received = [received_ns // 1_000_000_000, (received_ns // 1000) % 1_000_000]
        received_ns_rounded = (received_ns // 1000) * 1000
        states = []
        for index, (op_id, given) in enumerate(ops):
            opdef = opdefs.BY_ID[op_id]
            reason: list[list[Any]] = []
            if user_reason:
                reason.append(["gnt:user", user_reason, received_ns - 2_000_000])
            if rapi_resource:
                reason.append([f"gnt:library:rlib2:{rapi_resource}", "", received_ns - 2_000_000])
            reason.append([opdef.reason_opcode(), f"job={job_id};index={index}", received_ns_rounded])
            common = {
                "dry_run": given.pop("dry_run", False),
                "priority": 0,
                "depends": depends,
                "comment": None,
                "reason": reason,
            }
            states.append(OpState(input=opdefs.submitted(opdef, given, common=common)))
        job = Job(id=job_id, ops=states, received_timestamp=received)
        with self._cond:
            self.jobs[job_id] = job
        self._write(job)
        thread = threading.Thread(target=self._run_job, args=(job,), name=f"simganeti-job-{job_id}", daemon=True)
        self._threads = [t for t in self._threads if t.is_alive()]
        self._threads.append(thread)
        thread.start()
        return job_id

    # ------------------------------------------------------------ run
    def _sleep(self, seconds: float) -> None:
        self._stopping.wait(seconds * self.time_scale * self.faults.slowdown)

    def _run_job(self, job: Job) -> None:
        try:
            self._run_job_inner(job)
        except Exception:  # a simulator bug must not leave the job hanging forever
            log.exception("job %s crashed", job.id)
            ts = now_ts()
            for op in job.ops:
                if op.status not in FINISHED:
                    op.status, op.result, op.end_timestamp = "error", ["OpExecError", ["Internal simulator error"]], ts
            job.end_timestamp = ts
            self._changed(job)

    def _run_job_inner(self, job: Job) -> None:
        self._sleep(0.005)
        job.livelock = f"/var/run/ganeti/livelocks/luxi-daemon_{self._daemon_start}"
        self._changed(job)
        while not self.faults.wait_released(0.2):
            if self._stopping.is_set() or job.cancel_requested:
                break
        if self._cancel_if_requested(job):
            return
        if unmet := self._wait_for_dependencies(job):
            job.start_timestamp = now_ts()
            for op in job.ops:
                op.start_timestamp = job.start_timestamp
            self._fail_rest(job, 0, "error", ["OpExecError", [unmet]])
            job.end_timestamp = now_ts()
            self._changed(job)
            if self.on_change:
                self.on_change()
            return
        self._slots.acquire()
        try:
            self._sleep(0.1)
            if self._cancel_if_requested(job):
                return
            job.livelock = f"/var/run/ganeti/livelocks/job_{job.id:06d}_{int(time.time())}"
            self._changed(job)
            self._sleep(0.05)
            job.compact = False
            job.process_id = os.getpid()
            job.start_timestamp = now_ts()
            for index, op in enumerate(job.ops):
                if not self._run_op(job, index, op):
                    break
            job.end_timestamp = now_ts()
            self._changed(job)
        finally:
            self._slots.release()
        if self.on_change:
            self.on_change()

    def _wait_for_dependencies(self, job: Job) -> str | None:
        """Wait until the jobs ``job`` depends on have finished; Ganeti's message if one ended otherwise."""
        for dep_id, statuses in (job.ops[0].input.get("depends") or []) if job.ops else []:
            dep = self.get(dep_id)
            if dep is None:
                return f"Dependency job {dep_id} not found"
            while not dep.finished and not self._stopping.is_set():
                self._stopping.wait(0.02)
            if dep.status not in statuses:
                return (
                    f"Dependency job {dep_id} finished with status '{dep.status}', not one of '{', '.join(statuses)}' as required"
                )
        return None

    def _cancel_if_requested(self, job: Job) -> bool:
        if not job.cancel_requested:
            return False
        ts = now_ts()
        for op in job.ops:
            op.status, op.result, op.end_timestamp = "canceled", "Job canceled by request", ts
        job.end_timestamp = ts
        self._changed(job)
        return True

    def _lock_names(self, op_input: dict[str, Any]) -> list[str]:
        names = []
        for key in ("instance_name", "new_name", "network_name"):
            if op_input.get(key):
                names.append(f"{key.split('_')[0]}/{op_input[key]}")
        if op_input.get("OP_ID") == "OP_TAGS_SET" or op_input.get("OP_ID") == "OP_TAGS_DEL":
            names.append(f"{op_input.get('kind')}/{op_input.get('name')}")
        names = [n.replace("new/", "instance/") for n in names]
        return sorted(set(names))

    def _run_op(self, job: Job, index: int, op: OpState) -> bool:
        """Run one opcode through waiting -> running -> success/error; False if the job stops."""
        opdef = opdefs.BY_ID[op.input["OP_ID"]]
        semantics = SEMANTICS[opdef.op_id]
        op.status = "waiting"
        op.start_timestamp = now_ts()
        op.input = opdefs.waiting(op.input)
        self._changed(job)
        locks = [self._object_locks.setdefault(name, threading.Lock()) for name in self._lock_names(op.input)]
        for lock in locks:
            lock.acquire()
        try:
            if job.cancel_requested:
                self._fail_rest(job, index, "canceled", "Job canceled by request")
                return False
            self._sleep(0.01)
            with self.state_lock:
                try:
                    filled = semantics.prepare(self.ctx, op.input)
                except EarlyFailure as early:
                    op.input = opdefs.running(opdef, op.input, early.filled)
                    op.status, op.result, op.end_timestamp = "error", early.error.encode(), now_ts()
                    self._fail_rest(job, index + 1, "error", ["OpExecError", ["Preceding opcode failed"]])
                    return False
            op.input = opdefs.running(opdef, op.input, filled)
            op.status = "running"
            op.exec_timestamp = now_ts()
            self._changed(job)
            result, error = self._execute(job, op, opdef, semantics)
            op.end_timestamp = now_ts()
            if error is None:
                op.status, op.result = "success", result
                if index + 1 == len(job.ops):
                    return True  # the job's end_timestamp goes into the same, last write
                self._changed(job)
                return True
            op.status, op.result = "error", error.encode()
            self._fail_rest(job, index + 1, "error", ["OpExecError", ["Preceding opcode failed"]])
            return False
        finally:
            for lock in reversed(locks):
                lock.release()

    def _execute(self, job: Job, op: OpState, opdef: opdefs.OpDef, semantics) -> tuple[Any, OpError | None]:
        target = op.input.get("instance_name") or op.input.get("network_name") or op.input.get("name")
        injected = self.faults.take_failure(opdef.op_id, target)
        if injected:  # fail while running, before touching the cluster
            self._sleep(0.2)
            return None, OpError("OpExecError", injected)
        gen = semantics.run(self.ctx, op.input)
        pending_fill: dict[str, Any] = {}
        serial = sum(len(o.log) for o in job.ops)
        try:
            while True:
                with self.state_lock:
                    step = next(gen)
                if isinstance(step, Sleep):
                    self._sleep(step.seconds)
                elif isinstance(step, Fill):
                    pending_fill.update(step.values)
                elif isinstance(step, Log):
                    serial += 1
                    op.input.update(pending_fill)
                    pending_fill.clear()
                    op.log.append([serial, now_ts(), "message", step.message])
                    self._changed(job)
        except StopIteration as stop:
            op.input.update(pending_fill)
            return stop.value, None
        except OpError as exc:
            op.input.update(pending_fill)
            return None, exc

    def _fail_rest(self, job: Job, start: int, status: str, result: Any) -> None:
        ts = now_ts()
        for op in job.ops[start:]:
            op.status, op.result, op.end_timestamp = status, result, ts

    # ------------------------------------------------------------ queries
    def get(self, job_id: int) -> Job | None:
        with self._cond:
            return self.jobs.get(job_id)

    def cancel(self, job_id: int) -> tuple[bool, str]:
        """``DELETE /2/jobs/<id>``: only jobs not yet running can be canceled."""
        job = self.get(job_id)
        if job is None or job.finished:
            return False, f"Job {job_id} not found in queue"
        if job.status == "queued":
            job.cancel_requested = True
            return True, f"Job {job_id} canceled"
        if job.status == "waiting":
            job.cancel_requested = True
            for op in job.ops:
                if op.status == "waiting":
                    op.status = "canceling"
            self._changed(job)
            return True, f"Job {job_id} will be canceled"
        return False, f"Job {job_id} is no longer waiting in the queue"

    def wait_for_change(
        self, job_id: int, fields: list[str], previous_info: Any, previous_serial: int | None, timeout: float
    ) -> dict[str, Any] | None:
        """``GET /2/jobs/<id>/wait``: None when nothing changed before ``timeout``."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                job = self.jobs.get(job_id)
                if job is None:
                    raise KeyError(job_id)
                info = [job.field(f) for f in fields]
                entries = [e for op in job.ops for e in op.log if previous_serial is None or e[0] > previous_serial]
                if previous_info is None or info != previous_info or entries or job.finished:
                    return {"job_info": info, "log_entries": entries}
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return None
                self._cond.wait(remaining)

    def wait_all_finished(self, timeout: float = 30.0) -> bool:
        deadline = time.monotonic() + timeout
        with self._cond:
            while any(not j.finished for j in self.jobs.values()):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._cond.wait(remaining)
        return True

    def stop(self) -> None:
        self._stopping.set()
        self.faults.release_jobs()
        for t in list(self._threads):
            t.join(timeout=5)
