"""Administering users, projects, memberships and API tokens (used by the admin commands).

Every function raises :class:`AccountError` with a message for the operator when
the request cannot be done; nothing is changed in that case.
"""

from __future__ import annotations

from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from logic import identity
from logic.enums import Role
from logic.login import DEFAULT_DOMAIN_ID
from logic.models import Domain, Membership, Project, Token, User


class AccountError(Exception):
    """The operation cannot be done; the message says why."""


def _domain(domain: str) -> Domain:
    found = Domain.objects.filter(id=domain).first() or Domain.objects.filter(name__iexact=domain).first()
    if found is None:
        raise AccountError(f"no domain {domain!r}")
    return found


def _find(model, what: str, name_or_id: str, domain: str):
    found = model.objects.filter(id=name_or_id).first()
    if found is None:
        found = model.objects.filter(domain=_domain(domain), name=name_or_id).first()
    if found is None:
        raise AccountError(f"no {what} {name_or_id!r} in domain {domain!r}")
    return found


def find_user(name_or_id: str, domain: str = DEFAULT_DOMAIN_ID) -> User:
    """A user by id, or by name in ``domain``."""
    return _find(User, "user", name_or_id, domain)


def find_project(name_or_id: str, domain: str = DEFAULT_DOMAIN_ID) -> Project:
    """A project by id, or by name in ``domain``."""
    return _find(Project, "project", name_or_id, domain)


def create_user(
    name: str, password: str | None, *, email: str = "", is_admin: bool = False, domain: str = DEFAULT_DOMAIN_ID
) -> User:
    """A new user; ``password`` None makes a user that can only use API tokens."""
    if not name or len(name) > 255:
        raise AccountError("a user name is 1 to 255 characters")
    if password is not None and not password:
        raise AccountError("the password is empty")
    dom = _domain(domain)
    try:
        with transaction.atomic():
            return User.objects.create_user(name=name, password=password, email=email, is_admin=is_admin, domain=dom)
    except IntegrityError:
        raise AccountError(f"user {name!r} already exists in domain {dom.id!r}") from None


def set_enabled(user: User, enabled: bool) -> None:
    """Disabling takes effect at once: every token of the user stops working."""
    user.enabled = enabled
    user.save(update_fields=["enabled"])


def set_admin(user: User, is_admin: bool) -> None:
    user.is_admin = is_admin
    user.save(update_fields=["is_admin"])


def set_password(user: User, password: str) -> None:
    if not password:
        raise AccountError("the password is empty")
    user.set_password(password)
    user.save(update_fields=["password"])


def create_project(name: str, description: str = "", domain: str = DEFAULT_DOMAIN_ID) -> Project:
    if not name or len(name) > 255:
        raise AccountError("a project name is 1 to 255 characters")
    dom = _domain(domain)
    try:
        with transaction.atomic():
            return Project.objects.create(name=name, description=description, domain=dom)
    except IntegrityError:
        raise AccountError(f"project {name!r} already exists in domain {dom.id!r}") from None


def add_member(user: User, project: Project, role: str = Role.MEMBER) -> Membership:
    """Give ``user`` ``role`` in ``project`` (replacing the role it had there)."""
    if role not in Role.values:
        raise AccountError(f"unknown role {role!r}; use one of {', '.join(Role.values)}")
    membership, _ = Membership.objects.update_or_create(user=user, project=project, defaults={"role": role})
    return membership


def remove_member(user: User, project: Project) -> bool:
    return Membership.objects.filter(user=user, project=project).delete()[0] > 0


def issue_api_token(
    user: User, project: Project | None, *, expires_in: int | None = None, description: str = ""
) -> tuple[str, Token]:
    """A long-lived API token (Synnefo style); it never expires unless ``expires_in`` seconds are given."""
    if not user.enabled:
        raise AccountError(f"user {user.name!r} is disabled")
    if project is not None and not user.is_admin and not Membership.objects.filter(user=user, project=project).exists():
        raise AccountError(f"user {user.name!r} has no role in project {project.name!r}")
    if expires_in is not None and expires_in <= 0:
        raise AccountError("--expires-in must be a positive number of seconds")
    expires_at = timezone.now() + timedelta(seconds=expires_in) if expires_in else None
    return identity.issue_token(
        user, project, methods=["token"], kind=Token.Kind.API, expires_at=expires_at, description=description
    )


def revoke_tokens(user: User, *, kind: str | None = None) -> int:
    """Revoke every token of ``user`` (of ``kind`` if given); returns how many."""
    tokens = Token.objects.filter(user=user, revoked=False)
    if kind:
        tokens = tokens.filter(kind=kind)
    return tokens.update(revoked=True)
