"""Nova's host aggregates (``os-aggregates``): admin records grouping compute nodes (Ganeti nodes).

Hosts are the compute services' hosts (:mod:`logic.compute_services`: the Ganeti node
names, across backends). An aggregate has a unique name, an optional availability zone
(kept in its metadata too, as Nova does; a host is in at most one zone) and string
metadata. This cloud records and shows them; placement does not read them (every server
is in the zone ``nova``; the README says so).
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone

from logic.compute_nodes import known_nodes
from logic.errors import ConflictError, InvalidInput, NotFoundError, PolicyError
from logic.identity import AuthContext
from logic.models import Aggregate, ComputeNode

AZ_KEY = "availability_zone"
MAX = 255


def require_admin(ctx: AuthContext, rule: str) -> None:
    if not ctx.is_admin:
        raise PolicyError(f"Policy doesn't allow os_compute_api:os-aggregates:{rule} to be performed.")


def _text(value: object, what: str, *, nullable: bool = False) -> str | None:
    if value is None and nullable:
        return None
    if not isinstance(value, str) or not value.strip() or len(value) > MAX:
        raise InvalidInput(f"Invalid input for field/attribute {what}: a string of 1 to {MAX} characters is required.")
    return value


def _spec(body: object, *, partial: bool) -> dict:
    if not isinstance(body, dict) or not isinstance(body.get("aggregate"), dict):
        raise InvalidInput('The request body must be {"aggregate": {...}}.')
    spec = body["aggregate"]
    if unknown := set(spec) - {"name", "availability_zone"}:
        raise InvalidInput(f"Additional properties are not allowed ({', '.join(sorted(unknown))} were unexpected).")
    if not partial and "name" not in spec:
        raise InvalidInput("'name' is a required property.")
    if partial and not spec:
        raise InvalidInput("At least one of 'name' or 'availability_zone' must be given.")
    out: dict = {}
    if "name" in spec:
        out["name"] = _text(spec["name"], "name")
    if "availability_zone" in spec:
        out["availability_zone"] = _text(spec["availability_zone"], "availability_zone", nullable=True)
    return out


def get(raw_id: str) -> Aggregate:
    found = Aggregate.objects.filter(pk=int(raw_id)).first() if str(raw_id).isdigit() else None
    if found is None:
        raise NotFoundError(f"Aggregate {raw_id} could not be found.")
    return found


def _check_zone(aggregate: Aggregate, zone: str | None, hosts: list[ComputeNode]) -> None:
    """A host is in one availability zone at most: refuse a zone its other aggregates contradict."""
    if zone is None:
        return
    others = Aggregate.objects.filter(hosts__in=hosts).exclude(pk=aggregate.pk).exclude(availability_zone=None)
    clash = others.exclude(availability_zone=zone).first()
    if clash is not None:
        raise InvalidInput(
            f"Cannot set availability zone {zone!r} on aggregate {aggregate.pk}: its hosts are in zone "
            f"{clash.availability_zone!r} (aggregate {clash.pk}); a host is in one zone only."
        )


def _save(aggregate: Aggregate, **changes) -> Aggregate:
    for key, value in changes.items():
        setattr(aggregate, key, value)
    if "availability_zone" in changes:
        metadata = dict(aggregate.metadata)
        if changes["availability_zone"] is None:
            metadata.pop(AZ_KEY, None)
        else:
            metadata[AZ_KEY] = changes["availability_zone"]
        aggregate.metadata = metadata
    aggregate.updated_at = timezone.now() if aggregate.pk else None
    try:
        with transaction.atomic():
            aggregate.save()
    except IntegrityError:
        raise ConflictError(f"Aggregate {aggregate.name} already exists.") from None
    return aggregate


def create(ctx: AuthContext, body: object) -> Aggregate:
    require_admin(ctx, "create")
    return _save(Aggregate(), **_spec(body, partial=False))


def update(ctx: AuthContext, raw_id: str, body: object) -> Aggregate:
    require_admin(ctx, "update")
    aggregate = get(raw_id)
    spec = _spec(body, partial=True)
    if "availability_zone" in spec:
        _check_zone(aggregate, spec["availability_zone"], list(aggregate.hosts.all()))
    return _save(aggregate, **spec)


def delete(ctx: AuthContext, raw_id: str) -> None:
    require_admin(ctx, "delete")
    aggregate = get(raw_id)
    if aggregate.hosts.exists():
        raise InvalidInput(f"Cannot delete aggregate {aggregate.pk}: it still has hosts; remove them first.")
    aggregate.delete()


def _host(name: object) -> ComputeNode:
    if not isinstance(name, str) or not name:
        raise InvalidInput("'host' must be a host name.")
    node = next((n for n in known_nodes() if n.name == name), None)
    if node is None:
        raise NotFoundError(f"Compute host {name} could not be found.")
    return node


def add_host(ctx: AuthContext, raw_id: str, host: object) -> Aggregate:
    require_admin(ctx, "add_host")
    aggregate = get(raw_id)
    node = _host(host)
    if aggregate.hosts.filter(pk=node.pk).exists():
        raise ConflictError(f"Aggregate {aggregate.pk} already has host {node.name}.")
    _check_zone(aggregate, aggregate.availability_zone, [node])
    aggregate.hosts.add(node)
    return _save(aggregate)


def remove_host(ctx: AuthContext, raw_id: str, host: object) -> Aggregate:
    require_admin(ctx, "remove_host")
    aggregate = get(raw_id)
    if not isinstance(host, str) or not aggregate.hosts.filter(name=host).exists():
        raise NotFoundError(f"Cannot remove host {host} in aggregate {aggregate.pk}: it is not in it.")
    aggregate.hosts.remove(*aggregate.hosts.filter(name=host))
    return _save(aggregate)


def set_metadata(ctx: AuthContext, raw_id: str, metadata: object) -> Aggregate:
    """Merge ``metadata`` (a null value removes the key; ``availability_zone`` sets the zone)."""
    require_admin(ctx, "set_metadata")
    aggregate = get(raw_id)
    if not isinstance(metadata, dict) or not metadata:
        raise InvalidInput("'metadata' must be a non-empty object.")
    merged = dict(aggregate.metadata)
    for key, value in metadata.items():
        _text(key, "metadata key")
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = _text(value, f"metadata value of {key}")
    zone = merged.get(AZ_KEY)
    _check_zone(aggregate, zone, list(aggregate.hosts.all()))
    aggregate.metadata = merged
    return _save(aggregate, availability_zone=zone)
