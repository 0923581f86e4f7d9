"""``/types``: volume types (each a Ganeti disk template); admins create, change and delete them.

``openstack volume type create --property disk_template=plain NAME`` makes a type whose
volumes live on Ganeti's ``plain`` template. Rules are in :mod:`logic.volume_types`.
"""

from __future__ import annotations

from rest_framework.response import Response

from api.auth import require_admin
from api.faults import BadRequest
from api.volume import render
from api.volume.base import CinderView, body_of
from logic import volume_types


class TypeList(CinderView):
    def get(self, request, project_id=None):
        types = volume_types.visible(request.auth)
        public = request.query_params.get("is_public")
        if request.auth.is_admin and public not in (None, "None"):
            types = types.filter(is_public=public.lower() in {"true", "1", "yes"})
        return Response({"volume_types": [render.volume_type(t) for t in types]})

    def post(self, request, project_id=None):
        require_admin(request.auth)
        body = body_of(request, "volume_type")
        vtype = volume_types.create(
            body.get("name"),
            description=body.get("description"),
            is_public=body.get("os-volume-type-access:is_public", body.get("is_public", True)),
            extra_specs=body.get("extra_specs"),
        )
        return Response({"volume_type": render.volume_type(vtype)})


class TypeDefault(CinderView):
    def get(self, request, project_id=None):
        return Response({"volume_type": render.volume_type(volume_types.default())})


class TypeItem(CinderView):
    def get(self, request, type_id, project_id=None):
        return Response({"volume_type": render.volume_type(volume_types.get(request.auth, type_id))})

    def put(self, request, type_id, project_id=None):
        require_admin(request.auth)
        body = body_of(request, "volume_type")
        vtype = volume_types.update(
            volume_types.get(request.auth, type_id),
            name=body.get("name"),
            description=body.get("description"),
            is_public=body.get("is_public"),
        )
        return Response({"volume_type": render.volume_type(vtype)})

    def delete(self, request, type_id, project_id=None):
        require_admin(request.auth)
        volume_types.delete(volume_types.get(request.auth, type_id))
        return Response(status=202)


class TypeExtraSpecs(CinderView):
    def get(self, request, type_id, project_id=None):
        return Response({"extra_specs": volume_types.specs(volume_types.get(request.auth, type_id))})

    def post(self, request, type_id, project_id=None):
        require_admin(request.auth)
        data = request.data
        if not isinstance(data, dict) or "extra_specs" not in data:
            raise BadRequest("Missing required element 'extra_specs' in request body.")
        vtype = volume_types.get(request.auth, type_id)
        return Response({"extra_specs": volume_types.set_specs(vtype, data["extra_specs"])})


class TypeExtraSpecItem(CinderView):
    def get(self, request, type_id, key, project_id=None):
        specs = volume_types.specs(volume_types.get(request.auth, type_id))
        if key not in specs:
            raise volume_types.NotFoundError(f"Volume Type {type_id} has no extra specs with key {key}.")
        return Response({key: specs[key]})

    def put(self, request, type_id, key, project_id=None):
        require_admin(request.auth)
        data = request.data
        if not isinstance(data, dict) or list(data) != [key]:
            raise BadRequest("Request body and URI mismatch")
        specs = volume_types.set_specs(volume_types.get(request.auth, type_id), data)
        return Response({key: specs[key]})

    def delete(self, request, type_id, key, project_id=None):
        require_admin(request.auth)
        volume_types.unset_spec(volume_types.get(request.auth, type_id), key)
        return Response(status=202)
