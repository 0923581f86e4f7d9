"""``/os-quota-sets/{project_id}[/detail|/defaults]``: show (own project, or admin) and update/reset (admin).

``?user_id=`` addresses a user's limits within the project. From microversion 2.36 the
network keys (fixed/floating IPs, security groups) are gone, from 2.57 the injected-file keys,
as in Nova. Rules are in
:mod:`logic.quota_sets`; a body that is refused changes nothing.
"""

from __future__ import annotations

from rest_framework.response import Response

from api.compute.base import ComputeView
from logic import quota_sets


class _QuotaSetView(ComputeView):
    @property
    def network_keys(self) -> bool:
        """Nova drops the network keys from microversion 2.36 (the Synnefo personality keeps them)."""
        return self.is_synnefo or not self.mv("2.36")

    @property
    def keys(self) -> dict[str, bool]:
        """Which key groups this microversion shows: networks until 2.36, injected files until 2.57."""
        return {"network_keys": self.network_keys, "file_keys": self.is_synnefo or not self.mv("2.57")}

    def _target(self, request, project_id: str, *, write: bool):
        project = quota_sets.target_project(request.auth, project_id, write=write)
        return project, quota_sets.target_user(project, request.query_params.get("user_id"))


class QuotaSetItem(_QuotaSetView):
    def get(self, request, project_id: str):
        project, user = self._target(request, project_id, write=False)
        body = quota_sets.quota_set(project, user, extended=self.is_synnefo, **self.keys)
        return Response({"quota_set": {"id": project.pk, **body}})

    def put(self, request, project_id: str):
        project, user = self._target(request, project_id, write=True)
        quota_sets.update(project, request.data, user, **self.keys)
        body = quota_sets.quota_set(project, user, extended=self.is_synnefo, **self.keys)
        return Response({"quota_set": body})

    def delete(self, request, project_id: str):
        project, user = self._target(request, project_id, write=True)
        quota_sets.reset(project, user)
        return Response(status=202)


class QuotaSetDetail(_QuotaSetView):
    def get(self, request, project_id: str):
        project, user = self._target(request, project_id, write=False)
        body = quota_sets.quota_set_detail(project, user, extended=self.is_synnefo, **self.keys)
        return Response({"quota_set": {"id": project.pk, **body}})


class QuotaSetDefaults(_QuotaSetView):
    def get(self, request, project_id: str):
        quota_sets.target_project(request.auth, project_id, write=False)
        body = quota_sets.defaults(extended=self.is_synnefo, **self.keys)
        return Response({"quota_set": {"id": project_id, **body}})
