"""Compute version discovery: ``/compute/``, ``/compute/v2.1``, ``/compute/v2.0``, ``/compute/v2``.

The list names v2.0 first (tempest's ``test_list_api_versions`` requires it) and
every ``self`` link answers (``test_get_version_details`` follows them). v2.0 is
the Synnefo flavour: no microversions, so its ``version``/``min_version`` are
empty and OpenStack clients send no microversion header to it.
"""

from __future__ import annotations

from rest_framework.response import Response

from api.compute.base import MAX_VERSION, MIN_VERSION, Personality, PublicComputeView

_UPDATED = {Personality.SYNNEFO: "2011-01-21T11:33:21Z", Personality.NOVA: "2013-07-23T11:33:21Z"}


def version_object(base: str, personality: Personality, *, detail: bool = False) -> dict:
    """One entry of the versions document; ``detail`` adds the media types (single-version view)."""
    nova = personality is Personality.NOVA
    obj = {
        "id": personality.value,
        "status": "CURRENT" if nova else "SUPPORTED",
        "version": str(MAX_VERSION) if nova else "",
        "min_version": str(MIN_VERSION) if nova else "",
        "updated": _UPDATED[personality],
        "links": [{"rel": "self", "href": f"{base}/{personality.value}/"}],
    }
    if detail:
        obj["links"].append({"rel": "describedby", "type": "text/html", "href": "https://docs.openstack.org/api-ref/compute/"})
        suffix = ";version=2.1" if nova else ";version=2"
        obj["media-types"] = [{"base": "application/json", "type": f"application/vnd.openstack.compute+json{suffix}"}]
    return obj


class VersionList(PublicComputeView):
    """``GET /compute/``: every version, v2.0 first."""

    def get(self, request):
        base = self.base_url()
        return Response({"versions": [version_object(base, Personality.SYNNEFO), version_object(base, Personality.NOVA)]})


class VersionShow(PublicComputeView):
    """``GET /compute/v2.1`` (or ``/v2.0``, ``/v2``): one version with its media types."""

    def get(self, request):
        return Response({"version": version_object(self.base_url(), self.personality, detail=True)})
