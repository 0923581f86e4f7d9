"""``POST /identity/account/v1.0/user_catalogs``: Astakos' id <-> display name catalogs (kamaki names owners with it).

``{"uuids": [...]}`` and/or ``{"displaynames": [...]}`` -> ``{"uuid_catalog": {id: name},
"displayname_catalog": {name: id}}``. Ids of users and of projects are both resolved
(image owners are projects here). Unknown ids are left out, as Astakos does.
"""

from __future__ import annotations

from rest_framework.response import Response
from rest_framework.views import APIView

from api.auth import TokenAuthentication
from api.faults import BadRequest
from logic.models import Project, User

MAX_NAMES = 1000


def _names(body: dict, key: str) -> list[str]:
    value = body.get(key) or []
    if not isinstance(value, list) or len(value) > MAX_NAMES or any(not isinstance(v, str) for v in value):
        raise BadRequest(f"'{key}' must be a list of at most {MAX_NAMES} strings.")
    return value


class UserCatalogs(APIView):
    authentication_classes = [TokenAuthentication]

    def post(self, request):
        body = request.data if isinstance(request.data, dict) else None
        if body is None:
            raise BadRequest("The request body must be a JSON object.")
        ids, names = _names(body, "uuids"), _names(body, "displaynames")
        by_id = dict(User.objects.filter(pk__in=ids).values_list("pk", "name"))
        by_id |= dict(Project.objects.filter(pk__in=ids).exclude(pk__in=by_id).values_list("pk", "name"))
        by_name = dict(User.objects.filter(name__in=names).values_list("name", "pk"))
        return Response({"uuid_catalog": by_id, "displayname_catalog": by_name})
