"""The Nova image proxy: ``/images``, ``/images/detail``, ``/images/{id}``, ``/images/{id}/metadata``.

Views of the image registry in Nova's shape (kamaki reads ``/compute/v2.0/images/{id}``
and its ``metadata``): list (``server`` and ``type`` filter snapshots by their server
and image_type), show, delete, and the metadata (the image's properties: replace,
merge, one item). Like Nova, the proxy is gone from microversion 2.36 on (404).
"""

from __future__ import annotations

from django.utils.dateparse import parse_datetime
from rest_framework.response import Response

from api.compute.base import ComputeView
from api.faults import BadRequest, NotFound
from api.image.render import NOVA_STATUS, utc
from logic import image_write
from logic import images as rules
from logic.models import Image

# Nova proxy status filter -> Glance statuses.
_STATUS_FILTER = {
    "ACTIVE": ["active"],
    "SAVING": ["queued", "saving", "uploading", "importing"],
    "ERROR": ["killed"],
    "DELETED": ["deleted", "pending_delete"],
}


class ImageProxyView(ComputeView):
    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if self.mv("2.36"):
            raise NotFound("The image proxy API is deprecated from microversion 2.36: use the image service.")

    def image_links(self, image: Image) -> list[dict]:
        return [
            *self.links("images", image.pk),
            {
                "rel": "alternate",
                "type": "application/vnd.openstack.image",
                "href": self.request.build_absolute_uri(f"/image/v2/images/{image.pk}"),
            },
        ]

    def summary(self, image: Image) -> dict:
        return {"id": str(image.pk), "name": image.name, "links": self.image_links(image)}

    def detail(self, image: Image) -> dict:
        metadata = {str(k): v if isinstance(v, str) else str(v) for k, v in (image.properties or {}).items()}
        return {
            "id": str(image.pk),
            "name": image.name,
            "status": NOVA_STATUS.get(image.status, "UNKNOWN"),
            "progress": 100 if image.status == "active" else 0,
            "minDisk": image.min_disk,
            "minRam": image.min_ram,
            "created": utc(image.created_at),
            "updated": utc(image.updated_at),
            "metadata": metadata,
            "links": self.image_links(image),
            "OS-EXT-IMG-SIZE:size": image.size,
            "OS-DCF:diskConfig": "MANUAL",
        }

    def listing(self, request, render) -> Response:
        params = request.query_params
        glance: dict[str, str] = {}
        for key in ("name", "limit", "marker"):
            if key in params:
                glance[key] = params[key]
        if params.get("server"):  # a server id or one of its links
            glance["instance_uuid"] = params["server"].rstrip("/").rsplit("/", 1)[-1]
        if params.get("type"):
            glance["image_type"] = params["type"]
        if "status" in params:
            statuses = _STATUS_FILTER.get(params["status"].upper())
            if statuses is None:
                raise BadRequest(f"Invalid status filter {params['status']!r}.")
            glance["status"] = "in:" + ",".join(statuses)
        changed = None
        if "changes-since" in params:
            try:
                changed = parse_datetime(params["changes-since"])
            except ValueError:
                changed = None
            if changed is None:
                raise BadRequest(f"Invalid changes-since value {params['changes-since']!r}: an ISO 8601 time.")
        page = rules.list_images(
            request.auth, glance, min_disk=_int(params, "minDisk"), min_ram=_int(params, "minRam"), changed_since=changed
        )
        body: dict = {"images": [render(i) for i in page.images]}
        if page.more and page.images:
            query = request.GET.copy()
            query["marker"] = str(page.images[-1].pk)
            query["limit"] = str(page.limit)
            body["images_links"] = [{"rel": "next", "href": f"{self.link('images')}?{query.urlencode()}"}]
        return Response(body)


def _int(params, key: str) -> int | None:
    if key not in params:
        return None
    try:
        value = int(params[key])
    except ValueError:
        raise BadRequest(f"Invalid {key} filter [{params[key]}]") from None
    if value < 0:
        raise BadRequest(f"Invalid {key} filter [{params[key]}]")
    return value


class ImageList(ImageProxyView):
    def get(self, request):
        return self.listing(request, self.summary)

    def delete(self, request):
        raise NotFound("No image id given.")  # Nova: DELETE /images/ names no image


class ImageDetailList(ImageProxyView):
    def get(self, request):
        return self.listing(request, self.detail)


class ImageItem(ImageProxyView):
    def get(self, request, image_id):
        return Response({"image": self.detail(rules.get(request.auth, image_id))})

    def delete(self, request, image_id):
        image_write.delete(request.auth, image_id)
        return Response(status=204)


def _metadata(body: object, key: str) -> dict[str, str]:
    value = body.get(key) if isinstance(body, dict) else None
    if not isinstance(value, dict) or any(not isinstance(k, str) or not k or len(k) > 255 for k in value):
        raise BadRequest(f'The body must be {{"{key}": {{<key>: <value>, ...}}}} with keys of 1-255 characters.')
    if any(not isinstance(v, str) or len(v) > 255 for v in value.values()):
        raise BadRequest("Metadata values must be strings of at most 255 characters.")
    return value


class ImageMetadata(ImageProxyView):
    """GET the metadata; PUT replaces it, POST merges into it (both answer the whole metadata)."""

    def get(self, request, image_id):
        return Response({"metadata": self.detail(rules.get(request.auth, image_id))["metadata"]})

    def put(self, request, image_id):
        wanted = _metadata(request.data, "metadata")
        current = rules.get(request.auth, image_id).properties or {}
        ops = [{"op": "remove", "path": f"/{k}"} for k in current if k not in wanted and k != "os_hidden"]
        ops += [{"op": "add", "path": f"/{k}", "value": v} for k, v in wanted.items()]
        image = image_write.update(request.auth, image_id, ops) if ops else rules.get(request.auth, image_id)
        return Response({"metadata": self.detail(image)["metadata"]})

    def post(self, request, image_id):
        wanted = _metadata(request.data, "metadata")
        ops = [{"op": "add", "path": f"/{k}", "value": v} for k, v in wanted.items()]
        image = image_write.update(request.auth, image_id, ops) if ops else rules.get(request.auth, image_id)
        return Response({"metadata": self.detail(image)["metadata"]})


class ImageMetadataItem(ImageProxyView):
    """One metadata item: GET ``{"meta": {k: v}}``, PUT (the body names the same key), DELETE (204)."""

    def get(self, request, image_id, key):
        metadata = self.detail(rules.get(request.auth, image_id))["metadata"]
        if key not in metadata:
            raise NotFound(f"Metadata item {key} was not found.")
        return Response({"meta": {key: metadata[key]}})

    def put(self, request, image_id, key):
        meta = _metadata(request.data, "meta")
        if list(meta) != [key]:
            raise BadRequest("The request body must hold exactly one item, the one the URL names.")
        image = image_write.update(request.auth, image_id, [{"op": "add", "path": f"/{key}", "value": meta[key]}])
        return Response({"meta": {key: self.detail(image)["metadata"][key]}})

    def delete(self, request, image_id, key):
        if key not in (rules.get(request.auth, image_id).properties or {}):
            raise NotFound(f"Metadata item {key} was not found.")
        image_write.update(request.auth, image_id, [{"op": "remove", "path": f"/{key}"}])
        return Response(status=204)
