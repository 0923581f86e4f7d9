"""Job calls: list, show, long-poll waits, cancel."""

from __future__ import annotations

import time
from collections.abc import Sequence

from logic.rapi.errors import JobFailed, RapiError, RapiNotFound, RapiUnavailable, job_error
from logic.rapi.transport import (
    FINISHED_JOB_STATUSES,
    GANETI_WAIT_SECONDS,
    Transport,
    api_path,
)


class JobCalls(Transport):
    """Job calls of :class:`logic.rapi.RapiClient`."""

    def list_job_ids(self) -> list[int]:
        return [int(item["id"]) for item in self.request("GET", api_path("jobs"))]

    def get_job(self, job_id: int) -> dict:
        """A job's status, opcodes, results and log (``GET /2/jobs/<id>``).

        Ganeti answers an unknown (or archived) job id with every field null:
        that is reported as :class:`RapiNotFound`.
        """
        job = self.request("GET", api_path("jobs", job_id))
        if not isinstance(job, dict) or job.get("status") is None:
            raise RapiNotFound(f"job {job_id} not found", 404)
        return job

    def wait_for_job_change(
        self,
        job_id: int,
        fields: Sequence[str] = ("status",),
        previous_job_info: list | None = None,
        previous_log_serial: int | None = None,
    ) -> dict | None:
        """Ganeti's long poll (``GET /2/jobs/<id>/wait``): blocks up to ~10 s until the job changes.

        Returns ``{"job_info": [...], "log_entries": [...]}``, or None when nothing changed.
        """
        body = {
            "fields": list(fields),
            "previous_job_info": previous_job_info,
            "previous_log_serial": previous_log_serial,
        }
        return self.request(
            "GET", api_path("jobs", job_id, "wait"), body=body, timeout=GANETI_WAIT_SECONDS + self.timeout, idempotent=False
        )

    def wait_for_job(self, job_id: int, *, timeout: float = 300) -> dict:
        """Wait until the job finishes; return the job (``GET /2/jobs/<id>``) when it succeeded.

        Raises :class:`JobFailed` with Ganeti's error text if it ended in error or
        was canceled, :class:`RapiUnavailable` if it is still running after ``timeout``.
        """
        deadline = time.monotonic() + timeout
        previous: list | None = None
        while True:
            try:
                change = self.wait_for_job_change(job_id, ["status"], previous)
            except RapiUnavailable:
                raise
            except RapiError:
                self.get_job(job_id)  # Ganeti answers 500 for an unknown job: make that a RapiNotFound
                raise
            if change is not None:
                previous = change["job_info"]
                if previous[0] in FINISHED_JOB_STATUSES:
                    break
            if time.monotonic() >= deadline:
                raise RapiUnavailable(f"job {job_id} not finished after {timeout:.0f}s")
        job = self.get_job(job_id)
        if job["status"] != "success":
            kind, text = job_error(job)
            raise JobFailed(int(job_id), job["status"], text, error_type=kind, job=job)
        return job

    def cancel_job(self, job_id: int) -> list:
        """Ask Ganeti to cancel a queued/waiting job: returns ``[success, message]``."""
        return self.request("DELETE", api_path("jobs", job_id))
