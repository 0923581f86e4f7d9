"""``/v2.0/<collection>/<id>/tags[/<tag>]``: Neutron's tag extension."""

from __future__ import annotations

from rest_framework import status
from rest_framework.response import Response

from api.auth import require_write
from api.network.base import NeutronView
from api.network.resources import BY_COLLECTION
from logic.neutron import tags
from logic.neutron.errors import NeutronBadRequest, NeutronNotFound

TAGGED = ("networks", "subnets", "ports", "security-groups", "floatingips")


def _object(request, collection: str, item_id: str):
    obj = BY_COLLECTION[collection].get(request.auth, item_id)
    if not hasattr(obj, "tags"):  # a Ganeti NIC no port stands for
        raise NeutronNotFound("Port", item_id)
    return obj


class TagList(NeutronView):
    def get(self, request, collection: str, item_id: str):
        return Response({"tags": list(_object(request, collection, item_id).tags)})

    def put(self, request, collection: str, item_id: str):
        require_write(request.auth)
        obj = _object(request, collection, item_id)
        if not isinstance(request.data, dict) or "tags" not in request.data:
            raise NeutronBadRequest('Invalid tags body: expected {"tags": [...]}.', "HTTPBadRequest")
        return Response({"tags": tags.replace(request.auth, obj, request.data["tags"])})

    def delete(self, request, collection: str, item_id: str):
        require_write(request.auth)
        tags.remove(request.auth, _object(request, collection, item_id), None)
        return Response(status=status.HTTP_204_NO_CONTENT)


class TagItem(NeutronView):
    def get(self, request, collection: str, item_id: str, tag: str):
        if tag not in _object(request, collection, item_id).tags:
            exc = NeutronNotFound("Tag", tag)
            exc.neutron_type = "TagNotFound"
            raise exc
        return Response(status=status.HTTP_204_NO_CONTENT)

    def put(self, request, collection: str, item_id: str, tag: str):
        require_write(request.auth)
        tags.add(request.auth, _object(request, collection, item_id), tag)
        return Response(status=status.HTTP_201_CREATED)

    def delete(self, request, collection: str, item_id: str, tag: str):
        require_write(request.auth)
        tags.remove(request.auth, _object(request, collection, item_id), tag)
        return Response(status=status.HTTP_204_NO_CONTENT)
