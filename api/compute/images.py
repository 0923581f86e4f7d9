"""The Nova image proxy: ``/images``, ``/images/detail``, ``/images/{id}``, ``/images/{id}/metadata``.

Read-only views of the image registry in Nova's shape (kamaki reads
``/compute/v2.0/images/{id}`` and its ``metadata``). Like Nova, the proxy is gone
from microversion 2.36 on (404).
"""

from __future__ import annotations

from django.utils.dateparse import parse_datetime
from rest_framework.response import Response

from api.compute.base import ComputeView
from api.faults import BadRequest, NotFound
from api.image.render import NOVA_STATUS, utc
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


class ImageDetailList(ImageProxyView):
    def get(self, request):
        return self.listing(request, self.detail)


class ImageItem(ImageProxyView):
    def get(self, request, image_id):
        return Response({"image": self.detail(rules.get(request.auth, image_id))})


class ImageMetadata(ImageProxyView):
    def get(self, request, image_id):
        return Response({"metadata": self.detail(rules.get(request.auth, image_id))["metadata"]})
