"""The OpenStack view of a server's state, derived from ``operstate`` and ``task``.

The DB stores what Ganeti last reported (``operstate``) and the action in flight
(``task``, set by the API or, for an operator's reboot, by the event pipeline).
Everything a client sees (Nova ``status``, ``OS-EXT-STS:task_state``,
``OS-EXT-STS:power_state``) is computed here, in one place.
"""

from __future__ import annotations

from typing import Protocol

from logic.enums import JobStatus, OpCode, OperState, ServerTask

# Nova's status values (what ``server["status"]`` shows).
ACTIVE = "ACTIVE"
BUILD = "BUILD"
SHUTOFF = "SHUTOFF"
REBOOT = "REBOOT"
HARD_REBOOT = "HARD_REBOOT"
RESIZE = "RESIZE"
VERIFY_RESIZE = "VERIFY_RESIZE"
REBUILD = "REBUILD"
ERROR = "ERROR"
DELETED = "DELETED"

STATUSES = (ACTIVE, BUILD, SHUTOFF, REBOOT, HARD_REBOOT, RESIZE, VERIFY_RESIZE, REBUILD, ERROR, DELETED)

_BY_OPERSTATE = {
    OperState.BUILD: BUILD,
    OperState.STARTED: ACTIVE,
    OperState.STOPPED: SHUTOFF,
    OperState.ERROR: ERROR,
    OperState.DESTROYED: DELETED,
}

# A pending task overrides the operstate's status (Nova shows the transition).
_BY_TASK = {
    ServerTask.REBOOT_SOFT: REBOOT,
    ServerTask.REBOOT_HARD: HARD_REBOOT,
    ServerTask.RESIZE: RESIZE,
    ServerTask.REVERT_RESIZE: RESIZE,
    ServerTask.REBUILD: REBUILD,
}

_JOB_IN_PROGRESS = frozenset({JobStatus.QUEUED, JobStatus.WAITING, JobStatus.RUNNING, JobStatus.CANCELING})

# Nova's OS-EXT-STS:task_state for each pending task.
_TASK_STATE = {
    ServerTask.BUILD: "spawning",
    ServerTask.START: "powering-on",
    ServerTask.STOP: "powering-off",
    ServerTask.REBOOT_SOFT: "rebooting",
    ServerTask.REBOOT_HARD: "rebooting_hard",
    ServerTask.RESIZE: "resize_migrating",
    ServerTask.REVERT_RESIZE: "resize_reverting",
    ServerTask.REBUILD: "rebuilding",
    ServerTask.DESTROY: "deleting",
    ServerTask.RENAME: None,
}

# Nova's OS-EXT-STS:power_state codes.
POWER_NOSTATE = 0
POWER_RUNNING = 1
POWER_SHUTDOWN = 4


class HasServerState(Protocol):
    operstate: str
    task: str | None
    deleted: bool
    awaiting_resize_confirm: bool


def derive_status(
    operstate: str,
    task: str | None = None,
    *,
    deleted: bool = False,
    awaiting_resize_confirm: bool = False,
    backend_opcode: str | None = None,
    backend_jobstatus: str | None = None,
    backend_reboot_type: str | None = None,
) -> str:
    """Nova status for a server in ``operstate`` with ``task`` pending.

    DELETED wins over everything; ERROR and BUILD are shown as they are (a task
    cannot be pending on them except delete); otherwise a reboot/resize/rebuild
    task shows its transition status, and a finished resize waiting for its
    confirmation shows VERIFY_RESIZE. A reboot job the API did not submit (an
    operator's ``gnt-instance reboot``, the watcher) shows REBOOT/HARD_REBOOT
    while Ganeti runs it (the ``backend_*`` fields: the last job Ganeti reported).
    """
    if deleted or operstate == OperState.DESTROYED:
        return DELETED
    if operstate in (OperState.ERROR, OperState.BUILD):
        return _BY_OPERSTATE[OperState(operstate)]
    if task in _BY_TASK:
        return _BY_TASK[ServerTask(task)]
    if task is None and backend_opcode == OpCode.INSTANCE_REBOOT and backend_jobstatus in _JOB_IN_PROGRESS:
        return REBOOT if backend_reboot_type == "soft" else HARD_REBOOT
    if awaiting_resize_confirm:
        return VERIFY_RESIZE
    try:
        return _BY_OPERSTATE[OperState(operstate)]
    except ValueError:
        return ERROR


def server_status(server: HasServerState) -> str:
    """:func:`derive_status` of a Server row."""
    return derive_status(
        server.operstate,
        server.task,
        deleted=server.deleted,
        awaiting_resize_confirm=getattr(server, "awaiting_resize_confirm", False),
        backend_opcode=getattr(server, "backend_opcode", None),
        backend_jobstatus=getattr(server, "backend_jobstatus", None),
        backend_reboot_type=getattr(server, "backend_reboot_type", None),
    )


def task_state(task: str | None) -> str | None:
    """Nova's ``OS-EXT-STS:task_state`` for a pending task (None when idle)."""
    if not task:
        return None
    return _TASK_STATE.get(ServerTask(task))


def power_state(operstate: str) -> int:
    """Nova's ``OS-EXT-STS:power_state``: 1 running, 4 shut down, 0 unknown."""
    if operstate == OperState.STARTED:
        return POWER_RUNNING
    if operstate in (OperState.STOPPED, OperState.ERROR, OperState.DESTROYED):
        return POWER_SHUTDOWN
    return POWER_NOSTATE
