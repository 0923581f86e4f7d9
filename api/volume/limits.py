"""``GET /volume/v3/limits``: the block-storage limits and usage (``openstack limits show --absolute``).

Limits are the project's quotas (:mod:`logic.quotas`); usage comes from the same counters
that enforce them, so ``/limits`` never disagrees with a 413. Backups are not offered (0).
"""

from __future__ import annotations

from rest_framework.response import Response

from api.volume.base import CinderView
from logic import quotas, volumes
from logic.enums import QuotaResource


class VolumeLimits(CinderView):
    def get(self, request, project_id=None):
        project = request.auth.project
        own = quotas.limits(project) if project is not None else {}
        used = volumes.usage(request.auth)
        absolute = {
            "maxTotalVolumes": own.get(QuotaResource.VOLUMES, -1),
            "maxTotalVolumeGigabytes": own.get(QuotaResource.VOLUME_GB, -1),
            "maxTotalSnapshots": own.get(QuotaResource.VOLUME_SNAPSHOTS, -1),
            "maxTotalBackups": 0,
            "maxTotalBackupGigabytes": 0,
            "totalVolumesUsed": used["volumes"],
            "totalGigabytesUsed": used["gigabytes"],
            "totalSnapshotsUsed": used["snapshots"],
            "totalBackupsUsed": 0,
            "totalBackupGigabytesUsed": 0,
        }
        return Response({"limits": {"rate": [], "absolute": absolute}})
