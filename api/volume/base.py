"""The shared base of every Cinder v3 view: token auth, ``volume`` microversions, project URLs.

URLs are ``/volume/v3/...`` (what the catalog advertises) or ``/volume/v3/{project_id}/...``
(the classic Cinder form); a project id that is not the token's is a 400 "Malformed
request url", as in Cinder. Microversions come from ``OpenStack-API-Version: volume X.Y``;
only versions whose shapes are really implemented are advertised (:data:`MAX_VERSION`).
A quota refusal is Cinder's 413 ``overLimit``.
"""

from __future__ import annotations

from rest_framework.views import APIView

from api.auth import ProjectReader, TokenAuthentication
from api.compute.base import Microversion
from api.faults import BadRequest, NotAcceptable, OverLimit, ServiceUnavailable
from logic.image_stores.base import StoreError
from logic.quotas import QuotaExceeded

MIN_VERSION = Microversion(3, 0)
# Raise only together with real support for every change up to the new version.
MAX_VERSION = Microversion(3, 0)
HEADER = "OpenStack-API-Version"
SERVICE = "volume"


def negotiate(headers) -> Microversion:
    """The volume microversion to serve: the requested one, 3.0 if none, 406 when out of range."""
    wanted = None
    for part in (headers.get(HEADER) or "").split(","):
        words = part.split()
        if len(words) == 2 and words[0].lower() == SERVICE:
            wanted = words[1]
    if wanted is None:
        return MIN_VERSION
    if wanted.lower() == "latest":
        return MAX_VERSION
    version = Microversion.parse(wanted)
    if not MIN_VERSION <= version <= MAX_VERSION:
        raise NotAcceptable(
            f"Version {version} is not supported by the API. Minimum is {MIN_VERSION} and maximum is {MAX_VERSION}."
        )
    return version


class CinderView(APIView):
    """Base of the volume API views."""

    authentication_classes = [TokenAuthentication]
    permission_classes = [ProjectReader]

    def initial(self, request, *args, **kwargs):
        request.microversion = negotiate(request.headers)
        super().initial(request, *args, **kwargs)
        project_id = kwargs.get("project_id")
        own = getattr(request.auth.project, "pk", None)
        if project_id is not None and project_id != own:
            raise BadRequest("Malformed request url")

    def handle_exception(self, exc):
        if isinstance(exc, QuotaExceeded):
            exc = OverLimit(quota_message(exc))
        elif isinstance(exc, StoreError):  # Ceph (RBD volumes) failed: nothing was changed
            exc = ServiceUnavailable(f"The volume backend failed: {exc}")
        return super().handle_exception(exc)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        response[HEADER] = f"{SERVICE} {getattr(request, 'microversion', None) or MIN_VERSION}"
        response["Vary"] = HEADER
        return response

    def link(self, *parts: object) -> list[dict]:
        """Cinder's self and bookmark links of a resource."""
        project = self.request.auth.project.pk if self.request.auth and self.request.auth.project else ""
        tail = "/".join(str(p) for p in parts)
        base = self.request.build_absolute_uri("/volume")
        return [
            {"rel": "self", "href": f"{base}/v3/{project}/{tail}"},
            {"rel": "bookmark", "href": f"{base}/{project}/{tail}"},
        ]


def quota_message(exc: QuotaExceeded) -> str:
    """Cinder's wording for a refused volume quota."""
    if exc.resource.endswith("volume_gb"):
        return (
            f"VolumeSizeExceedsAvailableQuota: Requested volume or snapshot exceeds allowed gigabytes quota. "
            f"Requested {exc.requested}G, quota is {exc.limit}G and {exc.usage}G has been consumed."
        )
    label = "snapshots" if exc.resource.endswith("snapshot") else "volumes"
    return f"Maximum number of {label} allowed ({exc.limit}) exceeded for quota '{label}'."


def body_of(request, key: str) -> dict:
    """``request.data[key]`` as an object, 400 otherwise."""
    data = request.data
    if not isinstance(data, dict) or not isinstance(data.get(key), dict):
        raise BadRequest(f"Missing required element '{key}' in request body.")
    return data[key]
