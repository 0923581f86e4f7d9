"""Authentication (``X-Auth-Token``) and role checks for every API but identity's login.

``request.auth`` is a :class:`logic.identity.AuthContext` after authentication.
Views declare ``permission_classes = [ProjectReader]`` (default in the shared
base view) and call :func:`require_write` before changing anything.
"""

from __future__ import annotations

from rest_framework.authentication import BaseAuthentication
from rest_framework.permissions import BasePermission

from api.faults import Forbidden, Unauthorized
from logic import identity


class TokenAuthentication(BaseAuthentication):
    """Reads ``X-Auth-Token`` and validates it; 401 with the reason when it is bad."""

    def token_of(self, request) -> str | None:
        """Where the token comes from; subclasses may accept other places."""
        return request.headers.get("X-Auth-Token")

    def authenticate(self, request):
        token = self.token_of(request)
        if not token:
            raise Unauthorized("The request you have made requires authentication.")
        try:
            ctx = identity.authenticate(token)
        except identity.InvalidToken as exc:
            raise Unauthorized(str(exc)) from None
        return (ctx.user, ctx)

    def authenticate_header(self, request):
        return "Keystone"


class ProjectReader(BasePermission):
    """The caller holds a role in the token's project (any role), or is an admin."""

    def has_permission(self, request, view) -> bool:
        ctx = request.auth
        if ctx is None:
            raise Unauthorized("The request you have made requires authentication.")
        if not ctx.can_read:
            raise Forbidden("You have no role in this project.")
        return True


def require_write(ctx: identity.AuthContext) -> None:
    """403 unless the caller may change things in its project (member or admin)."""
    if not ctx.can_write:
        raise Forbidden("Policy doesn't allow this operation: the reader role may only read.")


def require_admin(ctx: identity.AuthContext) -> None:
    if not ctx.is_admin:
        raise Forbidden("Policy doesn't allow this operation: admin only.")
