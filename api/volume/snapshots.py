"""``/snapshots``: volume snapshots. None of the Ganeti disk templates offered here has snapshots
(``file``, ``sharedfile``, ``plain``, ``drbd``; RBD snapshots come with the ``ext`` provider), so
listing answers an empty list and creating one is a 400 naming the volume's template.
"""

from __future__ import annotations

from rest_framework.response import Response

from api.auth import require_write
from api.faults import BadRequest, NotFound
from api.volume.base import CinderView, body_of
from logic import volumes


class SnapshotList(CinderView):
    def get(self, request, project_id=None):
        return Response({"snapshots": []})

    def post(self, request, project_id=None):
        require_write(request.auth)
        body = body_of(request, "snapshot")
        if not body.get("volume_id"):
            raise BadRequest("Invalid input for field/attribute snapshot: 'volume_id' is a required property.")
        volume = volumes.get(request.auth, body["volume_id"])
        template = volume.volume_type.disk_template
        raise BadRequest(
            f"Invalid volume: volume {volume.id} is of type {volume.volume_type.name}, on Ganeti's {template!r} disk "
            "template, which has no snapshots."
        )


class SnapshotDetailList(SnapshotList):
    pass


class SnapshotItem(CinderView):
    def get(self, request, snapshot_id, project_id=None):
        raise NotFound(f"Snapshot {snapshot_id} could not be found.")

    def delete(self, request, snapshot_id, project_id=None):
        raise NotFound(f"Snapshot {snapshot_id} could not be found.")
