"""Neutron's standard-attr tags on networks, subnets, ports, security groups and floating IPs."""

from __future__ import annotations

from django.db import models, transaction

from logic.identity import AuthContext
from logic.models import Network, Subnet
from logic.neutron import nets
from logic.neutron.errors import NeutronNotFound, invalid

MAX_TAG = 255


def _check(tag: object) -> str:
    if not isinstance(tag, str) or not tag or len(tag) > MAX_TAG or "," in tag:
        raise invalid("tags", f"'{tag}' is not a valid tag (1-{MAX_TAG} characters, no comma)")
    return tag


def _may_change(ctx: AuthContext, obj: models.Model) -> None:
    network = obj if isinstance(obj, Network) else obj.network if isinstance(obj, Subnet) else None
    if network is not None and not nets.owns(ctx, network):
        nets.get_for_change(ctx, network.pk, action="tag")


def replace(ctx: AuthContext, obj: models.Model, tags: object) -> list[str]:
    """Set the object's tags to ``tags`` (a list of strings)."""
    if not isinstance(tags, list):
        raise invalid("tags", f"'{tags}' is not a list")
    _may_change(ctx, obj)
    clean = list(dict.fromkeys(_check(t) for t in tags))
    _save(obj, clean)
    return clean


def add(ctx: AuthContext, obj: models.Model, tag: str) -> None:
    _may_change(ctx, obj)
    if _check(tag) not in obj.tags:
        _save(obj, [*obj.tags, tag])


def remove(ctx: AuthContext, obj: models.Model, tag: str | None) -> None:
    """Remove one tag (404 ``TagNotFound`` when absent), or all of them when ``tag`` is None."""
    _may_change(ctx, obj)
    if tag is not None and tag not in obj.tags:
        exc = NeutronNotFound("Tag", tag)
        exc.neutron_type = "TagNotFound"
        raise exc
    _save(obj, [t for t in obj.tags if t != tag] if tag is not None else [])


def _save(obj: models.Model, tags: list[str]) -> None:
    with transaction.atomic():
        type(obj).objects.filter(pk=obj.pk).update(tags=tags, revision_number=models.F("revision_number") + 1)
    obj.tags = tags
