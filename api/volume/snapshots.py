"""``/snapshots``: volume snapshots (create, list summary/detail, show, update, delete, metadata).

Real RBD snapshots for volumes of an ``ext`` type; the other templates have none and
creating one is a 400 naming the template. Rules are in :mod:`logic.volume_snapshots`.
"""

from __future__ import annotations

from rest_framework.response import Response

from api.auth import require_write
from api.faults import BadRequest, NotFound
from api.volume import render
from api.volume.base import CinderView, body_of
from logic import volume_snapshots


def _request_id(request) -> str:
    return getattr(request._request, "request_id", "")


class _SnapshotView(CinderView):
    def _list(self, request, *, detail: bool) -> Response:
        rows = volume_snapshots.listing(request.auth, request.query_params)
        return Response({"snapshots": [render.snapshot(s, detail=detail) for s in rows]})


class SnapshotList(_SnapshotView):
    def get(self, request, project_id=None):
        return self._list(request, detail=False)

    def post(self, request, project_id=None):
        require_write(request.auth)
        snapshot = volume_snapshots.create(request.auth, body_of(request, "snapshot"), request_id=_request_id(request))
        return Response({"snapshot": render.snapshot(snapshot, detail=False)}, status=202)


class SnapshotDetailList(_SnapshotView):
    def get(self, request, project_id=None):
        return self._list(request, detail=True)

    post = SnapshotList.post


class SnapshotItem(CinderView):
    def get(self, request, snapshot_id, project_id=None):
        return Response({"snapshot": render.snapshot(volume_snapshots.get(request.auth, snapshot_id))})

    def put(self, request, snapshot_id, project_id=None):
        require_write(request.auth)
        snapshot = volume_snapshots.get(request.auth, snapshot_id)
        updated = volume_snapshots.update(request.auth, snapshot, body_of(request, "snapshot"))
        return Response({"snapshot": render.snapshot(updated, detail=False)})

    def delete(self, request, snapshot_id, project_id=None):
        require_write(request.auth)
        volume_snapshots.delete(request.auth, volume_snapshots.get(request.auth, snapshot_id), request_id=_request_id(request))
        return Response(status=202)


class SnapshotMetadata(CinderView):
    def get(self, request, snapshot_id, project_id=None):
        return Response({"metadata": volume_snapshots.get(request.auth, snapshot_id).metadata})

    def post(self, request, snapshot_id, project_id=None):
        return self._set(request, snapshot_id, replace=False)

    def put(self, request, snapshot_id, project_id=None):
        return self._set(request, snapshot_id, replace=True)

    def _set(self, request, snapshot_id, *, replace: bool):
        require_write(request.auth)
        snapshot = volume_snapshots.get(request.auth, snapshot_id)
        data = request.data
        if not isinstance(data, dict) or "metadata" not in data:
            raise BadRequest("Malformed request body: 'metadata' is required.")
        metadata = volume_snapshots.set_metadata(request.auth, snapshot, data["metadata"], replace=replace)
        return Response({"metadata": metadata})


class SnapshotMetadataItem(CinderView):
    """``/snapshots/{id}/metadata/{key}``: show, set, delete one key."""

    def get(self, request, snapshot_id, key, project_id=None):
        metadata = volume_snapshots.get(request.auth, snapshot_id).metadata
        if key not in metadata:
            raise NotFound(f"Snapshot {snapshot_id} has no metadata with key {key}.")
        return Response({"meta": {key: metadata[key]}})

    def put(self, request, snapshot_id, key, project_id=None):
        require_write(request.auth)
        snapshot = volume_snapshots.get(request.auth, snapshot_id)
        meta = request.data.get("meta") if isinstance(request.data, dict) else None
        if not isinstance(meta, dict) or list(meta) != [key]:
            raise BadRequest("Request body and URI mismatch: 'meta' must hold exactly the key of the URL.")
        volume_snapshots.set_metadata(request.auth, snapshot, meta, replace=False)
        return Response({"meta": meta})

    def delete(self, request, snapshot_id, key, project_id=None):
        require_write(request.auth)
        snapshot = volume_snapshots.get(request.auth, snapshot_id)
        if key not in snapshot.metadata:
            raise NotFound(f"Snapshot {snapshot_id} has no metadata with key {key}.")
        volume_snapshots.set_metadata(
            request.auth, snapshot, {k: v for k, v in snapshot.metadata.items() if k != key}, replace=True
        )
        return Response(status=200)
