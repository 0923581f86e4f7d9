"""``/image/v2/images/{id}/actions/(de|re)activate`` and ``.../tags/{tag}`` (204); ``.../tasks`` (none)."""

from __future__ import annotations

from rest_framework.response import Response

from api.image.base import GlanceView
from logic import image_write
from logic import images as registry


class Deactivate(GlanceView):
    def post(self, request, image_id):
        image_write.deactivate(request.auth, image_id)
        return Response(status=204)


class Reactivate(GlanceView):
    def post(self, request, image_id):
        image_write.reactivate(request.auth, image_id)
        return Response(status=204)


class Tag(GlanceView):
    def put(self, request, image_id, tag):
        image_write.add_tag(request.auth, image_id, tag)
        return Response(status=204)

    def delete(self, request, image_id, tag):
        image_write.remove_tag(request.auth, image_id, tag)
        return Response(status=204)


class Tasks(GlanceView):
    """``GET /v2/images/{id}/tasks`` (Glance 2.12): the image's import tasks; there are none (no import API)."""

    def get(self, request, image_id):
        registry.get(request.auth, image_id)
        return Response({"tasks": []})
