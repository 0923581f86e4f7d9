"""The shared base of every compute view: authentication, microversions, personalities.

Two personalities share one data model:

* ``/compute/v2.1/...``: strict Nova. Microversions are negotiated from
  ``OpenStack-API-Version: compute X.Y`` or ``X-OpenStack-Nova-API-Version: X.Y``;
  the answer echoes the version used in both headers and ``Vary`` names them.
  Response bodies follow the negotiated version exactly (tempest's schemas reject
  unknown keys), so only versions whose shapes are really implemented are
  advertised (:data:`MAX_VERSION`).
* ``/compute/v2.0/...`` (and ``/compute/v2/...``): the Synnefo flavour kamaki
  speaks. No microversions (like Synnefo), ``SNF:*`` fields, ``STOPPED``, deleted
  servers still visible for a while.

Views subclass :class:`ComputeView`, read ``self.personality`` /
``request.microversion`` and build links with :meth:`ComputeView.link`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from functools import total_ordering

from rest_framework.views import APIView

from api.auth import ProjectReader, TokenAuthentication
from api.faults import BadRequest, NotAcceptable


@total_ordering
@dataclass(frozen=True)
class Microversion:
    """A compute API microversion ``major.minor`` (compared numerically: 2.10 > 2.9)."""

    major: int
    minor: int

    @classmethod
    def parse(cls, text: str) -> Microversion:
        match = re.fullmatch(r"\s*(\d+)\.(\d+)\s*", text)
        if not match:
            raise BadRequest(f"Invalid microversion {text!r}: expected 'X.Y' or 'latest'.")
        return cls(int(match.group(1)), int(match.group(2)))

    def __lt__(self, other: Microversion) -> bool:
        return (self.major, self.minor) < (other.major, other.minor)

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}"


MIN_VERSION = Microversion(2, 1)
# Raise only together with real support for every change up to the new version. Served up to
# 2.39: 2.2 keypair type and 201/204; 2.3 the rest of the admins' OS-EXT-SRV-ATTR:*; 2.5 ip6
# filter for everyone; 2.6 remote-consoles replaces the console actions; 2.7 public flavor
# access conflicts; 2.9 ``locked``; 2.10 keypairs of another user (admins); 2.16 ``host_status``
# (admins); 2.17 trigger_crash_dump; 2.19 ``description``; 2.21 deleted servers' action log;
# 2.26 server tags (API, bodies, filters); 2.32 device tags on create's networks and block
# devices; 2.35 keypair paging; 2.36 no image proxy, no network keys in limits and quota sets;
# 2.37 ``networks`` required, "auto"/"none"; 2.38 unknown status filter is a 400; 2.39 no
# maxImageMeta. The others up to 2.39 change APIs this cloud does not serve (services, server
# groups, fixed IPs, virtual interfaces, evacuate, migrations, hypervisors, hosts, console auth
# tokens, volume attachments; live migration is refused whatever the body).
# 2.42 device tags on networks and block devices again; 2.44 the network proxy actions
# (add/removeFixedIp, add/removeFloatingIp) are 404; 2.46 signals X-OpenStack-Request-ID (always
# sent); 2.47 the embedded flavor; 2.51 instance action events for everyone (tracebacks: admins).
# 2.52 tags on create; 2.54 key_name on rebuild (and in its answer); 2.55 flavor descriptions;
# 2.57 no personality (400), user_data on rebuild, no injected-file limits and quota keys;
# 2.58 the action log paged (limit, marker) with changes-since and updated_at.
# 2.40, 2.41, 2.43, 2.45, 2.48-2.50, 2.53 and 2.56 change APIs not served here (simple tenant
# usage, aggregates, os-hosts, createImage/createBackup (refused), diagnostics, tagged attach,
# quota classes, services and hypervisors by uuid, migrate to a host (refused)).
# 2.61 extra specs in flavors; 2.62 event hostId/host; 2.63 trusted_image_certificates (null; asking
# for certificates is a 400: Ganeti OS definitions verify no image signature); 2.66 changes-before;
# 2.67 volume_type in block devices; 2.70 tags in volume and interface attachments; 2.71
# server_groups ([]); 2.73 lock reason and the locked filter; 2.74 host/hypervisor_hostname on create
# (admins: a Ganeti cluster); 2.75 unknown list parameters are a 400, update/rebuild answer the whole
# server, swap 0; 2.79 delete_on_termination on attach; 2.83 more filters for everyone; 2.84 event
# details; 2.85 attachment update; 2.86 extra spec validation; 2.89 attachment_id/bdm_uuid; 2.90
# hostname; 2.92 keypairs imported only; 2.94 FQDN hostnames; 2.96 pinned_availability_zone; 2.98
# image properties in servers; 2.100 scheduler_hints. The others between 2.59 and 2.100 change APIs
# not served here (migrations, multiattach, server groups, live migration, evacuate, external
# events, hypervisors, services, aggregates, topology, rescue, shelve, shares, spice).
# The README's compatibility table lists every version.
MAX_VERSION = Microversion(2, 100)

SERVICE = "compute"
NEW_HEADER = "OpenStack-API-Version"
LEGACY_HEADER = "X-OpenStack-Nova-API-Version"
VARY = f"{NEW_HEADER}, {LEGACY_HEADER}"


class Personality(StrEnum):
    NOVA = "v2.1"  # strict Nova, microversioned
    SYNNEFO = "v2.0"  # Synnefo/kamaki flavour


def personality_of(path: str) -> Personality:
    """The personality a request path belongs to (``/compute/v2.0`` and ``/compute/v2`` are Synnefo)."""
    return Personality.NOVA if path.startswith("/compute/v2.1") else Personality.SYNNEFO


def requested_version(headers) -> str | None:
    """The microversion the client asked for, from either header (the new one wins), or None.

    ``OpenStack-API-Version`` may name several services (``compute 2.5, image 2.1``);
    only the ``compute`` entry counts.
    """
    new = headers.get(NEW_HEADER)
    if new:
        for part in new.split(","):
            words = part.split()
            if len(words) == 2 and words[0].lower() == SERVICE:
                return words[1]
    legacy = headers.get(LEGACY_HEADER)
    return legacy.strip() if legacy else None


def negotiate(headers) -> Microversion:
    """The microversion to serve: the requested one, the minimum if none, 406 if out of range."""
    wanted = requested_version(headers)
    if wanted is None:
        return MIN_VERSION
    if wanted.strip().lower() == "latest":
        return MAX_VERSION
    version = Microversion.parse(wanted)
    if not MIN_VERSION <= version <= MAX_VERSION:
        raise NotAcceptable(
            f"Version {version} is not supported by the API. Minimum is {MIN_VERSION} and maximum is {MAX_VERSION}."
        )
    return version


class ComputeView(APIView):
    """Base of every compute API view (token auth, project readers, microversion headers)."""

    authentication_classes = [TokenAuthentication]
    permission_classes = [ProjectReader]

    personality: Personality = Personality.NOVA

    def initial(self, request, *args, **kwargs):
        self.personality = personality_of(request.path_info)
        request.microversion = None
        if self.personality is Personality.NOVA:
            # Negotiate before authenticating, so a 406 (or 401) still carries the headers.
            request.microversion = negotiate(request.headers)
        super().initial(request, *args, **kwargs)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if personality_of(request.path_info) is Personality.NOVA:
            version = getattr(request, "microversion", None) or MIN_VERSION
            response[NEW_HEADER] = f"{SERVICE} {version}"
            response[LEGACY_HEADER] = str(version)
            response["Vary"] = VARY
        return response

    # ---- helpers for subclasses -------------------------------------------------
    @property
    def is_synnefo(self) -> bool:
        return self.personality is Personality.SYNNEFO

    def mv(self, minimum: str) -> bool:
        """True when the negotiated microversion is at least ``minimum`` (always False on v2.0)."""
        version = getattr(self.request, "microversion", None)
        return version is not None and version >= Microversion.parse(minimum)

    def base_url(self) -> str:
        """``http://host/compute`` as the client reached it."""
        return self.request.build_absolute_uri("/compute")

    def link(self, *parts: object) -> str:
        """A versioned (self) link under this personality: ``http://H/compute/v2.1/servers/1``."""
        return "/".join([self.base_url(), self.personality.value, *(str(p) for p in parts)])

    def bookmark(self, *parts: object) -> str:
        """An unversioned (bookmark) link: ``http://H/compute/servers/1``."""
        return "/".join([self.base_url(), *(str(p) for p in parts)])

    def links(self, *parts: object) -> list[dict]:
        return [{"rel": "self", "href": self.link(*parts)}, {"rel": "bookmark", "href": self.bookmark(*parts)}]


class PublicComputeView(ComputeView):
    """A compute view that needs no token (version discovery)."""

    authentication_classes: list = []
    permission_classes: list = []
