"""Tokens: issuing, validating, revoking. Only SHA-256 digests are stored.

A token is a random URL-safe string shown once; the database keeps its digest,
the scoped project, the expiry and whether it was revoked. Validation is one
indexed lookup (with the user and project joined).
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from logic import token_query
from logic.enums import Role
from logic.models import Membership, Project, Token, User


class InvalidToken(Exception):
    """The token is unknown, expired, revoked, or its user/project is disabled."""


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass
class AuthContext:
    """Who is calling, in which project, with which roles."""

    user: User
    project: Project | None
    roles: list[str] = field(default_factory=list)
    token: Token | None = None

    @property
    def is_admin(self) -> bool:
        return self.user.is_admin or Role.ADMIN in self.roles

    @property
    def can_read(self) -> bool:
        return self.is_admin or bool(self.roles)

    @property
    def can_write(self) -> bool:
        return self.is_admin or Role.MEMBER in self.roles


def token_lifetime() -> timedelta:
    return timedelta(seconds=settings.CYCLADES.get("TOKEN_LIFETIME", 86400))


def issue_token(
    user: User,
    project: Project | None,
    *,
    methods: list[str] | None = None,
    kind: str = Token.Kind.SESSION,
    lifetime: timedelta | None = None,
    expires_at: datetime | None = None,
    description: str = "",
) -> tuple[str, Token]:
    """Create a token; returns (the secret token string, its row)."""
    secret = secrets.token_urlsafe(32)
    now = timezone.now()
    if expires_at is None and kind == Token.Kind.SESSION:
        expires_at = now + (lifetime or token_lifetime())
    row = Token.objects.create(
        digest=digest(secret),
        kind=kind,
        user=user,
        project=project,
        methods=methods or ["password"],
        audit_id=uuid.uuid4().hex[:22],
        issued_at=now,
        expires_at=expires_at,
        description=description,
    )
    return secret, row


# Keystone's default role hierarchy: a role carries the roles below it.
IMPLIED_ROLES: dict[str, tuple[str, ...]] = {
    Role.ADMIN: (Role.ADMIN, Role.MEMBER, Role.READER),
    Role.MEMBER: (Role.MEMBER, Role.READER),
    Role.READER: (Role.READER,),
}


def effective_roles(roles: list[str]) -> list[str]:
    """``roles`` with the roles they imply, strongest first (what a token shows)."""
    have = {implied for role in roles for implied in IMPLIED_ROLES.get(role, (role,))}
    return [r for r in (Role.ADMIN, Role.MEMBER, Role.READER) if r in have] + sorted(have - set(IMPLIED_ROLES))


def _with_admin(user: User, roles: list[str]) -> list[str]:
    if user.is_admin and Role.ADMIN not in roles:
        roles.append(Role.ADMIN)
    return roles


def roles_in(user: User, project: Project | None) -> list[str]:
    """The roles ``user`` holds in ``project`` (an administrator also holds ``admin``)."""
    if project is None:
        return [Role.ADMIN] if user.is_admin else []
    return _with_admin(user, list(Membership.objects.filter(user=user, project=project).values_list("role", flat=True)))


def authenticate(token: str) -> AuthContext:
    """Validate ``token`` and return the caller's context, or raise InvalidToken.

    Every API request pays for this, so it is one indexed query, prepared once
    (:mod:`logic.token_query`): the token with its user and project joined and the
    caller's role in the project (a user holds at most one role per project).
    No result is cached, so revoking a token, disabling a user or removing a
    membership acts at once.
    """
    if not token:
        raise InvalidToken("no token")
    found = token_query.load_token(digest(token))
    if found is None:
        raise InvalidToken("The request you have made requires authentication.")
    row, member_role = found
    if row.revoked:
        raise InvalidToken("The token has been revoked.")
    if row.expires_at is not None and row.expires_at <= timezone.now():
        raise InvalidToken("The token has expired.")
    if not row.user.enabled:
        raise InvalidToken("The user is disabled.")
    if row.project is not None and not row.project.enabled:
        raise InvalidToken("The project is disabled.")
    if row.project is None:
        roles = [Role.ADMIN] if row.user.is_admin else []
    else:
        roles = _with_admin(row.user, [member_role] if member_role else [])
    return AuthContext(user=row.user, project=row.project, roles=roles, token=row)


def revoke(token: str) -> bool:
    """Revoke ``token``; False if it was not found."""
    return Token.objects.filter(digest=digest(token)).update(revoked=True) > 0
