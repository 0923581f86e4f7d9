"""``/volumes``: create, list (summary and detail), show, update, delete, actions, metadata.

Actions (``POST /volumes/{id}/action``): ``os-extend`` and ``os-reset_status`` (admin).
Rules are in :mod:`logic.volumes`; views parse, call, render.
"""

from __future__ import annotations

from rest_framework.response import Response

from api.auth import require_write
from api.faults import BadRequest
from api.volume import render
from api.volume.base import CinderView, body_of
from logic import volume_list, volumes


def _request_id(request) -> str:
    """The request id the middleware gave this request (``X-Openstack-Request-Id``)."""
    return getattr(request._request, "request_id", "")


class _VolumeView(CinderView):
    def detail(self, volume, *, extended: bool = True) -> dict:
        return render.volume_detail(volume, self.link("volumes", volume.id), self.request.auth, extended=extended)

    def _page(self, request, *, detail: bool) -> Response:
        params = request.query_params
        everyone = request.auth.is_admin and volume_list._bool("all_tenants", params.get("all_tenants", "false"))
        rows = volume_list.filtered(request.auth, volumes.visible(request.auth, all_projects=everyone), params)
        page = volume_list.page(request.auth, rows, params)
        items = [self.detail(v) if detail else render.volume_summary(v, self.link("volumes", v.id)) for v in page.volumes]
        body: dict = {"volumes": items}
        if page.more and page.volumes:
            query = params.copy()
            query["marker"] = str(page.volumes[-1].id)
            query["limit"] = str(page.limit)
            # the next page at the URL the client used (with or without the project id)
            body["volumes_links"] = [{"rel": "next", "href": f"{request.build_absolute_uri(request.path)}?{query.urlencode()}"}]
        return Response(body)


class VolumeList(_VolumeView):
    def get(self, request, project_id=None):
        return self._page(request, detail=False)

    def post(self, request, project_id=None):
        require_write(request.auth)
        volume = volumes.create(request.auth, body_of(request, "volume"), request_id=_request_id(request))
        return Response({"volume": self.detail(volume, extended=False)}, status=202)


class VolumeDetailList(_VolumeView):
    def get(self, request, project_id=None):
        return self._page(request, detail=True)


class VolumeItem(_VolumeView):
    def get(self, request, volume_id, project_id=None):
        return Response({"volume": self.detail(volumes.get(request.auth, volume_id))})

    def put(self, request, volume_id, project_id=None):
        require_write(request.auth)
        volume = volumes.get(request.auth, volume_id)
        updated = volumes.update(request.auth, volume, body_of(request, "volume"))
        return Response({"volume": self.detail(updated, extended=False)})

    def delete(self, request, volume_id, project_id=None):
        require_write(request.auth)
        volumes.delete(request.auth, volumes.get(request.auth, volume_id), request_id=_request_id(request))
        return Response(status=202)


class VolumeAction(_VolumeView):
    """``POST /volumes/{id}/action`` with exactly one action key."""

    def post(self, request, volume_id, project_id=None):
        data = request.data
        if not isinstance(data, dict) or len(data) != 1:
            raise BadRequest("An action body must name exactly one action.")
        ((action, args),) = data.items()
        volume = volumes.get(request.auth, volume_id)
        if action == "os-extend":
            require_write(request.auth)
            if not isinstance(args, dict) or "new_size" not in args:
                raise BadRequest("Invalid input for os-extend: 'new_size' is a required property.")
            volumes.extend(request.auth, volume, args["new_size"], request_id=_request_id(request))
            return Response(status=202)
        if action in ("os-reserve", "os-unreserve"):
            volumes.reserve(request.auth, volume, reserve=action == "os-reserve")
            return Response(status=202)
        if action == "os-reset_status":
            volumes.reset_status(request.auth, volume, args)
            return Response(status=202)
        raise BadRequest(f"There is no such action: {action}")


class VolumeMetadata(_VolumeView):
    """``/volumes/{id}/metadata``: show, merge (POST), replace (PUT)."""

    def get(self, request, volume_id, project_id=None):
        return Response({"metadata": volumes.get(request.auth, volume_id).metadata})

    def post(self, request, volume_id, project_id=None):
        return self._set(request, volume_id, replace=False)

    def put(self, request, volume_id, project_id=None):
        return self._set(request, volume_id, replace=True)

    def _set(self, request, volume_id, *, replace: bool):
        require_write(request.auth)
        volume = volumes.get(request.auth, volume_id)
        data = request.data
        if not isinstance(data, dict) or "metadata" not in data:
            raise BadRequest("Malformed request body: 'metadata' is required.")
        return Response({"metadata": volumes.set_metadata(request.auth, volume, data["metadata"], replace=replace)})


class VolumeMetadataItem(_VolumeView):
    """``/volumes/{id}/metadata/{key}``: show, set, delete one key."""

    def get(self, request, volume_id, key, project_id=None):
        metadata = volumes.get(request.auth, volume_id).metadata
        if key not in metadata:
            raise volumes.NotFoundError(f"Volume {volume_id} has no metadata with key {key}.")
        return Response({"meta": {key: metadata[key]}})

    def put(self, request, volume_id, key, project_id=None):
        require_write(request.auth)
        volume = volumes.get(request.auth, volume_id)
        meta = request.data.get("meta") if isinstance(request.data, dict) else None
        if not isinstance(meta, dict) or list(meta) != [key]:
            raise BadRequest("Request body and URI mismatch: 'meta' must hold exactly the key of the URL.")
        volumes.set_metadata(request.auth, volume, meta, replace=False)
        return Response({"meta": meta})

    def delete(self, request, volume_id, key, project_id=None):
        volumes.delete_metadata_key(request.auth, volumes.get(request.auth, volume_id), key)
        return Response(status=200)


class VolumeWithoutId(_VolumeView):
    """``/volumes/`` with an empty id: 404 for every method, as Cinder answers."""

    def _missing(self, request, project_id=None):
        raise volumes.NotFoundError("Volume could not be found: no volume id in the URL.")

    get = put = delete = post = _missing
