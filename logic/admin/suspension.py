"""Suspending a server for abuse (or an unpaid bill): it is stopped, and nobody can start it until unsuspended.

:func:`suspend` records the suspension and, when the server runs, stops it through
the ordinary stop action (a Ganeti shutdown job whose events reach the DB like any
other). :func:`check_not_suspended` is what the start/reboot actions call: a 409
with the reason, so the owner knows why and whom to ask.
"""

from __future__ import annotations

import logging

from django.db import transaction

from logic.enums import OperState, Role
from logic.errors import ConflictError, InvalidInput
from logic.identity import AuthContext
from logic.models import Server, ServerSuspension

log = logging.getLogger(__name__)


class Suspended(ConflictError):
    """The server is suspended by the operators."""


def suspension_of(server: Server) -> ServerSuspension | None:
    return ServerSuspension.objects.filter(server_id=server.pk).first()


def check_not_suspended(server: Server, action: str) -> None:
    """409 when ``server`` is suspended: it may not be started (or rebooted) by anyone."""
    suspension = suspension_of(server)
    if suspension is not None:
        raise Suspended(
            f"Cannot '{action}' instance {server.pk}: it is suspended by the cloud administrators "
            f"({suspension.reason}). Contact them to have it unsuspended."
        )


def suspend(ctx: AuthContext, server_id: int, reason: object, *, request_id: str) -> tuple[ServerSuspension, bool]:
    """Suspend a server; returns (the suspension, whether a stop job was submitted).

    Refused (409, nothing changed) while the server is busy with another task, or
    when it is already suspended or deleted.
    """
    from logic import servers

    if not isinstance(reason, str) or not reason.strip() or len(reason) > 255:
        raise InvalidInput("A suspension needs a reason: a non-empty string of at most 255 characters.")
    with transaction.atomic():
        server = Server.objects.select_for_update().get(pk=server_id)
        if server.deleted or server.operstate == OperState.DESTROYED:
            raise ConflictError(f"Cannot suspend instance {server.pk}: it is deleted.")
        if ServerSuspension.objects.filter(server=server).exists():
            raise ConflictError(f"Instance {server.pk} is already suspended.")
        if server.task:
            raise ConflictError(f"Cannot suspend instance {server.pk} while it is busy ({server.task}); try again when it ends.")
        suspension = ServerSuspension.objects.create(server=server, reason=reason.strip(), suspended_by=ctx.user.pk)
        running = server.operstate == OperState.STARTED
    if running:
        # The compute rules look servers up in the caller's project: act in the server's.
        as_admin = AuthContext(user=ctx.user, project=server.project, roles=[Role.ADMIN], token=ctx.token)
        servers.stop(as_admin, str(server.pk), request_id=request_id)
    log.info("server %s suspended by %s: %s (stop submitted: %s)", server_id, ctx.user.pk, reason, running)
    return suspension, running


def unsuspend(ctx: AuthContext, server_id: int) -> None:
    """Lift a suspension (the server stays stopped: its owner starts it)."""
    deleted, _ = ServerSuspension.objects.filter(server_id=server_id).delete()
    if not deleted:
        raise ConflictError(f"Instance {server_id} is not suspended.")
    log.info("server %s unsuspended by %s", server_id, ctx.user.pk)
