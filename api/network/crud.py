"""Generic Neutron collection and item views over a :class:`~api.network.resources.Resource`."""

from __future__ import annotations

from django.db import transaction
from rest_framework import status
from rest_framework.response import Response

from api.auth import require_write
from api.network import query
from api.network.base import NeutronView, unwrap, unwrap_many
from api.network.resources import BY_COLLECTION, Resource


def _resource(collection: str) -> Resource:
    return BY_COLLECTION[collection]


class CollectionView(NeutronView):
    """``GET`` lists (with Neutron's filters), ``POST`` creates one or (bulk) many, all or nothing."""

    def get(self, request, collection: str):
        resource = _resource(collection)
        return Response(query.apply(request, resource.bodies(request.auth, request.query_params), resource.plural))

    def post(self, request, collection: str):
        resource = _resource(collection)
        require_write(request.auth)
        if resource.create is None:
            return self.http_method_not_allowed(request)
        many = unwrap_many(request, resource.singular, resource.plural)
        if many is None:
            created = resource.create(request.auth, unwrap(request, resource.singular))
            return Response({resource.singular: resource.render(created)}, status=status.HTTP_201_CREATED)
        with transaction.atomic():
            made = [resource.create(request.auth, item) for item in many]
        return Response({resource.plural: [resource.render(m) for m in made]}, status=status.HTTP_201_CREATED)


class ItemView(NeutronView):
    """``GET`` (with ``fields``), ``PUT`` (partial update) and ``DELETE`` (204) of one object."""

    def get(self, request, collection: str, item_id: str):
        resource = _resource(collection)
        body = resource.render(resource.get(request.auth, item_id))
        if wanted := request.query_params.getlist("fields"):
            body = {k: v for k, v in body.items() if k in wanted}
        return Response({resource.singular: body})

    def put(self, request, collection: str, item_id: str):
        resource = _resource(collection)
        require_write(request.auth)
        if resource.update is None:
            return self.http_method_not_allowed(request)
        updated = resource.update(request.auth, item_id, unwrap(request, resource.singular))
        return Response({resource.singular: resource.render(updated)})

    def delete(self, request, collection: str, item_id: str):
        resource = _resource(collection)
        require_write(request.auth)
        if resource.delete is None:
            return self.http_method_not_allowed(request)
        resource.delete(request.auth, item_id)
        return Response(status=status.HTTP_204_NO_CONTENT)
