"""Logging in: checking passwords and tokens, choosing the project scope, issuing tokens.

Used by the Keystone v3 and v2.0 views. Every failure raises :class:`LoginFailed`
(rendered as a Keystone 401); nothing is written on failure except the
failed-login counters.

Password checks cost the same whether the user exists or not: for an unknown
user a dummy hash made with the preferred hasher is checked instead.
"""

from __future__ import annotations

import functools
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password

from logic import identity, throttle
from logic.models import Domain, Membership, Project, Token, User

DEFAULT_DOMAIN_ID = "default"


class LoginFailed(Exception):
    """Authentication failed (HTTP 401); ``retry_after`` is set when throttled."""

    def __init__(self, message: str, retry_after: int | None = None):
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after


GENERIC_FAILURE = "The request you have made requires authentication."


@dataclass(frozen=True)
class UserRef:
    """How a caller names a user: by id, or by name within a domain (by domain id or name)."""

    id: str | None = None
    name: str | None = None
    domain_id: str | None = None
    domain_name: str | None = None

    def typed(self) -> str:
        """What the caller typed, for throttling an unknown user."""
        if self.id:
            return f"id/{self.id}"
        domain = self.domain_id or (self.domain_name or "").lower() or DEFAULT_DOMAIN_ID
        return f"{domain}/{self.name}"


@dataclass(frozen=True)
class ProjectRef:
    id: str | None = None
    name: str | None = None
    domain_id: str | None = None
    domain_name: str | None = None


# ------------------------------------------------------------------ passwords
@functools.cache
def _dummy_hash(hashers: tuple[str, ...]) -> str:
    return make_password(secrets.token_urlsafe(24))


def _check_dummy(password: str) -> None:
    """Spend the time a real password check takes (the user does not exist)."""
    check_password(password, _dummy_hash(tuple(settings.PASSWORD_HASHERS)))


def _find_domain(domain_id: str | None, domain_name: str | None) -> Domain | None:
    if domain_id:
        return Domain.objects.filter(id=domain_id).first()
    if domain_name:
        return Domain.objects.filter(name__iexact=domain_name).first()
    return Domain.objects.filter(id=DEFAULT_DOMAIN_ID).first()


def find_user(ref: UserRef) -> User | None:
    if ref.id:
        return User.objects.select_related("domain").filter(id=ref.id).first()
    domain = _find_domain(ref.domain_id, ref.domain_name)
    if domain is None or not ref.name:
        return None
    return User.objects.select_related("domain").filter(domain=domain, name=ref.name).first()


def password_login(ref: UserRef, password: str, address: str | None) -> User:
    """The user ``ref`` names if ``password`` is theirs; throttled per user and per address."""
    user = find_user(ref)
    limits = throttle.limits_for(user.id if user else ref.typed(), address)
    wait = throttle.retry_after(limits)
    if wait:
        raise LoginFailed(f"Too many failed login attempts; try again in {wait} seconds.", retry_after=wait)
    if user is None:
        _check_dummy(password)
        ok = False
    else:
        ok = user.check_password(password)
    if not ok:
        throttle.record_failure(limits)
        raise LoginFailed(GENERIC_FAILURE)
    if not user.enabled or not user.domain.enabled:
        raise LoginFailed(f"The account is disabled for user: {user.id}.")
    throttle.clear(throttle.user_key(user.id))
    return user


def token_login(secret: str) -> Token:
    """The valid token ``secret`` (for the ``token`` method and kamaki's v2.0 call)."""
    try:
        ctx = identity.authenticate(secret)
    except identity.InvalidToken as exc:
        raise LoginFailed(str(exc)) from None
    return ctx.token


# ------------------------------------------------------------------ scope
def find_project(ref: ProjectRef) -> Project | None:
    if ref.id:
        return Project.objects.select_related("domain").filter(id=ref.id).first()
    domain = _find_domain(ref.domain_id, ref.domain_name)
    if domain is None or not ref.name:
        return None
    return Project.objects.select_related("domain").filter(domain=domain, name=ref.name).first()


def resolve_scope(user: User, ref: ProjectRef | None) -> Project | None:
    """The project a new token for ``user`` is scoped to (None: unscoped), or LoginFailed."""
    if ref is None:
        return None
    project = find_project(ref)
    shown = ref.id or ref.name
    if project is None:
        raise LoginFailed(f"Could not find project: {shown}.")
    if not project.enabled or not project.domain.enabled:
        raise LoginFailed(f"Project {project.id} is disabled.")
    if not user.is_admin and not Membership.objects.filter(user=user, project=project).exists():
        raise LoginFailed(f"User {user.id} has no access to project {project.id}.")
    return project


def issue_session_token(
    user: User, project: Project | None, methods: list[str], parent: Token | None = None
) -> tuple[str, Token]:
    """A new login token. A token made from another token expires with it (no endless renewal)."""
    expires_at = parent.expires_at if parent is not None and parent.expires_at is not None else None
    return identity.issue_token(user, project, methods=methods, expires_at=expires_at)


def methods_after_token_login(parent: Token) -> list[str]:
    return ["token", *[m for m in parent.methods if m != "token"]]


def projects_of(user: User) -> list[Project]:
    """Enabled projects where ``user`` holds a role, by name."""
    return list(
        Project.objects.select_related("domain")
        .filter(memberships__user=user, enabled=True, domain__enabled=True)
        .order_by("name", "id")
        .distinct()
    )


def _astakos_credentials(username: str, password: str) -> Token | None:
    """Astakos accepted ``passwordCredentials`` of (user id, one of the user's tokens)."""
    try:
        ctx = identity.authenticate(password)
    except identity.InvalidToken:
        return None
    return ctx.token if ctx.user.id == username else None


def v2_login(
    *,
    token_id: str | None,
    username: str | None,
    password: str | None,
    tenant: ProjectRef | None,
    address: str | None,
) -> tuple[str, Token]:
    """Keystone v2.0 / Astakos login: (token secret, token row).

    A valid token is answered with itself (kamaki sends its token on every
    command) unless another tenant is asked for, which issues a token scoped to
    it. Password credentials are either (user id, token) as Astakos took them, or
    a user name and password in the default domain.
    """
    if token_id is not None:
        parent, secret = token_login(token_id), token_id
    else:
        assert username is not None and password is not None
        parent, secret = _astakos_credentials(username, password), password
        if parent is None:
            user = password_login(UserRef(name=username), password, address)
            return issue_session_token(user, resolve_scope(user, tenant), ["password"])
    if tenant is None:
        return secret, parent
    project = resolve_scope(parent.user, tenant)
    if parent.project_id == project.id:
        return secret, parent
    return issue_session_token(parent.user, project, methods_after_token_login(parent), parent=parent)
