"""Shared pieces of the identity views."""

from __future__ import annotations

from rest_framework.views import APIView

from api.auth import TokenAuthentication
from api.faults import Unauthorized
from logic.login import LoginFailed


class PublicView(APIView):
    """No authentication (version discovery, login)."""

    authentication_classes: list = []
    permission_classes: list = []


class AuthenticatedView(APIView):
    """Needs a valid ``X-Auth-Token``; ``request.auth`` is the caller's AuthContext."""

    authentication_classes = [TokenAuthentication]
    permission_classes: list = []


def unauthorized(exc: LoginFailed) -> Unauthorized:
    """The 401 for a failed login; ``Retry-After`` when the caller is throttled."""
    headers = {"Retry-After": str(exc.retry_after)} if exc.retry_after else None
    return Unauthorized(exc.message, headers=headers)
