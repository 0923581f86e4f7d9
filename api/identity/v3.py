"""Keystone v3: tokens (issue, validate, check, revoke) and the caller's projects."""

from __future__ import annotations

from rest_framework.response import Response

from api.auth import TokenAuthentication
from api.faults import BadRequest, Forbidden, NotFound
from api.identity import parse, render
from api.identity.base import AuthenticatedView, PublicView, unauthorized
from logic import catalog, identity, login, throttle
from logic.models import Project, Token, User

SUBJECT = "X-Subject-Token"


def _wants_catalog(request) -> bool:
    return "nocatalog" not in request.query_params


def _login(request) -> tuple[str, Token]:
    """Check the identity methods of a v3 login body and issue the new token."""
    body = parse.obj(request.data, "the request body")
    auth = parse.obj(body.get("auth"), "auth")
    ident = parse.obj(auth.get("identity"), "auth.identity")
    methods = ident.get("methods")
    if not isinstance(methods, list) or not methods or not all(isinstance(m, str) for m in methods):
        raise BadRequest("Expecting to find auth.identity.methods as a non-empty list of names.")
    unsupported = sorted(set(methods) - {"password", "token"})
    if unsupported:
        raise login.LoginFailed(f"Unsupported authentication method: {', '.join(unsupported)}.")
    scope = parse.v3_scope(auth)
    if "password" in methods:
        password = parse.obj(ident.get("password"), "auth.identity.password")
        user_body = parse.obj(password.get("user"), "auth.identity.password.user")
        ref = parse.user_ref(user_body, "auth.identity.password.user")
        secret = user_body.get("password")
        if not isinstance(secret, str):
            raise BadRequest("Expecting to find auth.identity.password.user.password as a string.")
        user = login.password_login(ref, secret, throttle.client_address(request.META))
        project = login.resolve_scope(user, scope)
        return login.issue_session_token(user, project, ["password"])
    token_body = parse.obj(ident.get("token"), "auth.identity.token")
    parent = login.token_login(parse.text(token_body.get("id"), "auth.identity.token.id"))
    project = login.resolve_scope(parent.user, scope)
    return login.issue_session_token(parent.user, project, login.methods_after_token_login(parent), parent=parent)


class AuthTokens(PublicView):
    """``/v3/auth/tokens``: POST logs in; GET/HEAD/DELETE act on ``X-Subject-Token``."""

    def get_authenticators(self):
        # Login is public; validating and revoking need the caller's X-Auth-Token.
        if self.request is not None and self.request.method == "POST":
            return []
        return [TokenAuthentication()]

    def post(self, request):
        try:
            secret, row = _login(request)
        except login.LoginFailed as exc:
            raise unauthorized(exc) from None
        response = Response(render.v3_token(row, with_catalog=_wants_catalog(request)), status=201)
        response[SUBJECT] = secret
        return response

    def _subject(self, request) -> tuple[str, identity.AuthContext]:
        secret = request.headers.get(SUBJECT)
        if not secret:
            raise BadRequest(f"Expecting to find the {SUBJECT} header.")
        try:
            subject = identity.authenticate(secret)
        except identity.InvalidToken as exc:
            raise NotFound(f"Could not find token: {exc}") from None
        caller: identity.AuthContext = request.auth
        if not caller.user.is_admin and subject.user.id != caller.user.id:
            raise Forbidden("You may only validate or revoke your own tokens.")
        return secret, subject

    def get(self, request):
        secret, subject = self._subject(request)
        response = Response(render.v3_token(subject.token, with_catalog=_wants_catalog(request)))
        response[SUBJECT] = secret
        return response

    def head(self, request):
        self._subject(request)
        return Response(status=200)

    def delete(self, request):
        secret, _ = self._subject(request)
        identity.revoke(secret)
        return Response(status=204)


class AuthProjects(AuthenticatedView):
    """``GET /v3/auth/projects``: projects the caller may scope a token to."""

    def get(self, request):
        return Response(render.project_list(login.projects_of(request.auth.user), request.build_absolute_uri()))


class AuthCatalog(AuthenticatedView):
    def get(self, request):
        return Response({"catalog": catalog.v3_catalog(), "links": {"self": request.build_absolute_uri()}})


class AuthDomains(AuthenticatedView):
    """Domain-scoped tokens are not offered, so no domain is listed."""

    def get(self, request):
        return Response({"domains": [], "links": {"self": request.build_absolute_uri(), "previous": None, "next": None}})


class UserProjects(AuthenticatedView):
    """``GET /v3/users/{id}/projects``: a user's projects (the user itself or an administrator)."""

    def get(self, request, user_id: str):
        caller = request.auth.user
        if user_id != caller.id and not caller.is_admin:
            raise Forbidden("You may only list your own projects.")
        user = User.objects.filter(id=user_id).first()
        if user is None:
            raise NotFound(f"Could not find user: {user_id}.")
        return Response(render.project_list(login.projects_of(user), request.build_absolute_uri()))


class UserDetail(AuthenticatedView):
    def get(self, request, user_id: str):
        caller = request.auth.user
        if user_id != caller.id and not caller.is_admin:
            raise Forbidden("You may only read your own user.")
        user = User.objects.select_related("domain").filter(id=user_id).first()
        if user is None:
            raise NotFound(f"Could not find user: {user_id}.")
        return Response(
            {
                "user": {
                    "id": user.id,
                    "name": user.name,
                    "domain_id": user.domain_id,
                    "email": user.email,
                    "enabled": user.enabled,
                    "password_expires_at": None,
                    "options": {},
                    "links": {"self": catalog.url_for(f"/identity/v3/users/{user.id}")},
                }
            }
        )


def _visible_projects(caller: User):
    """An administrator sees every project; anyone else the projects they belong to."""
    if caller.is_admin:
        return Project.objects.select_related("domain").order_by("name", "id")
    return Project.objects.select_related("domain").filter(memberships__user=caller).order_by("name", "id").distinct()


class Projects(AuthenticatedView):
    """``GET /v3/projects`` (``openstack project list``), filtered by name, domain_id, enabled."""

    def get(self, request):
        projects = _visible_projects(request.auth.user)
        params = request.query_params
        if "name" in params:
            wanted = params["name"]
            projects = projects.filter(name=wanted)
            if not projects.exists() and not request.auth.is_admin:
                # Keystone refuses project listings to non-admins; clients (OSC's `image add
                # project <id>`) then use the value as the id. Unknown and invisible alike: no probing.
                raise Forbidden("You are not authorized to perform the requested action: identity:list_projects.")
        if "domain_id" in params:
            projects = projects.filter(domain_id=params["domain_id"])
        if "enabled" in params:
            projects = projects.filter(enabled=params["enabled"].lower() in {"1", "true", "yes"})
        return Response(render.project_list(list(projects), request.build_absolute_uri()))


class ProjectDetail(AuthenticatedView):
    def get(self, request, project_id: str):
        project = _visible_projects(request.auth.user).filter(id=project_id).first()
        if project is None:
            raise NotFound(f"Could not find project: {project_id}.")
        return Response({"project": render.project(project)})
