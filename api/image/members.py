"""``/image/v2/images/{id}/members[/{member_id}]``: share a ``shared`` image; members accept or reject."""

from __future__ import annotations

from rest_framework.response import Response

from api.faults import BadRequest
from api.image.base import GlanceView
from api.image.render import utc
from logic import image_members
from logic.models import ImageMember


def member_body(member: ImageMember) -> dict:
    return {
        "created_at": utc(member.created_at),
        "updated_at": utc(member.updated_at),
        "image_id": str(member.image_id),
        "member_id": member.member,
        "status": member.status,
        "schema": "/v2/schemas/member",
    }


def _field(request, name: str):
    if not isinstance(request.data, dict) or name not in request.data:
        raise BadRequest(f"The request body must be a JSON object with '{name}'.")
    return request.data[name]


class MemberList(GlanceView):
    def get(self, request, image_id):
        members = image_members.list_members(request.auth, image_id)
        return Response({"members": [member_body(m) for m in members], "schema": "/v2/schemas/members"})

    def post(self, request, image_id):
        return Response(member_body(image_members.add_member(request.auth, image_id, _field(request, "member"))))


class MemberItem(GlanceView):
    def get(self, request, image_id, member_id):
        return Response(member_body(image_members.get_member(request.auth, image_id, member_id)))

    def put(self, request, image_id, member_id):
        status = _field(request, "status")
        return Response(member_body(image_members.set_status(request.auth, image_id, member_id, status)))

    def delete(self, request, image_id, member_id):
        image_members.remove_member(request.auth, image_id, member_id)
        return Response(status=204)
