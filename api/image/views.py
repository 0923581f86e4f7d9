"""Glance v2, read-only: ``/image`` (versions), ``/image/v2/images[/{id}]``, ``/image/v2/schemas/*``.

Upload, create and delete come with the image issue; until then images are
registered by operators (``cyclades-manage image-register``).
"""

from __future__ import annotations

from rest_framework.response import Response
from rest_framework.views import APIView

from api.auth import ProjectReader, TokenAuthentication
from api.faults import NotFound
from api.image.render import glance_image
from logic import images as rules

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


class GlanceView(APIView):
    authentication_classes = [TokenAuthentication]
    permission_classes = [ProjectReader]


class ImageList(GlanceView):
    """``GET /image/v2/images`` with Glance's filters, sorting and ``limit``/``marker`` paging."""

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
    """``GET /image/v2/images/{id}``: 404 for unknown ids and for names (clients then search by name)."""

    def get(self, request, image_id):
        return Response(glance_image(rules.get(request.auth, image_id)))


def _image_schema() -> dict:
    string = {"type": "string"}
    nullable_int = {"type": ["null", "integer"]}
    return {
        "name": "image",
        "additionalProperties": {"type": "string"},
        "properties": {
            "id": {
                "type": "string",
                "pattern": "^([0-9a-fA-F]){8}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){12}$",
            },
            "name": {"type": ["null", "string"], "maxLength": 255},
            "status": {"type": "string", "readOnly": True, "enum": sorted(rules.STATUSES)},
            "visibility": {"type": "string", "enum": ["community", "public", "private", "shared"]},
            "protected": {"type": "boolean"},
            "os_hidden": {"type": "boolean"},
            "checksum": {"type": ["null", "string"], "readOnly": True},
            "os_hash_algo": {"type": ["null", "string"], "readOnly": True},
            "os_hash_value": {"type": ["null", "string"], "readOnly": True},
            "owner": {"type": ["null", "string"]},
            "size": nullable_int,
            "virtual_size": nullable_int,
            "container_format": {
                "type": ["null", "string"],
                "enum": [None, "ami", "ari", "aki", "bare", "ovf", "ova", "docker", "compressed"],
            },
            "disk_format": {
                "type": ["null", "string"],
                "enum": [None, "ami", "ari", "aki", "vhd", "vhdx", "vmdk", "raw", "qcow2", "vdi", "iso", "ploop"],
            },
            "created_at": string,
            "updated_at": string,
            "tags": {"type": "array", "items": {"type": "string", "maxLength": 255}},
            "min_ram": {"type": "integer"},
            "min_disk": {"type": "integer"},
            "self": string,
            "file": string,
            "schema": string,
        },
        "links": [
            {"rel": "self", "href": "{self}"},
            {"rel": "enclosure", "href": "{file}"},
            {"rel": "describedby", "href": "{schema}"},
        ],
    }


class ImageSchema(GlanceView):
    """``GET /image/v2/schemas/image`` (and ``images``): what glanceclient reads to validate and print."""

    def get(self, request, which):
        if which == "image":
            return Response(_image_schema())
        if which == "images":
            return Response(
                {
                    "name": "images",
                    "properties": {
                        "images": {"type": "array", "items": _image_schema()},
                        "schema": {"type": "string"},
                        "first": {"type": "string"},
                        "next": {"type": "string"},
                    },
                    "links": [
                        {"rel": "first", "href": "{first}"},
                        {"rel": "next", "href": "{next}"},
                        {"rel": "describedby", "href": "{schema}"},
                    ],
                }
            )
        raise NotFound(f"Schema {which} could not be found.")
