"""Volume service URLs (mounted at ``/volume``): Cinder v3, with or without the project id in the path."""

from django.urls import re_path

from api.volume import quota_sets, snapshots, types, versions
from api.volume import volumes as vols
from api.volume.limits import VolumeLimits

P = r"^/v3/(?:(?P<project_id>[0-9a-f]{32})/)?"
ID = r"(?P<volume_id>[^/]+)"
TYPE = r"(?P<type_id>[^/]+)"

urlpatterns = [
    re_path(r"^/?$", versions.Versions.as_view()),
    re_path(r"^/v3/?$", versions.V3Root.as_view()),  # the catalog URL, without a trailing slash
    re_path(P + r"?$", versions.V3Root.as_view()),
    re_path(P + r"limits/?$", VolumeLimits.as_view()),
    re_path(P + r"volumes$", vols.VolumeList.as_view()),
    re_path(P + r"volumes/$", vols.VolumeWithoutId.as_view()),
    re_path(P + r"volumes/detail/?$", vols.VolumeDetailList.as_view()),
    re_path(P + rf"volumes/{ID}/?$", vols.VolumeItem.as_view()),
    re_path(P + rf"volumes/{ID}/action/?$", vols.VolumeAction.as_view()),
    re_path(P + rf"volumes/{ID}/metadata/?$", vols.VolumeMetadata.as_view()),
    re_path(P + rf"volumes/{ID}/metadata/(?P<key>[^/]+)/?$", vols.VolumeMetadataItem.as_view()),
    re_path(P + r"snapshots/?$", snapshots.SnapshotList.as_view()),
    re_path(P + r"snapshots/detail/?$", snapshots.SnapshotDetailList.as_view()),
    re_path(P + r"snapshots/(?P<snapshot_id>[^/]+)/?$", snapshots.SnapshotItem.as_view()),
    re_path(P + r"snapshots/(?P<snapshot_id>[^/]+)/metadata/?$", snapshots.SnapshotMetadata.as_view()),
    re_path(P + r"snapshots/(?P<snapshot_id>[^/]+)/metadata/(?P<key>[^/]+)/?$", snapshots.SnapshotMetadataItem.as_view()),
    re_path(P + r"types/?$", types.TypeList.as_view()),
    re_path(P + r"types/default/?$", types.TypeDefault.as_view()),
    re_path(P + rf"types/{TYPE}/?$", types.TypeItem.as_view()),
    re_path(P + rf"types/{TYPE}/extra_specs/?$", types.TypeExtraSpecs.as_view()),
    re_path(P + rf"types/{TYPE}/extra_specs/(?P<key>[^/]+)/?$", types.TypeExtraSpecItem.as_view()),
    re_path(P + r"os-quota-sets/(?P<target_id>[^/]+)/defaults/?$", quota_sets.QuotaSetDefaults.as_view()),
    re_path(P + r"os-quota-sets/(?P<target_id>[^/]+)/?$", quota_sets.QuotaSetItem.as_view()),
]
