"""``GET /image/fetch/{grant}``: a Ganeti node's one-time download of an image being deployed.

No token: the node signs the grant id with the shared fetch key (header
``X-Cyclades-Grant-Signature``); see :mod:`logic.image_deploy`.
"""

from __future__ import annotations

from django.http import StreamingHttpResponse
from rest_framework.views import APIView

from logic import image_deploy


class ImageFetch(APIView):
    authentication_classes: list = []
    permission_classes: list = []

    def get(self, request, grant):
        got = image_deploy.redeem(grant, request.headers.get("X-Cyclades-Grant-Signature"))
        response = StreamingHttpResponse(got.chunks, content_type="application/octet-stream")
        response["Content-Length"] = str(got.length)
        return response
