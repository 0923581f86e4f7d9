"""Nova's floating IP proxy over the Neutron floating IPs (``os-floating-ips``, ``addFloatingIp``)."""

from __future__ import annotations

import pytest

from logic import identity
from logic.models import FloatingIP, Network
from logic.neutron import server_ports
from tests.network.test_neutron_api import make_network, make_subnet

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

C = "/compute/v2.1"


def test_allocate_associate_disassociate_release(member, admin, server):
    public = make_network(admin, name="public", **{"router:external": True})
    make_subnet(admin, public["id"], "203.0.113.0/29")
    private = make_network(member, name="private")
    make_subnet(member, private["id"], "10.0.0.0/24")
    assert member.get(f"{C}/os-floating-ip-pools").json() == {"floating_ip_pools": [{"name": "public"}]}
    assert member.post(f"{C}/os-floating-ips", {"pool": "nope"}, format="json").status_code == 404
    made = member.post(f"{C}/os-floating-ips", {"pool": "public"}, format="json")
    assert made.status_code == 200, made.content
    fip = made.json()["floating_ip"]
    assert fip["pool"] == "public" and fip["instance_id"] is None and fip["ip"].startswith("203.0.113.")
    assert member.get(f"{C}/os-floating-ips").json()["floating_ips"] == [fip]

    url = f"{C}/servers/{server.pk}/action"
    assert member.post(url, {"addFloatingIp": {"address": fip["ip"]}}, format="json").status_code == 400  # no port yet
    ctx = identity.authenticate(member._credentials["HTTP_X_AUTH_TOKEN"])
    port = server_ports.bind(ctx, server, server_ports.NicRequest(network=Network.objects.get(pk=private["id"])))
    assert member.post(url, {"addFloatingIp": {"address": fip["ip"]}}, format="json").status_code == 202
    shown = member.get(f"{C}/os-floating-ips/{fip['id']}").json()["floating_ip"]
    assert shown["instance_id"] == str(server.pk) and shown["fixed_ip"] == port.fixed_ips.get().ip_address
    assert member.post(url, {"addFloatingIp": {"address": "198.51.100.9"}}, format="json").status_code == 404
    assert member.post(url, {"removeFloatingIp": {"address": fip["ip"]}}, format="json").status_code == 202
    assert member.post(url, {"removeFloatingIp": {"address": fip["ip"]}}, format="json").status_code == 409
    assert FloatingIP.objects.get(pk=fip["id"]).port is None
    assert member.delete(f"{C}/os-floating-ips/{fip['id']}").status_code == 202
    assert member.get(f"{C}/os-floating-ips/{fip['id']}").status_code == 404
    assert member.get(f"{C}/os-floating-ips", HTTP_OPENSTACK_API_VERSION="compute 2.36").status_code == 404


def test_tenant_networks_lists_what_the_project_sees(member, other, admin):
    mine = make_network(member, name="mine")
    make_subnet(member, mine["id"], "10.4.0.0/24")
    theirs = make_network(other, name="theirs")
    listed = member.get(f"{C}/os-tenant-networks").json()["networks"]
    assert {"id": mine["id"], "label": "mine", "cidr": "10.4.0.0/24"} in listed
    assert theirs["id"] not in {n["id"] for n in listed}
    assert member.get(f"{C}/os-tenant-networks/{mine['id']}").json()["network"]["label"] == "mine"
    assert member.get(f"{C}/os-tenant-networks/{theirs['id']}").status_code == 404
    assert member.get(f"{C}/os-tenant-networks", HTTP_OPENSTACK_API_VERSION="compute 2.36").status_code == 404
