"""Keystone v2.0 tokens in the Astakos shape kamaki needs (``POST /identity/v2.0/tokens``)."""

from __future__ import annotations

from rest_framework.response import Response

from api.faults import BadRequest
from api.identity import parse, render
from api.identity.base import PublicView, unauthorized
from logic import login, throttle
from logic.login import ProjectRef


def _tenant(auth: dict) -> ProjectRef | None:
    tenant_id = parse.text(auth.get("tenantId"), "auth.tenantId", required=False)
    tenant_name = parse.text(auth.get("tenantName"), "auth.tenantName", required=False)
    if tenant_id or tenant_name:
        return ProjectRef(id=tenant_id, name=tenant_name)
    return None


class Tokens(PublicView):
    """Token (``auth.token.id``) or ``auth.passwordCredentials``; an empty body returns the catalog only."""

    def post(self, request):
        body = parse.obj(request.data, "the request body", required=False)
        if not body:
            return Response(render.v2_access(None, None, []))
        auth = parse.obj(body.get("auth"), "auth")
        token_id = username = password = None
        if "token" in auth:
            token_id = parse.text(parse.obj(auth["token"], "auth.token").get("id"), "auth.token.id")
        elif "passwordCredentials" in auth:
            creds = parse.obj(auth["passwordCredentials"], "auth.passwordCredentials")
            username = parse.text(creds.get("username"), "auth.passwordCredentials.username")
            password = creds.get("password")
            if not isinstance(password, str):
                raise BadRequest("Expecting to find auth.passwordCredentials.password as a string.")
        else:
            raise BadRequest("Expecting to find auth.token or auth.passwordCredentials.")
        try:
            secret, row = login.v2_login(
                token_id=token_id,
                username=username,
                password=password,
                tenant=_tenant(auth),
                address=throttle.client_address(request.META),
            )
        except login.LoginFailed as exc:
            raise unauthorized(exc) from None
        return Response(render.v2_access(secret, row, login.projects_of(row.user)))
