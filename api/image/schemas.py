"""``/image/v2/schemas/*``: the JSON schemas glanceclient and the SDK read."""

from __future__ import annotations

from rest_framework.response import Response

from api.faults import NotFound
from api.image.base import GlanceView
from logic import images as rules


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
        if which == "member":
            return Response(_member_schema())
        if which == "members":
            return Response(
                {
                    "name": "members",
                    "properties": {"members": {"type": "array", "items": _member_schema()}, "schema": {"type": "string"}},
                    "links": [{"rel": "describedby", "href": "{schema}"}],
                }
            )
        raise NotFound(f"Schema {which} could not be found.")


def _member_schema() -> dict:
    string = {"type": "string"}
    return {
        "name": "member",
        "properties": {
            "created_at": string,
            "image_id": string,
            "member_id": string,
            "schema": {"type": "string", "readOnly": True},
            "status": {"type": "string", "enum": ["pending", "accepted", "rejected"]},
            "updated_at": string,
        },
    }
