"""Keypairs: ``/os-keypairs`` and ``/os-keypairs/{name}``.

Microversions: ``type`` from 2.2 (and create answers 201, delete 204 instead of
200/202); admins may act for another user with ``user_id`` from 2.10; ``limit`` and
``marker`` from 2.35; from 2.92 names may also hold ``@`` and ``.`` and the server no
longer generates keys (``public_key`` is required).
"""

from __future__ import annotations

from rest_framework.response import Response

from api.auth import require_write
from api.compute.base import ComputeView
from api.faults import BadRequest
from logic import keypairs as rules
from logic.models import Keypair


def _iso(value) -> str | None:
    return value.strftime("%Y-%m-%dT%H:%M:%S.%f") if value else None


class KeypairView(ComputeView):
    def owner(self, user_id):
        """The user the request acts on (``user_id`` only counts from 2.10, for admins)."""
        if user_id is not None and not self.mv("2.10") and not self.is_synnefo:
            user_id = None
        return rules.target_user(self.request.auth.user, self.request.auth.is_admin, user_id)

    def typed(self, body: dict, keypair: Keypair) -> dict:
        if self.mv("2.2"):
            body["type"] = keypair.type
        return body


class KeypairList(KeypairView):
    """``GET /os-keypairs`` and ``POST /os-keypairs`` (import or generate)."""

    def get(self, request):
        params = request.query_params
        owner = self.owner(params.get("user_id"))
        paged = self.mv("2.35")
        page, more, size = rules.list_for(
            owner, limit=params.get("limit") if paged else None, marker=params.get("marker") if paged else None
        )
        items = [
            {"keypair": self.typed({"name": k.name, "public_key": k.public_key, "fingerprint": k.fingerprint}, k)} for k in page
        ]
        body: dict = {"keypairs": items}
        if paged and more and page:
            query = request.GET.copy()
            query["marker"] = page[-1].name
            query["limit"] = str(size)
            body["keypairs_links"] = [{"rel": "next", "href": f"{self.link('os-keypairs')}?{query.urlencode()}"}]
        return Response(body)

    def post(self, request):
        require_write(request.auth)
        data = request.data
        if not isinstance(data, dict) or not isinstance(data.get("keypair"), dict):
            raise BadRequest("Invalid request body: a JSON object with 'keypair' is required.")
        spec = data["keypair"]
        allowed = {"name", "public_key"} | ({"type"} if self.mv("2.2") else set()) | ({"user_id"} if self.mv("2.10") else set())
        if self.is_synnefo:
            allowed |= {"type"}
        unknown = sorted(set(spec) - allowed)
        if unknown:
            raise BadRequest(f"Invalid input for field/attribute keypair: unexpected {', '.join(unknown)}.")
        owner = self.owner(spec.get("user_id"))
        keypair, private_key = rules.create(
            owner,
            spec.get("name"),
            public_key=spec.get("public_key"),
            key_type=spec.get("type", "ssh"),
            generate=not self.mv("2.92"),
            extended_names=self.mv("2.92"),
        )
        body = {
            "name": keypair.name,
            "public_key": keypair.public_key,
            "fingerprint": keypair.fingerprint,
            "user_id": keypair.user_id,
        }
        if private_key is not None:
            body["private_key"] = private_key
        return Response({"keypair": self.typed(body, keypair)}, status=201 if self.mv("2.2") else 200)


class KeypairItem(KeypairView):
    """``GET`` and ``DELETE /os-keypairs/{name}``."""

    def get(self, request, name):
        keypair = rules.get(self.owner(request.query_params.get("user_id")), name)
        body = {
            "name": keypair.name,
            "public_key": keypair.public_key,
            "fingerprint": keypair.fingerprint,
            "user_id": keypair.user_id,
            "created_at": _iso(keypair.created_at),
            "updated_at": None,
            "deleted_at": None,
            "deleted": False,
            "id": keypair.pk,
        }
        return Response({"keypair": self.typed(body, keypair)})

    def delete(self, request, name):
        require_write(request.auth)
        rules.delete(self.owner(request.query_params.get("user_id")), name)
        return Response(status=204 if self.mv("2.2") else 202)
