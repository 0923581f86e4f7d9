"""``/servers/{id}/os-volume_attachments[/{volume_id}]``: list, attach (POST), show, detach (DELETE).

Microversion 2.1 shapes (``id``, ``serverId``, ``volumeId``, ``device``). Attach answers
at once with the device the volume will get; the volume moves attaching -> in-use (or
error) when the Ganeti job ends. Rules are in :mod:`logic.volume_attach`.
"""

from __future__ import annotations

from rest_framework.response import Response

from api.auth import require_write
from api.compute.base import ComputeView
from api.faults import BadRequest
from logic import volume_attach


def attachment_body(volume) -> dict:
    return {
        "id": str(volume.id),
        "serverId": str(volume.server_id),
        "volumeId": str(volume.id),
        "device": volume.device,
    }


class _AttachmentView(ComputeView):
    def request_id(self) -> str:
        return getattr(self.request._request, "request_id", "")


class VolumeAttachmentList(_AttachmentView):
    def get(self, request, server_id):
        volumes = volume_attach.attachments(request.auth, server_id)
        return Response({"volumeAttachments": [attachment_body(v) for v in volumes]})

    def post(self, request, server_id):
        require_write(request.auth)
        body = request.data.get("volumeAttachment") if isinstance(request.data, dict) else None
        if not isinstance(body, dict) or not body.get("volumeId"):
            raise BadRequest("Invalid input for field/attribute volumeAttachment: 'volumeId' is a required property.")
        volume = volume_attach.attach(
            request.auth, server_id, body["volumeId"], device=body.get("device"), request_id=self.request_id()
        )
        return Response({"volumeAttachment": attachment_body(volume)})


class VolumeAttachmentItem(_AttachmentView):
    def get(self, request, server_id, volume_id):
        return Response({"volumeAttachment": attachment_body(volume_attach.attachment(request.auth, server_id, volume_id))})

    def delete(self, request, server_id, volume_id):
        require_write(request.auth)
        volume_attach.detach(request.auth, server_id, volume_id, request_id=self.request_id())
        return Response(status=202)
