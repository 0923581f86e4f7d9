"""Parsing Neutron request values, with Neutron's wording for bad ones."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from typing import Any

from logic.identity import AuthContext
from logic.models import Project
from logic.neutron.errors import NeutronBadRequest, NeutronForbidden, invalid

_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}


def reject_unknown(resource: str, body: Mapping[str, Any], allowed: Iterable[str], *, read_only: Iterable[str] = ()) -> None:
    """400 for attributes Neutron doesn't know here, or that may not be changed."""
    if not isinstance(body, Mapping):
        raise NeutronBadRequest(f"Invalid input: the {resource} body must be an object.", "HTTPBadRequest")
    if fixed := sorted(set(body) & set(read_only)):
        raise NeutronBadRequest(f"Cannot update read-only attribute {fixed[0]}", "HTTPBadRequest")
    if unknown := sorted(set(body) - set(allowed)):
        raise NeutronBadRequest(f"Unrecognized attribute(s) '{', '.join(unknown)}'", "HTTPBadRequest")


def boolean(value: object, name: str) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise invalid(name, f"'{value}' is not a valid boolean value")


def integer(value: object, name: str, low: int, high: int) -> int:
    if isinstance(value, bool):
        raise invalid(name, f"'{value}' is not an integer")
    try:
        number = int(str(value))
    except ValueError:
        raise invalid(name, f"'{value}' is not an integer") from None
    if not low <= number <= high:
        raise invalid(name, f"'{number}' is not in range {low} through {high}")
    return number


def name_or_description(body: Mapping[str, Any], key: str) -> str:
    value = body.get(key) or ""
    if not isinstance(value, str):
        raise invalid(key, f"'{value}' is not a valid string")
    if len(value) > 255:
        raise invalid(key, f"'{value[:20]}...' exceeds maximum length of 255")
    return value


def ip_of_version(value: object, version: int | None, name: str) -> str:
    """``value`` as a canonical IP address (of ``version`` if given)."""
    try:
        address = ipaddress.ip_address(str(value))
    except ValueError:
        raise invalid(name, f"'{value}' is not a valid IP address") from None
    if version is not None and address.version != version:
        raise invalid(name, f"'{value}' is not an IPv{version} address")
    return str(address)


def cidr(value: object, name: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    try:
        return ipaddress.ip_network(str(value), strict=False)
    except ValueError:
        raise invalid(name, f"'{value}' is not a valid IP subnet") from None


def owner_for(ctx: AuthContext, body: Mapping[str, Any], *, default: Project | None = None) -> Project | None:
    """The project a new object belongs to: the caller's, or (admins only) the one the body names."""
    wanted = body.get("project_id") or body.get("tenant_id")
    if body.get("project_id") and body.get("tenant_id") and body["project_id"] != body["tenant_id"]:
        raise NeutronBadRequest("'project_id' and 'tenant_id' do not match", "HTTPBadRequest")
    own = ctx.project
    if not wanted:
        return default if default is not None and ctx.is_admin else own
    if own is not None and wanted == own.pk:
        return own
    if not ctx.is_admin:
        raise NeutronForbidden(
            "Specifying 'project_id' or 'tenant_id' other than the authenticated project in request requires admin privileges"
        )
    project = Project.objects.filter(pk=wanted).first()
    if project is None:
        raise invalid("project_id", f"project {wanted} does not exist")
    return project
