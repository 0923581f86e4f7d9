"""Fault injection: what tests and demos can make the simulated master do wrong."""

from __future__ import annotations

import threading
from dataclasses import dataclass


@dataclass
class _Failure:
    op_id: str | None
    target: str | None
    message: str
    remaining: int


class Faults:
    """Thread-safe switches consulted by the RAPI server and the job runner.

    - ``rapi_unavailable``: every RAPI request gets its connection dropped without an
      answer (the client sees a connection error, as when ganeti-rapi is down).
    - ``fail_next(op_id, target, message, count)``: the next matching opcodes fail
      while running with ``OpExecError`` (Ganeti's error for an execution failure).
    - ``slowdown``: multiplies every opcode's duration; ``hold_jobs``: new jobs stay
      queued until ``release_jobs()`` (to observe intermediate states).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.rapi_unavailable = False
        self.slowdown = 1.0
        self._failures: list[_Failure] = []
        self._released = threading.Event()
        self._released.set()

    def fail_next(
        self, op_id: str | None = None, target: str | None = None, message: str = "Simulated failure", count: int = 1
    ) -> None:
        with self._lock:
            self._failures.append(_Failure(op_id, target, message, count))

    def take_failure(self, op_id: str, target: str | None) -> str | None:
        """The failure message for this opcode run, if one was injected (consumes it)."""
        with self._lock:
            for f in self._failures:
                if (f.op_id in (None, op_id)) and (f.target in (None, target)):
                    f.remaining -= 1
                    if f.remaining <= 0:
                        self._failures.remove(f)
                    return f.message
        return None

    def hold_jobs(self) -> None:
        self._released.clear()

    def release_jobs(self) -> None:
        self._released.set()

    def wait_released(self, timeout: float) -> bool:
        return self._released.wait(timeout)

    def clear(self) -> None:
        with self._lock:
            self._failures.clear()
        self.rapi_unavailable = False
        self.slowdown = 1.0
        self._released.set()

    def snapshot(self) -> dict:
        with self._lock:
            return {
                "rapi_unavailable": self.rapi_unavailable,
                "slowdown": self.slowdown,
                "jobs_held": not self._released.is_set(),
                "pending_failures": [vars(f).copy() for f in self._failures],
            }
