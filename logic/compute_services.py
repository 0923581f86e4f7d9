"""Nova's ``os-services``: one ``nova-compute`` service per compute node (Ganeti node), admin only.

The only binary is ``nova-compute`` (this cloud has no scheduler or conductor processes:
the API places servers itself, :mod:`logic.allocator`). A service is *up* when its node is
(:mod:`logic.compute_nodes`) and it is not forced down. Disabling a service (or forcing it
down) takes its node out of placement: the allocator skips a backend none of whose nodes
takes servers, and a server placed on a backend where only some do gets one of those as its
primary node. Existing servers stay where they are and keep working, as Nova's do.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from logic.compute_nodes import NodeFacts, read_nodes
from logic.errors import ConflictError, InvalidInput, NotFoundError, PolicyError
from logic.identity import AuthContext
from logic.ids import parse_uuid
from logic.models import ComputeNode

BINARY = "nova-compute"
ZONE = "nova"
MAX_REASON = 255


def require_admin(ctx: AuthContext, rule: str) -> None:
    if not ctx.is_admin:
        raise PolicyError(f"Policy doesn't allow os_compute_api:os-services:{rule} to be performed.")


@dataclass
class Service:
    node: ComputeNode
    up: bool

    @property
    def state(self) -> str:
        return "up" if self.up and not self.node.forced_down else "down"

    @property
    def status(self) -> str:
        return "disabled" if self.node.disabled else "enabled"


def _of(facts: NodeFacts) -> Service:
    return Service(node=facts.node, up=facts.up)


def listing(*, host: str | None, binary: str | None) -> list[Service]:
    services = [_of(f) for f in read_nodes()]
    if binary is not None and binary != BINARY:
        return []
    return [s for s in services if host is None or s.node.name == host]


def find(wanted: str, *, uuids: bool) -> Service:
    """The service with id ``wanted`` (an integer before 2.53, a uuid from 2.53: else a 400)."""
    if uuids:
        parsed = parse_uuid(wanted)
        if parsed is None:
            raise InvalidInput(f"Invalid uuid {wanted}")
        query = {"service_uuid": parsed}
    elif wanted.isdigit():
        query = {"pk": int(wanted)}
    else:
        raise NotFoundError(f"Service {wanted} could not be found.")
    node = ComputeNode.objects.filter(**query).select_related("backend").first()
    if node is None:
        raise NotFoundError(f"Service {wanted} could not be found.")
    return next((_of(f) for f in read_nodes([node.backend]) if f.node.pk == node.pk), Service(node=node, up=False))


def find_by_host(host: object, binary: object) -> Service:
    """The service named by ``host`` and ``binary`` (the calls before 2.53)."""
    if not isinstance(host, str) or not isinstance(binary, str):
        raise InvalidInput("'host' and 'binary' must be strings.")
    service = next((s for s in listing(host=host, binary=binary)), None)
    if service is None:
        raise NotFoundError(f"Service {binary} on host {host} could not be found.")
    return service


def _reason(value: object) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_REASON:
        raise InvalidInput(f"Invalid disabled_reason: a string of 1 to {MAX_REASON} characters is required.")
    return value


def _bool(value: object, name: str) -> bool:
    if not isinstance(value, bool):
        raise InvalidInput(f"Invalid input for field/attribute {name}. Value: {value!r}. It is not a boolean.")
    return value


def update(service: Service, *, status: str | None = None, reason: object = None, forced_down: object = None) -> Service:
    """Enable/disable (with an optional reason) and/or force down; nothing changes on a bad value."""
    node = service.node
    changes: dict[str, object] = {}
    if status is not None:
        if status not in ("enabled", "disabled"):
            raise InvalidInput(f"Invalid status {status!r}: 'enabled' or 'disabled'.")
        changes["disabled"] = status == "disabled"
        changes["disabled_reason"] = None
    if reason is not None:
        if status != "disabled":
            raise InvalidInput("Specifying 'disabled_reason' with status other than 'disabled' is not supported.")
        changes["disabled_reason"] = _reason(reason)
    if forced_down is not None:
        changes["forced_down"] = _bool(forced_down, "forced_down")
    if not changes:
        raise InvalidInput("At least one of 'status' or 'forced_down' must be given.")
    with transaction.atomic():
        locked = ComputeNode.objects.select_for_update().get(pk=node.pk)
        for key, value in changes.items():
            setattr(locked, key, value)
        locked.save()
    service.node = locked
    return service


def delete(service: Service) -> None:
    """Forget a service whose node the cluster no longer lists; refused while the node is there."""
    with transaction.atomic():
        locked = ComputeNode.objects.select_for_update().get(pk=service.node.pk)
        if locked.present:
            raise ConflictError(
                f"Unable to delete compute service {locked.name}: the node is still part of Ganeti cluster "
                f"{locked.backend.name} (remove it from the cluster first)."
            )
        locked.delete()
