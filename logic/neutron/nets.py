"""Writable networks: private per project, shared, and external (``router:external``, admins only).

The read side (visibility, filters, Ganeti lookups) is :mod:`logic.networks`.
A private network counts against the project's ``cyclades.network.private``
quota, charged and settled in the create's (or delete's) own transaction:
nothing reaches Ganeti until a port on the network is attached to a server.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from logic import networks as reads
from logic import quotas
from logic.backends import client_for
from logic.enums import QuotaResource
from logic.errors import NotFoundError
from logic.identity import AuthContext
from logic.models import Network, Port, Subnet
from logic.neutron import ganeti_networks, quota
from logic.neutron.errors import NeutronConflict, NeutronForbidden, NeutronNotFound, invalid
from logic.neutron.values import boolean, integer, name_or_description, owner_for, reject_unknown

MAX_MTU = 1500
MIN_MTU = 68
_ADMIN_ONLY = ("shared", "router:external")
_CREATE = {
    "name", "description", "admin_state_up", "shared", "router:external", "mtu", "project_id", "tenant_id",
    "port_security_enabled", "availability_zone_hints", "is_default", "dns_domain",
}  # fmt: skip
_UPDATE = {"name", "description", "admin_state_up", "shared", "router:external", "mtu", "port_security_enabled", "is_default"}


def get(ctx: AuthContext, network_id: object) -> Network:
    """A network the caller sees (404 ``NetworkNotFound`` otherwise)."""
    try:
        return reads.get(ctx, network_id)
    except NotFoundError:
        raise NeutronNotFound("Network", network_id) from None


def owns(ctx: AuthContext, network: Network) -> bool:
    return ctx.is_admin or (network.project_id is not None and ctx.project is not None and network.project_id == ctx.project.pk)


def get_for_change(ctx: AuthContext, network_id: object, *, action: str) -> Network:
    """A network the caller may change: 404 when it can't see it, 403 when it sees it but doesn't own it."""
    if network_id is None:
        raise invalid("network_id", "'None' is not a valid UUID")
    network = get(ctx, network_id)
    if not owns(ctx, network):
        raise NeutronForbidden(f"Tenant {ctx.project.pk if ctx.project else ''} not allowed to {action} this network")
    return network


def touch(network: Network) -> None:
    """A change under the network (a subnet) bumps its revision, as Neutron does."""
    Network.objects.filter(pk=network.pk).update(revision_number=network.revision_number + 1, updated_at=timezone.now())


def mac_prefix(network: Network) -> str:
    return network.mac_prefix or settings.CYCLADES["NETWORK_MAC_PREFIX"]


def _mtu(value: object) -> int:
    return integer(value, "mtu", MIN_MTU, MAX_MTU)


def _admin_flags(ctx: AuthContext, body: Mapping[str, Any]) -> None:
    for key in _ADMIN_ONLY:
        if key in body and not ctx.is_admin and boolean(body[key], key):
            raise NeutronForbidden(f"(rule:create_network and rule:create_network:{key}) is disallowed by policy")


def _charge(network: Network, ctx: AuthContext, amount: int, reason: str) -> None:
    if network.project_id is None or network.public:
        return
    commission = quotas.charge(network.project_id, None, {QuotaResource.PRIVATE_NETWORKS: amount}, reason=reason)
    quotas.accept(commission)


def link_for(network_id: uuid.UUID, external: bool) -> str:
    """The Ganeti link of a new network: a bridge of its own (NETWORK_BRIDGE_PREFIX set, not external) or NETWORK_LINK.

    Interface names have at most 15 characters: the prefix and the start of the id's hex.
    """
    prefix = settings.CYCLADES["NETWORK_BRIDGE_PREFIX"]
    if not prefix or external:
        return settings.CYCLADES["NETWORK_LINK"]
    return prefix + network_id.hex[: 15 - len(prefix)]


def _fresh_id(external: bool) -> uuid.UUID:
    """A network id whose bridge name no other network has (the name keeps only 10+ hex digits of the id)."""
    while True:
        network_id = uuid.uuid4()
        link = link_for(network_id, external)
        if link == settings.CYCLADES["NETWORK_LINK"] or not Network.objects.filter(ganeti_link=link).exists():
            return network_id


def create(ctx: AuthContext, body: Mapping[str, Any]) -> Network:
    """A network owned by the caller's project (or, for admins, any project or none when external/shared)."""
    reject_unknown("network", body, _CREATE)
    _admin_flags(ctx, body)
    external = boolean(body.get("router:external", False), "router:external")
    shared = boolean(body.get("shared", False), "shared")
    if body.get("port_security_enabled") is not None and not boolean(body["port_security_enabled"], "port_security_enabled"):
        raise invalid("port_security_enabled", "networks without port security are not supported")
    project = owner_for(ctx, body)
    network_id = _fresh_id(external)
    with transaction.atomic():
        network = Network.objects.create(
            id=network_id,
            name=name_or_description(body, "name"),
            description=name_or_description(body, "description"),
            project=project,
            public=external,
            shared=shared,
            admin_state_up=boolean(body.get("admin_state_up", True), "admin_state_up"),
            mtu=_mtu(body["mtu"]) if body.get("mtu") is not None else MAX_MTU,
            ganeti_link=link_for(network_id, external),
        )
        _charge(network, ctx, 1, f"create network {network.pk}")
    return network


def update(ctx: AuthContext, network_id: object, body: Mapping[str, Any]) -> Network:
    network = get_for_change(ctx, network_id, action="update")
    reject_unknown("network", body, _UPDATE, read_only={"id", "project_id", "tenant_id", "status", "subnets"})
    _admin_flags(ctx, body)
    with transaction.atomic():
        network = Network.objects.select_for_update().get(pk=network.pk)
        for key in ("name", "description"):
            if key in body:
                setattr(network, key, name_or_description(body, key))
        if "admin_state_up" in body:
            network.admin_state_up = boolean(body["admin_state_up"], "admin_state_up")
        if "mtu" in body:
            network.mtu = _mtu(body["mtu"])
        if "shared" in body:
            shared = boolean(body["shared"], "shared")
            if not shared and network.shared and _foreign_ports(network).exists():
                raise NeutronConflict("InvalidSharedSetting", f"Unable to reconfigure sharing settings for network {network.pk}. "
                                      "Multiple tenants are using it.")  # fmt: skip
            network.shared = shared
        if "router:external" in body:
            network.public = boolean(body["router:external"], "router:external")
        network.revision_number += 1
        network.save()
    return network


def _foreign_ports(network: Network):
    return Port.objects.filter(network=network).exclude(project_id=network.project_id).exclude(project__isnull=True)


def delete(ctx: AuthContext, network_id: object) -> None:
    """Delete a network without ports (409 ``NetworkInUse`` otherwise); its subnets go with it."""
    network = get_for_change(ctx, network_id, action="delete")
    with transaction.atomic():
        network = Network.objects.select_for_update().get(pk=network.pk)
        if Port.objects.filter(network=network).exists() or network.floating_ips.exists():
            raise NeutronConflict(
                "NetworkInUse",
                f"Unable to complete operation on network {network.pk}. There are one or more ports still in use on the network.",
            )
        subnets = Subnet.objects.filter(network=network)
        quota.free(subnets.values_list("project_id", flat=True), QuotaResource.SUBNETS, f"delete network {network.pk}")
        subnets.delete()
        network.deleted = True
        network.revision_number += 1
        network.save(update_fields=["deleted", "revision_number", "updated_at"])
        _charge(network, ctx, -1, f"delete network {network.pk}")
        copies = list(network.backend_networks.select_related("backend"))
    for copy in copies:  # after the commit: the Ganeti networks go too (disconnect, then remove)
        with client_for(copy.backend) as client:
            ganeti_networks.forget(network, copy.backend, client)
