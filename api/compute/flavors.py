"""Flavors: ``/flavors``, ``/flavors/detail``, ``/flavors/{id}``, admin create/delete/update,
``/flavors/{id}/os-flavor-access``, ``/flavors/{id}/action`` (add/removeTenantAccess) and
read-only ``/flavors/{id}/os-extra_specs``.

Shapes follow the negotiated microversion: adding access to a public flavor conflicts
from 2.7, ``description`` from 2.55, ``extra_specs``
from 2.61, ``swap`` as an integer 0 (instead of "") from 2.75. The Synnefo personality
adds ``SNF:disk_template`` and ``SNF:allow_create``.
"""

from __future__ import annotations

from rest_framework.response import Response

from api.auth import require_admin
from api.compute.base import ComputeView
from api.faults import BadRequest, NotFound
from logic import flavor_extra_specs as extra_specs
from logic import flavors as rules
from logic.models import Flavor


def _body(request, key: str) -> dict:
    data = request.data
    if not isinstance(data, dict) or not isinstance(data.get(key), dict):
        raise BadRequest(f"Invalid request body: a JSON object with '{key}' is required.")
    return data[key]


class FlavorViewMixin(ComputeView):
    def summary(self, flavor: Flavor) -> dict:
        body = {"id": str(flavor.pk), "name": flavor.name, "links": self.links("flavors", flavor.pk)}
        if self.mv("2.55"):
            body["description"] = flavor.description
        return body

    def detail(self, flavor: Flavor) -> dict:
        body = {
            "id": str(flavor.pk),
            "name": flavor.name,
            "ram": flavor.ram,
            "vcpus": flavor.vcpus,
            "disk": flavor.disk,
            "swap": flavor.swap if (flavor.swap or self.mv("2.75")) else "",
            "OS-FLV-EXT-DATA:ephemeral": flavor.ephemeral,
            "OS-FLV-DISABLED:disabled": flavor.disabled,
            "os-flavor-access:is_public": flavor.is_public,
            "rxtx_factor": flavor.rxtx_factor,
            "links": self.links("flavors", flavor.pk),
        }
        if self.mv("2.55"):
            body["description"] = flavor.description
        if self.mv("2.61"):
            body["extra_specs"] = {str(k): str(v) for k, v in (flavor.extra_specs or {}).items()}
        if self.is_synnefo:
            body["SNF:disk_template"] = flavor.disk_template
            body["SNF:allow_create"] = not flavor.disabled
        return body

    def listing(self, request, render) -> Response:
        params = request.query_params
        page = rules.list_flavors(
            request.auth,
            is_public=params.get("is_public"),
            min_disk=params.get("minDisk"),
            min_ram=params.get("minRam"),
            limit=params.get("limit"),
            marker=params.get("marker"),
            sort_key=params.get("sort_key"),
            sort_dir=params.get("sort_dir"),
        )
        body: dict = {"flavors": [render(f) for f in page.flavors]}
        if page.more and page.flavors:
            query = request.GET.copy()
            query["marker"] = str(page.flavors[-1].pk)
            query["limit"] = str(page.limit)
            body["flavors_links"] = [{"rel": "next", "href": f"{self.link('flavors')}?{query.urlencode()}"}]
        return Response(body)


class FlavorList(FlavorViewMixin):
    """``GET /flavors`` (summaries), ``POST /flavors`` (admin create)."""

    def get(self, request):
        return self.listing(request, self.summary)

    def post(self, request):
        require_admin(request.auth)
        spec = _body(request, "flavor")
        if "description" in spec and not self.mv("2.55"):
            raise BadRequest("Invalid input for field/attribute flavor: 'description' needs microversion 2.55.")
        flavor = rules.create_flavor(
            request.auth,
            name=spec.get("name"),
            ram=spec.get("ram"),
            vcpus=spec.get("vcpus"),
            disk=spec.get("disk"),
            flavor_id=spec.get("id"),
            ephemeral=spec.get("OS-FLV-EXT-DATA:ephemeral", 0),
            swap=spec.get("swap", 0),
            rxtx_factor=spec.get("rxtx_factor", 1.0),
            is_public=spec.get("os-flavor-access:is_public", True),
            description=spec.get("description"),
        )
        return Response({"flavor": self.detail(flavor)})


class FlavorDetailList(FlavorViewMixin):
    """``GET /flavors/detail``."""

    def get(self, request):
        return self.listing(request, self.detail)


class FlavorItem(FlavorViewMixin):
    """``GET /flavors/{id}``, ``PUT`` (description, 2.55), ``DELETE`` (admin)."""

    def get(self, request, flavor_id):
        return Response({"flavor": self.detail(rules.get_flavor(request.auth, flavor_id))})

    def put(self, request, flavor_id):
        if not self.mv("2.55"):
            raise NotFound("Updating a flavor needs microversion 2.55.")
        require_admin(request.auth)
        spec = _body(request, "flavor")
        if set(spec) != {"description"}:
            raise BadRequest("Invalid input for field/attribute flavor: only 'description' can be updated.")
        flavor = rules.update_description(request.auth, flavor_id, spec["description"])
        return Response({"flavor": self.detail(flavor)})

    def delete(self, request, flavor_id):
        require_admin(request.auth)
        rules.delete_flavor(request.auth, flavor_id)
        return Response(status=202)


class FlavorAccessList(FlavorViewMixin):
    """``GET /flavors/{id}/os-flavor-access`` (admin)."""

    def get(self, request, flavor_id):
        require_admin(request.auth)
        return Response(_access_body(flavor_id, rules.access_list(request.auth, flavor_id)))


def _access_body(flavor_id: str, projects: list[str]) -> dict:
    return {"flavor_access": [{"flavor_id": str(flavor_id), "tenant_id": p} for p in projects]}


class FlavorAction(FlavorViewMixin):
    """``POST /flavors/{id}/action`` with ``addTenantAccess`` or ``removeTenantAccess`` (admin)."""

    def post(self, request, flavor_id):
        require_admin(request.auth)
        data = request.data
        if not isinstance(data, dict) or len(data) != 1:
            raise BadRequest("Invalid request body: exactly one action is expected.")
        ((action, spec),) = data.items()
        if action not in {"addTenantAccess", "removeTenantAccess"}:
            raise BadRequest(f"There is no such action: {action}")
        if not isinstance(spec, dict) or set(spec) != {"tenant"}:
            raise BadRequest(f"Invalid input for field/attribute {action}: {{'tenant': <project id>}} is required.")
        if action == "addTenantAccess":
            # Nova refuses a public flavor from microversion 2.7 (409); Synnefo always did
            conflicts = self.is_synnefo or self.mv("2.7")
            projects = rules.add_access(request.auth, flavor_id, spec["tenant"], public_conflicts=conflicts)
        else:
            projects = rules.remove_access(request.auth, flavor_id, spec["tenant"])
        return Response(_access_body(flavor_id, projects))


class FlavorExtraSpecs(FlavorViewMixin):
    """``GET /flavors/{id}/os-extra_specs``; ``POST`` sets keys (admins)."""

    def get(self, request, flavor_id):
        flavor = rules.get_flavor(request.auth, flavor_id)
        return Response({"extra_specs": {str(k): str(v) for k, v in (flavor.extra_specs or {}).items()}})

    def post(self, request, flavor_id):
        specs = extra_specs.set_specs(request.auth, flavor_id, request.data, known=self.mv("2.86"))
        return Response({"extra_specs": specs})


class FlavorExtraSpec(FlavorViewMixin):
    """``GET/PUT/DELETE /flavors/{id}/os-extra_specs/{key}`` (changes: admins)."""

    def get(self, request, flavor_id, key):
        specs = rules.get_flavor(request.auth, flavor_id).extra_specs or {}
        if key not in specs:
            raise NotFound(f"Flavor {flavor_id} has no extra specs with key {key}.")
        return Response({key: str(specs[key])})

    def put(self, request, flavor_id, key):
        return Response(extra_specs.update_spec(request.auth, flavor_id, key, request.data, known=self.mv("2.86")))

    def delete(self, request, flavor_id, key):
        extra_specs.delete_spec(request.auth, flavor_id, key)
        return Response(status=200)
