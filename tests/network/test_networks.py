"""The minimal Neutron view over HTTP: networks (visibility, name lookups, filters) and ports from NICs."""

from __future__ import annotations

import uuid

import pytest
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from logic import networks
from logic.models import ServerNIC
from logic.models.networks import Network
from tests.factories import ServerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def nets(member, other):
    return {
        "public": networks.create(name="public", public=True, link="br-gnt"),
        "private": networks.create(name="private", project=member.project, link="br-gnt"),
        "theirs": networks.create(name="private", project=other.project),
    }


def test_version_document():
    body = APIClient().get("/network").json()
    assert body["versions"][0]["id"] == "v2.0"
    assert body["versions"][0]["links"][0]["href"] == "http://testserver/network/v2.0/"


def test_a_project_sees_public_and_its_own(member, nets):
    body = member.get("/network/v2.0/networks").json()["networks"]
    assert sorted((n["name"], n["router:external"]) for n in body) == [("private", False), ("public", True)]
    own = next(n for n in body if n["name"] == "private")
    assert own["project_id"] == member.project.pk and own["status"] == "ACTIVE" and own["subnets"] == []


def test_name_lookup_is_404_then_filter(member, nets):
    assert member.get("/network/v2.0/networks/private").status_code == 404
    found = member.get("/network/v2.0/networks", {"name": "private"}).json()["networks"]
    assert [n["id"] for n in found] == [str(nets["private"].pk)]
    assert member.get(f"/network/v2.0/networks/{nets['private'].pk}").json()["network"]["name"] == "private"
    assert member.get(f"/network/v2.0/networks/{nets['theirs'].pk}").status_code == 404
    assert member.get(f"/network/v2.0/networks/{uuid.uuid4()}").status_code == 404


def test_filters_and_fields(member, nets):
    external = member.get("/network/v2.0/networks", {"router:external": "true"}).json()["networks"]
    assert [n["name"] for n in external] == ["public"]
    assert member.get("/network/v2.0/networks", {"shared": "maybe"}).status_code == 400
    narrowed = member.get("/network/v2.0/networks?fields=id&fields=name").json()["networks"]
    assert all(set(n) == {"id", "name"} for n in narrowed)
    assert member.get("/network/v2.0/networks/detail").status_code == 200  # kamaki's path


def test_ports_by_device_id(member, other, nets):
    server = ServerFactory(project=member.project, user=member.user_obj)
    nic = ServerNIC.objects.create(
        server=server,
        index=0,
        network_id=str(nets["private"].pk),
        network_name="private",
        mac="aa:00:00:11:22:33",
        ipv4="10.0.0.5",
    )
    ServerNIC.objects.create(server=ServerFactory(project=other.project), index=0, mac="aa:00:00:11:22:34")
    ports = member.get("/network/v2.0/ports", {"device_id": str(server.pk)}).json()["ports"]
    assert len(ports) == 1
    port = ports[0]
    assert port["id"] == str(nic.pk) and port["device_id"] == str(server.pk) and port["network_id"] == str(nets["private"].pk)
    assert port["fixed_ips"] == [{"subnet_id": None, "ip_address": "10.0.0.5"}] and port["mac_address"] == "aa:00:00:11:22:33"
    assert len(member.get("/network/v2.0/ports").json()["ports"]) == 1  # not the other project's
    assert member.get("/network/v2.0/ports", {"device_id": "not-a-server"}).json()["ports"] == []
    assert member.get(f"/network/v2.0/ports/{nic.pk}").json()["port"]["id"] == str(nic.pk)
    assert other.get(f"/network/v2.0/ports/{nic.pk}").status_code == 404


def test_default_network_for_auto(member, nets):
    ctx = type("Ctx", (), {"project": member.project})()
    assert networks.default_for(ctx) == nets["private"]
    networks.create(name="second", project=member.project)
    assert networks.default_for(ctx) == nets["public"]


def test_token_required(nets):
    assert APIClient().get("/network/v2.0/networks").status_code == 401


def test_network_create_command(member, capsys):
    call_command("network-create", "--name", "public", "--public", "--link", "br-gnt")
    public_id = capsys.readouterr().out.strip()
    assert Network.objects.get(pk=public_id).public
    call_command("network-create", "--name", "public", "--public", "--if-missing")
    assert capsys.readouterr().out.strip() == public_id
    call_command("network-create", "--name", "private", "--project", member.project.name, "--link", "br-gnt")
    assert Network.objects.get(pk=capsys.readouterr().out.strip()).project == member.project
    with pytest.raises(CommandError, match="public or shared"):
        call_command("network-create", "--name", "orphan")
    with pytest.raises(CommandError, match="no such project"):
        call_command("network-create", "--name", "x", "--project", "nope")
