"""JSON shapes of the identity API: Keystone v3 tokens/projects and the v2.0 (Astakos) access."""

from __future__ import annotations

from datetime import UTC, datetime

from logic import catalog, identity
from logic.models import Domain, Project, Token, User


def isotime(value: datetime | None) -> str | None:
    """Keystone's timestamp format: ``2026-11-21T09:51:26.000000Z``."""
    if value is None:
        return None
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def domain_ref(domain: Domain) -> dict:
    return {"id": domain.id, "name": domain.name}


def user_ref(user: User) -> dict:
    return {"id": user.id, "name": user.name, "domain": domain_ref(user.domain), "password_expires_at": None}


def role_refs(role_names: list[str]) -> list[dict]:
    return [{"id": catalog.stable_id("role", name), "name": name} for name in identity.effective_roles(role_names)]


def project(p: Project) -> dict:
    """A Keystone v3 project."""
    return {
        "id": p.id,
        "name": p.name,
        "domain_id": p.domain_id,
        "description": p.description,
        "enabled": p.enabled,
        "is_domain": False,
        "parent_id": p.domain_id,
        "tags": [],
        "options": {},
        "links": {"self": catalog.url_for(f"/identity/v3/projects/{p.id}")},
    }


def project_list(projects: list[Project], self_url: str) -> dict:
    return {"projects": [project(p) for p in projects], "links": {"self": self_url, "previous": None, "next": None}}


def v3_token(row: Token, *, with_catalog: bool = True) -> dict:
    """The body of a Keystone v3 token (POST/GET ``/v3/auth/tokens``)."""
    user = row.user
    body: dict = {
        "methods": list(row.methods),
        "user": user_ref(user),
        "audit_ids": [row.audit_id],
        "issued_at": isotime(row.issued_at),
        "expires_at": isotime(row.expires_at),
    }
    if row.project is not None:
        body["project"] = {"id": row.project.id, "name": row.project.name, "domain": domain_ref(row.project.domain)}
        body["is_domain"] = False
        body["roles"] = role_refs(identity.roles_in(user, row.project))
        if with_catalog:
            body["catalog"] = catalog.v3_catalog()
    return {"token": body}


def v2_access(secret: str | None, row: Token | None, user_projects: list[Project]) -> dict:
    """The body of ``POST /v2.0/tokens`` (what kamaki/astakosclient read).

    Without a token (an empty request) only the catalog is returned, as Astakos does.
    """
    access: dict = {"serviceCatalog": catalog.v2_catalog()}
    if row is None:
        return {"access": access}
    token: dict = {"id": secret, "expires": isotime(row.expires_at)}
    if row.project is not None:
        token["tenant"] = {"id": row.project.id, "name": row.project.name}
    user = row.user
    access["token"] = token
    access["user"] = {
        "id": user.id,
        "name": user.name,
        "roles": role_refs(identity.roles_in(user, row.project)),
        "roles_links": [],
        "projects": [p.id for p in user_projects],
    }
    return {"access": access}
