"""The service catalog: which service lives at which URL, built from settings.

Both token views use it: Keystone v3 (``catalog`` of a token) and the Keystone
v2.0 / Astakos view kamaki reads (``serviceCatalog``). URLs are built from
``PUBLIC_URL`` (the address clients reach, e.g. a proxy in front of several API
nodes) and the region from ``REGION``. Service and endpoint ids are derived from
their contents, so every API node advertises the same ids.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.conf import settings

_NAMESPACE = uuid.UUID("5f0c6c52-6c1e-4b7e-9d55-2f4f0cf0c1a5")


def stable_id(*parts: str) -> str:
    """A 32-hex id that depends only on ``parts``."""
    return uuid.uuid5(_NAMESPACE, "/".join(parts)).hex


@dataclass(frozen=True)
class Service:
    """One service: its path in the v3 catalog and in the v2.0 (kamaki) catalog."""

    type: str
    name: str  # Keystone v3 service name
    path: str  # under PUBLIC_URL, v3 catalog
    v2_name: str  # Astakos-style service name in the v2.0 catalog
    v2_path: str  # under PUBLIC_URL, v2.0 catalog
    v2_version: str  # versionId in the v2.0 catalog


SERVICES: tuple[Service, ...] = (
    Service("identity", "keystone", "/identity", "astakos_identity", "/identity/v2.0", "v2.0"),
    Service("compute", "nova", "/compute/v2.1", "cyclades_compute", "/compute/v2.0", "v2.0"),
    Service("image", "glance", "/image", "cyclades_plankton", "/image", "v1.0"),
    Service("network", "neutron", "/network", "cyclades_network", "/network", "v2.0"),
    Service("volume", "cinder", "/volume/v3", "cyclades_volume", "/volume/v3", "v3.0"),
)
# A service is listed only once its API answers at that URL: clients that find a service in the
# catalog use it (tests/identity/test_catalog_answers.py checks every listed endpoint).

# astakosclient refuses a catalog without this entry (name, versionId v1.0, publicURL, SNF:uiURL).
ACCOUNT_SERVICE_PATH = "/identity/account/v1.0"
UI_PATH = "/ui"


def public_url() -> str:
    """The base URL clients reach the API at, without a trailing slash."""
    return settings.CYCLADES["PUBLIC_URL"].rstrip("/")


def region() -> str:
    return settings.CYCLADES["REGION"]


def url_for(path: str) -> str:
    return public_url() + path


def v3_catalog() -> list[dict]:
    """The ``catalog`` of a Keystone v3 token: one public endpoint per service."""
    base, reg = public_url(), region()
    catalog = []
    for svc in SERVICES:
        url = base + svc.path
        catalog.append(
            {
                "id": stable_id("service", svc.type),
                "type": svc.type,
                "name": svc.name,
                "endpoints": [
                    {
                        "id": stable_id("endpoint", svc.type, "public", reg, url),
                        "interface": "public",
                        "region_id": reg,
                        "region": reg,
                        "url": url,
                    }
                ],
            }
        )
    return catalog


def _v2_entry(name: str, type_: str, version: str, url: str) -> dict:
    return {
        "name": name,
        "type": type_,
        "endpoints_links": [],
        "endpoints": [{"region": region(), "versionId": version, "publicURL": url, "SNF:uiURL": url_for(UI_PATH)}],
    }


def v2_catalog() -> list[dict]:
    """The ``serviceCatalog`` of a v2.0 token, as kamaki/astakosclient need it.

    One entry per service type (kamaki picks by type and wants exactly one), plus
    the ``astakos_account`` entry astakosclient looks up by name.
    """
    entries = [_v2_entry("astakos_account", "account", "v1.0", url_for(ACCOUNT_SERVICE_PATH))]
    entries += [_v2_entry(svc.v2_name, svc.type, svc.v2_version, url_for(svc.v2_path)) for svc in SERVICES]
    return entries
