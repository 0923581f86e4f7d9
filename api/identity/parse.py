"""Reading Keystone request bodies into logic's references; malformed input is a 400."""

from __future__ import annotations

from typing import Any

from api.faults import BadRequest
from logic.login import ProjectRef, UserRef


def obj(value: Any, where: str, *, required: bool = True) -> dict:
    """``value`` as a JSON object; 400 naming ``where`` otherwise."""
    if value is None and not required:
        return {}
    if not isinstance(value, dict):
        raise BadRequest(f"Expecting to find {where} as a JSON object.")
    return value


def text(value: Any, where: str, *, required: bool = True) -> str | None:
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value:
        raise BadRequest(f"Expecting to find {where} as a non-empty string.")
    if len(value) > 1024:
        raise BadRequest(f"{where} is too long.")
    return value


def _domain(body: dict, where: str) -> tuple[str | None, str | None]:
    domain = obj(body.get("domain"), f"{where}.domain", required=False)
    return (
        text(domain.get("id"), f"{where}.domain.id", required=False),
        text(domain.get("name"), f"{where}.domain.name", required=False),
    )


def user_ref(body: dict, where: str) -> UserRef:
    user_id = text(body.get("id"), f"{where}.id", required=False)
    name = text(body.get("name"), f"{where}.name", required=False)
    if not user_id and not name:
        raise BadRequest(f"Expecting to find id or name in {where}.")
    domain_id, domain_name = _domain(body, where)
    return UserRef(id=user_id, name=name, domain_id=domain_id, domain_name=domain_name)


def project_ref(body: dict, where: str) -> ProjectRef:
    project_id = text(body.get("id"), f"{where}.id", required=False)
    name = text(body.get("name"), f"{where}.name", required=False)
    if not project_id and not name:
        raise BadRequest(f"Expecting to find id or name in {where}.")
    domain_id, domain_name = _domain(body, where)
    return ProjectRef(id=project_id, name=name, domain_id=domain_id, domain_name=domain_name)


def v3_scope(auth: dict) -> ProjectRef | None:
    """The requested project scope of a v3 login; None when unscoped."""
    scope = auth.get("scope")
    if scope is None or scope == "unscoped":
        return None
    scope = obj(scope, "auth.scope")
    if not scope:
        return None
    if "project" in scope:
        return project_ref(obj(scope["project"], "auth.scope.project"), "auth.scope.project")
    unsupported = ", ".join(sorted(scope)) or "(empty)"
    raise BadRequest(f"Unsupported scope {unsupported}: only project scope (or none) is supported.")
