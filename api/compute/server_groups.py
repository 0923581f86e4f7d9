"""``/os-server-groups``: create, list, show, delete (rules in :mod:`logic.server_groups`).

Microversions: 2.13 ``project_id`` and ``user_id``; 2.15 the soft policies; 2.64 one
``policy`` and ``rules`` instead of ``policies`` and ``metadata``. ``all_projects``
lists every project's groups for admins; ``limit`` and ``offset`` page.
"""

from __future__ import annotations

from rest_framework.response import Response

from api.compute.base import ComputeView
from logic import server_groups as rules
from logic.booleans import nova_boolean
from logic.models import ServerGroup


class _ServerGroupView(ComputeView):
    def render(self, group: ServerGroup) -> dict:
        body: dict = {"id": str(group.uuid), "name": group.name}
        if self.mv("2.64"):
            body.update(policy=group.policy, rules=group.rules or {})
        else:
            body.update(policies=[group.policy], metadata={})
        body["members"] = rules.member_ids(group)
        if self.mv("2.13"):
            body.update(project_id=group.project_id, user_id=group.user_id)
        return body


class ServerGroupList(_ServerGroupView):
    def get(self, request):
        params = request.query_params
        all_projects = nova_boolean(params.get("all_projects", "false")) is True or params.get("all_projects") == ""
        groups = rules.listing(request.auth, all_projects=all_projects, limit=params.get("limit"), offset=params.get("offset"))
        return Response({"server_groups": [self.render(g) for g in groups]})

    def post(self, request):
        spec = rules.parse(request.data, soft=self.mv("2.15"), policy_field=self.mv("2.64"))
        return Response({"server_group": self.render(rules.create(request.auth, spec))})


class ServerGroupItem(_ServerGroupView):
    def get(self, request, group_id: str):
        return Response({"server_group": self.render(rules.get(request.auth, group_id))})

    def delete(self, request, group_id: str):
        rules.delete(request.auth, group_id)
        return Response(status=204)
