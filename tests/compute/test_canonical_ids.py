"""Every id has one spelling everywhere: bodies, links and filters of the compute, image and network APIs.

Glance and Neutron spell UUIDs with dashes (``c6070776-1669-46cf-b9c0-42803817e67c``),
Keystone spells project and user ids as 32 hex digits, Nova server and flavor ids are
the integers as strings. A client matches ids as strings (``openstack server list`` looks
a server's ``image.id`` up in the image list to show its name), so a second spelling of
the same object anywhere breaks it. The walker visits every string under an id-like key
and every path segment of every link, and checks each one that names a known object
against that object's canonical spelling. It runs on the suite's database and, from
:func:`test_walk_on_sqlite`, once more on SQLite (the embedded mode's database, which
stores UUIDs as 32 hex digits).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.conf import settings

from logic.models import Network, Server, ServerAction, ServerNIC
from tests.factories import ImageFactory

ROOT = Path(__file__).resolve().parents[2]
LATEST = {"HTTP_X_OPENSTACK_NOVA_API_VERSION": "latest"}
ID_KEYS = {"id", "imageRef", "flavorRef", "device_id", "network_id", "tenant_id", "project_id", "user_id", "owner"}
LINK_KEYS = {"href", "self", "file", "schema", "first", "next"}


def _norm(value: str) -> str | None:
    """The spelling-independent key of an id: the UUID's 32 hex digits, else None."""
    try:
        return uuid.UUID(value).hex
    except (ValueError, AttributeError, TypeError):
        return None


class Canon:
    """Known objects by spelling-independent key -> (what, canonical spelling); what was seen."""

    def __init__(self):
        self.objects: dict[str, tuple[str, str]] = {}
        self.seen: set[str] = set()
        self.problems: list[str] = []

    def add(self, what: str, canonical: str) -> None:
        self.objects[_norm(canonical) or canonical] = (what, canonical)

    def check(self, where: str, value: str) -> None:
        key = _norm(value) or value
        if key not in self.objects:
            return
        what, canonical = self.objects[key]
        self.seen.add(what)
        if value != canonical:
            self.problems.append(f"{where}: {what} spelled {value!r}, canonical {canonical!r}")

    def walk(self, where: str, body) -> None:
        if isinstance(body, dict):
            for key, value in body.items():
                here = f"{where}.{key}"
                if isinstance(value, str) and (key in ID_KEYS or key.endswith("_id")):
                    self.check(here, value)
                elif isinstance(value, str) and key in LINK_KEYS:
                    for segment in urlsplit(value).path.split("/"):
                        self.check(here, segment)
                else:
                    self.walk(here, value)
        elif isinstance(body, list):
            for i, item in enumerate(body):
                self.walk(f"{where}[{i}]", item)


@pytest.fixture
def world(member, jobs, backend, flavor, image):
    """A server with a NIC on a network, an action, a keypair; every object's canonical id."""
    image_alt = ImageFactory(name="alpine")
    network = Network.objects.create(name="private", project=member.project)
    body = {"server": {"name": "vm1", "flavorRef": str(flavor.pk), "imageRef": str(image.id), "metadata": {"k": "v"}}}
    resp = member.post("/compute/v2.1/servers", body, format="json", **LATEST)
    assert resp.status_code == 202, resp.content
    server = Server.objects.get(pk=int(resp.json()["server"]["id"]))
    nic = ServerNIC.objects.create(
        server=server, index=0, network_name="private", network_id=str(network.pk), mac="aa:00:00:00:00:01", ipv4="10.0.0.5"
    )
    assert member.post("/compute/v2.1/os-keypairs", {"keypair": {"name": "kp1"}}, format="json").status_code == 200
    canon = Canon()
    canon.add("image", str(image.pk))
    canon.add("image_alt", str(image_alt.pk))
    canon.add("network", str(network.pk))
    canon.add("port", str(nic.pk))
    canon.add("project", member.project.pk)
    canon.add("user", member.user_obj.pk)
    canon.add("server", str(server.pk))
    return {"canon": canon, "server": server, "image": image, "network": network, "nic": nic, "flavor": flavor}


def _urls(w: dict) -> list[str]:
    server, image, network, nic, flavor = w["server"], w["image"], w["network"], w["nic"], w["flavor"]
    request_id = ServerAction.objects.filter(server=server).first().request_id
    compute = []
    for version in ("v2.1", "v2.0"):
        base = f"/compute/{version}"
        compute += [
            f"{base}/servers",
            f"{base}/servers/detail",
            f"{base}/servers/detail?image={image.pk}",
            f"{base}/servers/{server.pk}",
            f"{base}/servers/{server.pk}/ips",
            f"{base}/servers/{server.pk}/ips/private",
            f"{base}/servers/{server.pk}/metadata",
            f"{base}/servers/{server.pk}/os-instance-actions",
            f"{base}/servers/{server.pk}/os-instance-actions/{request_id}",
            f"{base}/images",
            f"{base}/images/detail",
            f"{base}/images/{image.pk}",
            f"{base}/images/{image.pk}/metadata",
            f"{base}/flavors",
            f"{base}/flavors/detail",
            f"{base}/flavors/{flavor.pk}",
            f"{base}/os-keypairs",
            f"{base}/os-keypairs/kp1",
            f"{base}/limits",
            f"{base}/os-availability-zone",
        ]
    return [
        *compute,
        "/image/v2/images",
        f"/image/v2/images/{image.pk}",
        "/network/v2.0/networks",
        f"/network/v2.0/networks/{network.pk}",
        f"/network/v2.0/networks?id={network.pk}",
        "/network/v2.0/ports",
        f"/network/v2.0/ports/{nic.pk}",
        f"/network/v2.0/ports?device_id={server.pk}",
        f"/network/v2.0/ports?network_id={network.pk}",
    ]


def test_every_id_in_every_body_and_link_is_canonical(member, world):
    canon = world["canon"]
    for url in _urls(world):
        resp = member.get(url, **LATEST)
        assert resp.status_code == 200, f"{url}: {resp.status_code} {resp.content[:300]}"
        canon.walk(url, resp.json())
    assert not canon.problems, "\n".join(canon.problems)
    assert canon.seen >= {"image", "image_alt", "network", "port", "project", "user", "server"}


def test_server_image_id_is_the_glance_image_id(member, world):
    """What ``openstack server list`` needs to show the image's name: the ids match as strings."""
    glance = {i["id"] for i in member.get("/image/v2/images").json()["images"]}
    for url in ("/compute/v2.1/servers/detail", f"/compute/v2.1/servers/{world['server'].pk}"):
        body = member.get(url, **LATEST).json()
        for server in body.get("servers", [body.get("server")]):
            assert server["image"]["id"] in glance
            assert server["image"]["id"] == str(world["image"].pk)


def test_filters_and_lookups_accept_the_canonical_form(member, world):
    image, network, nic, server = world["image"], world["network"], world["nic"], world["server"]
    listed = member.get(f"/compute/v2.1/servers?image={image.pk}", **LATEST).json()["servers"]
    assert [s["id"] for s in listed] == [str(server.pk)]
    assert member.get(f"/compute/v2.1/servers?image={uuid.uuid4()}", **LATEST).json()["servers"] == []
    ports = member.get(f"/network/v2.0/ports?network_id={network.pk}").json()["ports"]
    # the server's NIC is one of the network's ports (the network may hold others, e.g. its own)
    assert str(nic.pk) in [p["id"] for p in ports]
    assert {p["network_id"] for p in ports} == {str(network.pk)}
    for url in (
        f"/compute/v2.1/images/{image.pk}",
        f"/image/v2/images/{image.pk}",
        f"/network/v2.0/networks/{network.pk}",
        f"/network/v2.0/ports/{nic.pk}",
    ):
        assert member.get(url, **LATEST).status_code == 200, url


@pytest.mark.slow
def test_walk_on_sqlite(tmp_path):
    """The same walk on SQLite, which stores UUIDs as 32 hex digits (the embedded mode)."""
    if os.environ.get("CYCLADES_CANONICAL_IDS_INNER") or "sqlite" in settings.DATABASES["default"]["ENGINE"]:
        pytest.skip("already running on SQLite")
    env = {
        **os.environ,
        "CYCLADES_DATABASE_URL": f"sqlite:///{tmp_path / 'ids.sqlite3'}",
        "CYCLADES_CANONICAL_IDS_INNER": "1",
        "CYCLADES_REQUIRE_SERVICES": "0",
    }
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", "-p", "no:cacheprovider", __file__, "-k", "not sqlite"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert re.search(r"^3 passed", proc.stdout, re.M), proc.stdout[-2000:]
