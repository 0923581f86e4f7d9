"""Glance v2 images: ``/image`` (versions), ``/image/v2/images[/{id}]`` (list, create, show, patch, delete).

Data (``.../file``) is in :mod:`api.image.data`, members in :mod:`api.image.members`,
tags and (de)activation in :mod:`api.image.actions`, schemas in :mod:`api.image.schemas`.
"""

from __future__ import annotations

from rest_framework.response import Response
from rest_framework.views import APIView

from api.faults import OverLimit
from api.image.base import GlanceView, JsonPatchParser, JsonPatchV20Parser
from api.image.render import glance_image
from logic import image_import, image_write
from logic import images as rules
from logic.quotas import QuotaExceeded

VERSIONS = [
    ("v2.9", "CURRENT"),
    ("v2.8", "SUPPORTED"),
    ("v2.7", "SUPPORTED"),
    ("v2.6", "SUPPORTED"),
    ("v2.5", "SUPPORTED"),
    ("v2.4", "SUPPORTED"),
    ("v2.3", "SUPPORTED"),
    ("v2.2", "SUPPORTED"),
    ("v2.1", "SUPPORTED"),
    ("v2.0", "SUPPORTED"),
]


def versions_body(request) -> dict:
    href = request.build_absolute_uri("/image/v2/")
    return {"versions": [{"id": v, "status": s, "links": [{"rel": "self", "href": href}]} for v, s in VERSIONS]}


class VersionList(APIView):
    """``GET /image``: Glance answers 300 Multiple Choices with the versions list (``/image/versions``: 200)."""

    authentication_classes: list = []
    permission_classes: list = []

    def get(self, request):
        status = 200 if request.path_info.rstrip("/").endswith("/versions") else 300
        return Response(versions_body(request), status=status)


class ImageList(GlanceView):
    """``GET /image/v2/images`` with Glance's filters, sorting and ``limit``/``marker`` paging; ``POST``: create."""

    def post(self, request):
        try:
            image = image_write.create(request.auth, request.data)
        except QuotaExceeded as exc:
            raise OverLimit(str(exc)) from None
        return Response(glance_image(image), status=201, headers={"Location": f"/v2/images/{image.pk}"})

    def get(self, request):
        params = dict(request.query_params.items())
        page = rules.list_images(request.auth, params)
        body = {"images": [glance_image(i) for i in page.images], "first": "/v2/images", "schema": "/v2/schemas/images"}
        if page.more and page.images:
            query = request.GET.copy()
            query["marker"] = str(page.images[-1].pk)
            query["limit"] = str(page.limit)
            body["next"] = f"/v2/images?{query.urlencode()}"
        return Response(body)


class ImageItem(GlanceView):
    """``GET /image/v2/images/{id}``: 404 for unknown ids and for names (clients then search by name).

    ``PATCH`` takes Glance's JSON patch; ``DELETE`` answers 204.
    """

    parser_classes = [JsonPatchParser, JsonPatchV20Parser]

    def get(self, request, image_id):
        return Response(glance_image(rules.get(request.auth, image_id)))

    def patch(self, request, image_id):
        return Response(glance_image(image_write.update(request.auth, image_id, request.data)))

    def delete(self, request, image_id):
        image_write.delete(request.auth, image_id)
        return Response(status=204)


class ImportInfo(GlanceView):
    """``GET /image/v2/info/import``: ``local-path`` for administrators when IMAGE_IMPORT_DIR is set; no URL import."""

    def get(self, request):
        methods = [image_import.METHOD] if request.auth.is_admin and image_import.import_dir() else []
        return Response({"import-methods": {"description": "Import methods available.", "type": "array", "value": methods}})


class ImageImport(GlanceView):
    """``POST /image/v2/images/{id}/import``: 202 once the file is in (the import is done when this answers)."""

    def post(self, request, image_id):
        body = request.data
        image_import.import_into(request.auth, image_id, body.get("method") if isinstance(body, dict) else None)
        return Response(status=202)
