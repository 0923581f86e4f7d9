"""``GET /image/personalise/{grant}``: a Ganeti node's one-time fetch of a server's personalisation.

The node signs the grant id with the shared fetch key (header ``X-Cyclades-Grant-Signature``),
as for the image data; see :mod:`logic.personalisation`. The answer is JSON:
``{"hostname": ..., "files": [{"path", "mode", "data" (base64)}]}``.
"""

from __future__ import annotations

from django.http import JsonResponse
from rest_framework.views import APIView

from logic import personalisation


class Personalise(APIView):
    authentication_classes: list = []
    permission_classes: list = []

    def get(self, request, grant):
        payload = personalisation.redeem(grant, request.headers.get("X-Cyclades-Grant-Signature"))
        response = JsonResponse(payload)
        response["Cache-Control"] = "no-store"
        return response
