"""Operators move servers between Ganeti nodes: migrate, failover (Ganeti jobs).

The API answers with the job id at once; the job's events reach the database through
eventd and the dispatcher like any other (``backend_opcode`` OP_INSTANCE_MIGRATE/FAILOVER
and its status on the server). No task is set: the server stays usable while it moves.
"""

from __future__ import annotations

import logging

from logic import backends
from logic.enums import OperState
from logic.errors import ConflictError, InvalidInput
from logic.models import Backend, Server

log = logging.getLogger(__name__)


def _movable(server: Server) -> Backend:
    if server.deleted or server.operstate in (OperState.DESTROYED, OperState.BUILD) or server.backend is None:
        raise ConflictError(f"Cannot move instance {server.pk}: it is not built on a backend (status {server.operstate}).")
    return server.backend


def migrate(server: Server, *, live: object = True, target_node: object = None, reason: str) -> int:
    """Submit a migration of the server's instance; returns the Ganeti job id."""
    if not isinstance(live, bool):
        raise InvalidInput("live must be true or false.")
    if target_node is not None and not isinstance(target_node, str):
        raise InvalidInput("target_node must be a node name.")
    with backends.client_for(_movable(server)) as client:
        job_id = client.migrate_instance(server.ganeti_name, live=live, target_node=target_node, reason=reason)
    log.info("server %s: migrate job %s submitted", server.pk, job_id)
    return job_id


def failover(server: Server, *, target_node: object = None, reason: str) -> int:
    if target_node is not None and not isinstance(target_node, str):
        raise InvalidInput("target_node must be a node name.")
    with backends.client_for(_movable(server)) as client:
        job_id = client.failover_instance(server.ganeti_name, target_node=target_node, reason=reason)
    log.info("server %s: failover job %s submitted", server.pk, job_id)
    return job_id
