"""``/servers/{id}/os-volume_attachments[/{volume_id}]``: list, attach (POST), show, update (PUT), detach.

Shapes by microversion: 2.1 ``id``, ``serverId``, ``volumeId``, ``device``; 2.70 ``tag``
(always null: tagged attach, 2.49, is not offered); 2.79 ``delete_on_termination`` (also
on attach); 2.89 list and show drop ``id`` for ``attachment_id`` and ``bdm_uuid``. From
2.85 PUT changes ``delete_on_termination``; swapping a volume for another (PUT with a
different volume) is not offered. Attach answers at once with the device the volume will
get; the volume moves attaching -> in-use (or error) when the Ganeti job ends. Rules are
in :mod:`logic.volume_attach`.
"""

from __future__ import annotations

import uuid

from rest_framework.response import Response

from api.auth import require_write
from api.compute.base import ComputeView
from api.faults import BadRequest, NotImplementedFault
from logic import volume_attach

# bdm_uuid (2.89): this cloud has no block device mapping rows; the id is derived from the attachment
_BDM_NAMESPACE = uuid.UUID("6f1c3e0a-5b1e-4c52-9a39-0c0d6c1f2b89")


def attachment_body(volume, view: ComputeView | None = None, *, listed: bool = True) -> dict:
    """One attachment as the negotiated microversion shows it (``listed``: list/show, not the attach answer)."""
    body = {"id": str(volume.id), "serverId": str(volume.server_id), "volumeId": str(volume.id), "device": volume.device}
    if view is None:
        return body
    if view.mv("2.70"):
        body["tag"] = None
    if view.mv("2.79"):
        body["delete_on_termination"] = bool(volume.delete_on_termination)
    if view.mv("2.89") and listed:
        del body["id"]
        attachment = volume.attachment_id or uuid.uuid5(_BDM_NAMESPACE, f"attachment:{volume.server_id}:{volume.id}")
        body["attachment_id"] = str(attachment)
        body["bdm_uuid"] = str(uuid.uuid5(_BDM_NAMESPACE, f"bdm:{volume.server_id}:{volume.id}"))
    return body


class _AttachmentView(ComputeView):
    def request_id(self) -> str:
        return getattr(self.request._request, "request_id", "")

    def attachment_spec(self) -> dict:
        body = self.request.data.get("volumeAttachment") if isinstance(self.request.data, dict) else None
        if not isinstance(body, dict) or not body.get("volumeId"):
            raise BadRequest("Invalid input for field/attribute volumeAttachment: 'volumeId' is a required property.")
        if "delete_on_termination" in body and not self.mv("2.79"):
            raise BadRequest("Invalid input for field/attribute delete_on_termination: it needs microversion 2.79 or later.")
        if "tag" in body:
            raise BadRequest("Tagged volume attach is not supported: this cloud's guests get no device metadata.")
        return body


class VolumeAttachmentList(_AttachmentView):
    def get(self, request, server_id):
        volumes = volume_attach.attachments(request.auth, server_id)
        return Response({"volumeAttachments": [attachment_body(v, self) for v in volumes]})

    def post(self, request, server_id):
        require_write(request.auth)
        body = self.attachment_spec()
        volume = volume_attach.attach(
            request.auth,
            server_id,
            body["volumeId"],
            device=body.get("device"),
            delete_on_termination=body.get("delete_on_termination", False),
            request_id=self.request_id(),
        )
        return Response({"volumeAttachment": attachment_body(volume, self, listed=False)})


class VolumeAttachmentItem(_AttachmentView):
    def get(self, request, server_id, volume_id):
        volume = volume_attach.attachment(request.auth, server_id, volume_id)
        return Response({"volumeAttachment": attachment_body(volume, self)})

    def put(self, request, server_id, volume_id):
        """2.85: change ``delete_on_termination``; a swap (another ``volumeId``) is not offered."""
        require_write(request.auth)
        body = self.attachment_spec()
        if str(body["volumeId"]) != str(volume_id):
            raise NotImplementedFault("Swapping an attached volume for another is not supported by this cloud.")
        if not self.mv("2.85"):
            raise BadRequest("Updating a volume attachment in place needs microversion 2.85 or later.")
        extra = set(body) - {"volumeId", "delete_on_termination", "device", "serverId", "id", "tag"}
        if extra:
            raise BadRequest(f"Additional properties are not allowed: {', '.join(sorted(extra))}.")
        volume_attach.attachment(request.auth, server_id, volume_id)  # 404 when it is not attached
        if "delete_on_termination" in body:
            volume_attach.set_delete_on_termination(request.auth, server_id, volume_id, body["delete_on_termination"])
        return Response(status=202)

    def delete(self, request, server_id, volume_id):
        require_write(request.auth)
        volume_attach.detach(request.auth, server_id, volume_id, request_id=self.request_id())
        return Response(status=202)
