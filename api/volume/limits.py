"""``GET /volume/v3/limits``: the block-storage limits ``openstack limits show --absolute`` also reads.

The catalog advertises the volume service; until the volume issue brings volumes,
this answers with the project's volume quotas (:mod:`logic.quotas`) and zero usage
(there are no volumes yet); snapshots and backups are not offered (limit 0).
"""

from __future__ import annotations

from rest_framework.response import Response
from rest_framework.views import APIView

from api.auth import ProjectReader, TokenAuthentication
from logic import quotas
from logic.enums import QuotaResource


class VolumeLimits(APIView):
    authentication_classes = [TokenAuthentication]
    permission_classes = [ProjectReader]

    def get(self, request):
        project = request.auth.project
        own = quotas.limits(project) if project is not None else {}
        absolute = {
            "maxTotalVolumes": own.get(QuotaResource.VOLUMES, -1),
            "maxTotalVolumeGigabytes": own.get(QuotaResource.VOLUME_GB, -1),
            "maxTotalSnapshots": 0,
            "maxTotalBackups": 0,
            "maxTotalBackupGigabytes": 0,
            "totalVolumesUsed": 0,
            "totalGigabytesUsed": 0,
            "totalSnapshotsUsed": 0,
            "totalBackupsUsed": 0,
            "totalBackupGigabytesUsed": 0,
        }
        return Response({"limits": {"rate": [], "absolute": absolute}})
