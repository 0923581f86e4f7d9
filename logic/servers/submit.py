"""Submitting a server's Ganeti job after its intent is written, and recording what happened."""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils import timezone

from logic.enums import OperState, ServerTask
from logic.identity import AuthContext
from logic.models import Server, ServerAction

log = logging.getLogger(__name__)


def backend_jobs():
    """The operations of the server's backend driver: ``backend_jobs().start_server(server)``
    calls the Ganeti job module (:mod:`logic.ganeti_jobs`) or the libvirt driver, by the
    kind of ``server.backend`` (:mod:`logic.drivers`; imported late)."""
    from logic.drivers import dispatch

    return dispatch


def make_fault(code: int, message: str) -> dict:
    return {"code": code, "message": message[:255], "created": timezone.now().strftime("%Y-%m-%dT%H:%M:%SZ")}


def log_action(
    ctx: AuthContext,
    server: Server,
    action: str,
    request_id: str,
    *,
    finished: bool = False,
    result: str = "Success",
    message: str | None = None,
) -> ServerAction:
    return ServerAction.objects.create(
        server=server,
        action=action,
        request_id=request_id,
        user_id=ctx.user.pk,
        project_id=server.project_id,
        finish_time=timezone.now() if finished else None,
        result=result if finished else None,
        message=message,
    )


def submit_job(server: Server, task: str, request_id: str, submit) -> int | None:
    """Submit a Ganeti job for an intent already committed; record its id, or record the failure.

    A failed submission leaves the server in ERROR with a fault naming the cause
    (for a build), or clears the task and records the failure in the action log
    (for other actions: the server is as it was). Its quota charge is released.
    """
    from logic import quotas

    commission = getattr(server, "commission", None)
    try:
        job_id = submit()
    except Exception as exc:  # every failure is recorded below: the request must not be a 500
        log.warning("job submission for server %s (%s) failed: %s", server.pk, task, exc, exc_info=True)
        submission_failed(server, task, request_id, exc)
        return None
    job_id = int(job_id) if job_id is not None else None
    with transaction.atomic():
        # The job may already have ended and been applied (its event matched the task by
        # request id): then the task is gone and must not come back.
        recorded = Server.objects.filter(pk=server.pk, task=task, task_request_id=request_id, task_job_id__isnull=True).update(
            task_job_id=job_id
        )
        ServerAction.objects.filter(server=server, request_id=request_id, job_id__isnull=True).update(job_id=job_id)
        if commission is not None and job_id is not None:
            quotas.bind_job(commission, job_id)
    if recorded:
        server.task_job_id = job_id
        if job_id is not None:
            _settle_if_its_events_came_first(server, job_id)
    else:
        log.info("job %s of server %s (%s) ended before its id was recorded", job_id, server.pk, task)
    return job_id


def _settle_if_its_events_came_first(server: Server, job_id: int) -> None:
    """Events of the job were applied before its id was recorded and none matched the task
    (its opcodes carry no request id: Ganeti's reinstall): if the job has ended, settle it now."""
    from logic.models import Backend

    row = Server.objects.filter(pk=server.pk).values("task", "task_job_id", "backend_job_id").first()
    if row is None or row["task"] is None or row["task_job_id"] != job_id or row["backend_job_id"] != job_id:
        return
    if server.backend is None or server.backend.kind != Backend.Kind.GANETI:
        return  # the libvirt driver publishes its outcome after the id is known
    from logic import reconcile

    if reconcile.settle_ended_job(server, job_id):
        log.info("job %s of server %s ended before its id was recorded; settled from Ganeti's record", job_id, server.pk)
        server.refresh_from_db()


def submission_failed(server: Server, task: str, request_id: str, exc: Exception) -> None:
    from logic import quotas

    message = f"Could not submit the Ganeti job: {exc}"
    now = timezone.now()
    with transaction.atomic():
        changes: dict = {"task": None, "task_job_id": None, "task_request_id": None, "updated_at": now}
        if task == ServerTask.BUILD:
            # No job exists: nothing from Ganeti will ever move this server, so the intent fails here.
            changes.update(operstate=OperState.ERROR, fault=make_fault(500, message))
        if task in (ServerTask.RESIZE, ServerTask.REVERT_RESIZE) and server.old_flavor_id:
            changes.update(flavor_id=server.old_flavor_id, old_flavor_id=None)
        Server.objects.filter(pk=server.pk, task=task, task_request_id=request_id).update(**changes)
        # finish_time unset: if the RAPI call timed out after Ganeti took the job, its
        # event may already have finished the action; that outcome stands.
        ServerAction.objects.filter(server=server, request_id=request_id, finish_time__isnull=True).update(
            finish_time=now, result="Error", message=message[:1000]
        )
        quotas.release(getattr(server, "commission", None))
    for key, value in changes.items():
        setattr(server, key, value)
