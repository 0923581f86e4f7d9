"""``PUT /image/upload/{grant}``: a Ganeti node uploads a server's disk as a snapshot image's data.

No token: the node signs the grant id with the shared fetch key (header
``X-Cyclades-Grant-Signature``), as for ``/image/fetch``; see :mod:`logic.image_snapshot`.
"""

from __future__ import annotations

from django.conf import settings
from rest_framework.response import Response
from rest_framework.views import APIView

from api.image.streams import announced_size, body_chunks
from logic import image_snapshot


class SnapshotUpload(APIView):
    authentication_classes: list = []
    permission_classes: list = []

    def head(self, request, grant):
        image_snapshot.check_upload(grant, request.headers.get("X-Cyclades-Grant-Signature"))
        return Response(status=204)

    def put(self, request, grant):
        size = announced_size(request)
        chunks = body_chunks(request, settings.CYCLADES["IMAGE_CHUNK_SIZE"])
        image = image_snapshot.receive(grant, request.headers.get("X-Cyclades-Grant-Signature"), chunks, size)
        return Response({"image_id": str(image.pk), "size": image.size, "os_hash_value": image.os_hash_value})
