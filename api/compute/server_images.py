"""The server actions that make images: ``createImage`` (a snapshot) and ``createBackup``.

202 either way: from microversion 2.45 the body is ``{"image_id": ...}``; before it,
Nova names the image in a Location header. The image fills in the background
(:mod:`logic.image_snapshot`).
"""

from __future__ import annotations

from rest_framework.response import Response

from api.faults import BadRequest
from logic import image_backup, image_snapshot


def create_image(view, ctx, server_id, args, rid) -> Response:
    if not isinstance(args, dict):
        raise BadRequest('createImage requires {"name": ...}.')
    image = image_snapshot.create_image(ctx, server_id, args.get("name"), args.get("metadata"), request_id=rid)
    return accepted(view, image)


def create_backup(view, ctx, server_id, args, rid) -> Response:
    if not isinstance(args, dict):
        raise BadRequest('createBackup requires {"name", "backup_type", "rotation"}.')
    image = image_backup.create_backup(ctx, server_id, args, request_id=rid)
    return accepted(view, image)


def accepted(view, image) -> Response:
    if not view.is_synnefo and view.mv("2.45"):
        return Response({"image_id": str(image.pk)}, status=202)
    response = Response(status=202)
    response["Location"] = view.link("images", image.pk)
    return response
