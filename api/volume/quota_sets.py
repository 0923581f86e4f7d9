"""``/os-quota-sets/{project_id}[/defaults]`` of the volume service (``openstack quota show``)."""

from __future__ import annotations

from rest_framework.response import Response

from api.volume.base import CinderView
from logic import volume_quota_sets as rules


class QuotaSetItem(CinderView):
    def get(self, request, target_id: str, project_id=None):
        project = rules.target_project(request.auth, target_id, write=False)
        usage = request.query_params.get("usage", "false").lower() in {"true", "1"}
        return Response({"quota_set": {"id": project.pk, **rules.quota_set(project, usage=usage)}})

    def put(self, request, target_id: str, project_id=None):
        project = rules.target_project(request.auth, target_id, write=True)
        rules.update(project, request.data)
        return Response({"quota_set": rules.quota_set(project)})

    def delete(self, request, target_id: str, project_id=None):
        rules.reset(rules.target_project(request.auth, target_id, write=True))
        return Response(status=200)


class QuotaSetDefaults(CinderView):
    def get(self, request, target_id: str, project_id=None):
        rules.target_project(request.auth, target_id, write=False)
        return Response({"quota_set": {"id": target_id, **rules.quota_set(None)}})
