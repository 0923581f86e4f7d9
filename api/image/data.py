"""``/image/v2/images/{id}/file``: upload (PUT, streamed into the store) and download (GET, streamed, Range)."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpResponse, StreamingHttpResponse
from rest_framework.response import Response

from api.image.base import GlanceView
from api.image.streams import announced_size, body_chunks
from logic import image_data


class ImageFile(GlanceView):
    """PUT: ``application/octet-stream`` body -> 204 (image ``active``). GET: the data (200/206), 204 if none."""

    def put(self, request, image_id):
        chunk = settings.CYCLADES["IMAGE_CHUNK_SIZE"]
        size = announced_size(request)
        image_data.upload(request.auth, image_id, body_chunks(request, chunk), expected_size=size)
        return Response(status=204)

    def get(self, request, image_id):
        got = image_data.download(request.auth, image_id, request.headers.get("Range"))
        if got.chunks is None:
            return HttpResponse(status=204)
        response = StreamingHttpResponse(got.chunks, status=206 if got.partial else 200, content_type="application/octet-stream")
        response["Content-Length"] = str(got.length)
        response["Accept-Ranges"] = "bytes"
        if got.partial:
            response["Content-Range"] = f"bytes {got.start}-{got.end - 1}/{got.image.size}"
        elif got.image.checksum:
            response["Content-MD5"] = got.image.checksum
        return response
