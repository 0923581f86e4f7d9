"""The writable Neutron v2.0 API over HTTP: networks, subnets (v4 and SLAAC v6), ports, bad input changing nothing."""

from __future__ import annotations

import ipaddress
import uuid

import pytest

from logic import quotas
from logic.enums import QuotaResource
from logic.models import IPAllocation, Network, Port, Subnet
from logic.neutron import ipam

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

V2 = "/network/v2.0"


def post(client, collection: str, singular: str, **body):
    return client.post(f"{V2}/{collection}", {singular: body}, format="json")


def make_network(client, **body) -> dict:
    response = post(client, "networks", "network", **body)
    assert response.status_code == 201, response.content
    return response.json()["network"]


def make_subnet(client, network_id: str, cidr: str, **body) -> dict:
    body.setdefault("ip_version", ipaddress.ip_network(cidr).version)
    response = post(client, "subnets", "subnet", network_id=network_id, cidr=cidr, **body)
    assert response.status_code == 201, response.content
    return response.json()["subnet"]


def error(response, status: int, kind: str | None = None) -> str:
    assert response.status_code == status, response.content
    body = response.json()["NeutronError"]
    if kind is not None:
        assert body["type"] == kind, body
    return body["message"]


def used(project) -> int:
    return quotas.usage(project)[QuotaResource.PRIVATE_NETWORKS].in_use


# ------------------------------------------------------------------- networks
def test_private_network_create_show_update_delete(member, other):
    network = make_network(member, name="net1", mtu=1400)
    assert network["project_id"] == member.project.pk and network["shared"] is False and network["mtu"] == 1400
    assert network["router:external"] is False and network["subnets"] == [] and network["status"] == "ACTIVE"
    assert used(member.project) == 1
    shown = member.get(f"{V2}/networks/{network['id']}").json()["network"]
    assert shown == network
    assert other.get(f"{V2}/networks/{network['id']}").status_code == 404  # private
    updated = member.put(f"{V2}/networks/{network['id']}", {"network": {"name": "renamed"}}, format="json").json()["network"]
    assert updated["name"] == "renamed" and updated["revision_number"] == network["revision_number"] + 1
    assert Network.objects.get(pk=network["id"]).ganeti_network == ""  # made in Ganeti when a server first uses it
    assert member.delete(f"{V2}/networks/{network['id']}").status_code == 204
    assert member.get(f"{V2}/networks/{network['id']}").status_code == 404
    assert used(member.project) == 0


def test_shared_and_external_are_admin_only(member, admin, other):
    error(post(member, "networks", "network", name="x", shared=True), 403, "PolicyNotAuthorized")
    error(post(member, "networks", "network", name="x", **{"router:external": True}), 403, "PolicyNotAuthorized")
    assert not Network.objects.filter(name="x").exists() and used(member.project) == 0
    shared = make_network(admin, name="shared1", shared=True, project_id=other.project.pk)
    assert shared["project_id"] == other.project.pk
    assert member.get(f"{V2}/networks/{shared['id']}").json()["network"]["shared"] is True
    external = make_network(admin, name="ext1", **{"router:external": True})
    listed = member.get(f"{V2}/networks", {"router:external": "true"}).json()["networks"]
    assert [n["id"] for n in listed] == [external["id"]]


def test_bad_network_input_is_400_and_changes_nothing(member):
    error(post(member, "networks", "network", name="x", mtu=20), 400, "InvalidInput")
    error(post(member, "networks", "network", name="x", bogus=1), 400, "HTTPBadRequest")
    error(post(member, "networks", "network", name="x", project_id="someone-else"), 403)
    assert member.post(f"{V2}/networks", {"net": {}}, format="json").status_code == 400
    assert not Network.objects.filter(name="x").exists() and used(member.project) == 0


def test_reader_may_not_create(reader):
    assert post(reader, "networks", "network", name="x").status_code == 403


def test_bulk_create_is_all_or_nothing(member):
    response = member.post(f"{V2}/networks", {"networks": [{"name": "a"}, {"name": "b"}]}, format="json")
    assert response.status_code == 201 and [n["name"] for n in response.json()["networks"]] == ["a", "b"]
    bad = member.post(f"{V2}/networks", {"networks": [{"name": "c"}, {"name": "d", "mtu": 1}]}, format="json")
    assert bad.status_code == 400 and not Network.objects.filter(name="c").exists() and used(member.project) == 2


def test_list_filters_fields_sorting_paging_and_tags(member):
    ids = [make_network(member, name=f"n{i}")["id"] for i in range(3)]
    body = member.get(f"{V2}/networks", {"sort_key": "name", "sort_dir": "desc", "limit": 2}).json()
    assert [n["name"] for n in body["networks"]] == ["n2", "n1"] and body["networks_links"][0]["rel"] == "next"
    rest = member.get(body["networks_links"][0]["href"]).json()["networks"]
    assert [n["name"] for n in rest] == ["n0"]
    assert member.put(f"{V2}/networks/{ids[0]}/tags", {"tags": ["red", "blue"]}, format="json").json() == {
        "tags": ["red", "blue"]
    }
    assert member.put(f"{V2}/networks/{ids[1]}/tags/red").status_code == 201
    red = member.get(f"{V2}/networks", {"tags": "red", "fields": ["id"]}).json()["networks"]
    assert sorted(n["id"] for n in red) == sorted(ids[:2]) and all(set(n) == {"id"} for n in red)
    assert member.get(f"{V2}/networks", {"tags": "red,blue"}).json()["networks"][0]["id"] == ids[0]
    assert member.delete(f"{V2}/networks/{ids[1]}/tags/green").status_code == 404
    assert member.get(f"{V2}/networks", {"name": "n1"}).json()["networks"][0]["id"] == ids[1]


# -------------------------------------------------------------------- subnets
def test_ipv4_subnet_defaults_and_options(member):
    network = make_network(member, name="net")
    subnet = make_subnet(member, network["id"], "10.10.0.0/24", name="s4")
    assert subnet["gateway_ip"] == "10.10.0.1" and subnet["allocation_pools"] == [{"start": "10.10.0.2", "end": "10.10.0.254"}]
    assert subnet["enable_dhcp"] is True and subnet["dns_nameservers"] == [] and subnet["ipv6_address_mode"] is None
    assert member.get(f"{V2}/networks/{network['id']}").json()["network"]["subnets"] == [subnet["id"]]
    custom = make_subnet(
        member, network["id"], "10.20.0.0/24", gateway_ip="10.20.0.254", dns_nameservers=["9.9.9.9", "1.1.1.1"],
        allocation_pools=[{"start": "10.20.0.100", "end": "10.20.0.110"}],
        host_routes=[{"destination": "192.168.0.0/16", "nexthop": "10.20.0.254"}], enable_dhcp=False,
    )  # fmt: skip
    assert custom["gateway_ip"] == "10.20.0.254" and custom["dns_nameservers"] == ["9.9.9.9", "1.1.1.1"]
    assert custom["host_routes"] == [{"destination": "192.168.0.0/16", "nexthop": "10.20.0.254"}]
    assert custom["allocation_pools"] == [{"start": "10.20.0.100", "end": "10.20.0.110"}] and custom["enable_dhcp"] is False
    updated = member.put(f"{V2}/subnets/{custom['id']}", {"subnet": {"dns_nameservers": ["8.8.8.8"], "name": "c"}}, format="json")
    assert updated.json()["subnet"]["dns_nameservers"] == ["8.8.8.8"]
    error(member.put(f"{V2}/subnets/{custom['id']}", {"subnet": {"cidr": "10.0.0.0/8"}}, format="json"), 400)
    no_gateway = make_subnet(member, network["id"], "10.30.0.0/29", gateway_ip=None)
    assert no_gateway["gateway_ip"] is None and no_gateway["allocation_pools"] == [{"start": "10.30.0.1", "end": "10.30.0.6"}]


@pytest.mark.parametrize(
    ("body", "kind"),
    [
        ({"cidr": "10.10.0.0/16"}, "InvalidInput"),  # overlaps 10.10.0.0/24 on the same network
        ({"cidr": "10.99.0.5/24"}, "InvalidInput"),  # host bits set
        ({"cidr": "banana"}, "InvalidInput"),
        ({"cidr": "10.99.0.0/24", "ip_version": 6}, "InvalidInput"),
        ({"cidr": "10.99.0.0/24", "gateway_ip": "10.99.0.0"}, "InvalidInput"),
        ({"cidr": "10.99.0.0/24", "allocation_pools": [{"start": "10.99.0.2", "end": "10.98.0.9"}]}, "InvalidInput"),
        ({"cidr": "10.99.0.0/24", "allocation_pools": [{"start": "10.99.0.1", "end": "10.99.0.9"}]},
         "GatewayConflictWithAllocationPools"),
        ({"cidr": "10.99.0.0/24", "dns_nameservers": ["1.1.1.1", "1.1.1.1"]}, "InvalidInput"),
        ({"cidr": "10.99.0.0/24", "dns_nameservers": ["not-an-ip"]}, "InvalidInput"),
        ({"cidr": "10.99.0.0/24", "host_routes": [{"destination": "x", "nexthop": "10.99.0.1"}]}, "InvalidInput"),
        ({"cidr": "2001:db8::/48", "ip_version": 6, "ipv6_address_mode": "slaac"}, "InvalidInput"),  # SLAAC needs /64
        ({"cidr": "2001:db8::/64", "ip_version": 6, "ipv6_address_mode": "slaac", "ipv6_ra_mode": "dhcpv6-stateful"},
         "InvalidInput"),
        ({"cidr": "10.99.0.0/24", "ipv6_address_mode": "slaac"}, "InvalidInput"),
    ],
)  # fmt: skip
def test_bad_subnets_are_400_or_409_and_change_nothing(member, body, kind):
    network = make_network(member, name="net")
    make_subnet(member, network["id"], "10.10.0.0/24")
    body.setdefault("ip_version", 4)
    response = post(member, "subnets", "subnet", network_id=network["id"], **body)
    assert response.status_code in (400, 409)
    error(response, response.status_code, kind)
    assert Subnet.objects.filter(network_id=network["id"]).count() == 1


def test_subnets_only_on_own_networks(member, other, admin):
    theirs = make_network(other, name="theirs")
    error(post(member, "subnets", "subnet", network_id=theirs["id"], cidr="10.0.0.0/24", ip_version=4), 404, "NetworkNotFound")
    shared = make_network(admin, name="shared", shared=True, project_id=other.project.pk)
    error(post(member, "subnets", "subnet", network_id=shared["id"], cidr="10.0.0.0/24", ip_version=4), 403)
    assert not Subnet.objects.exists()


def test_ipv6_slaac_port_gets_its_eui64_address(member):
    network = make_network(member, name="dual")
    v4 = make_subnet(member, network["id"], "10.1.0.0/24")
    v6 = make_subnet(member, network["id"], "2001:db8:1::/64", ipv6_address_mode="slaac", ipv6_ra_mode="slaac")
    assert v6["gateway_ip"] == "2001:db8:1::1" and v6["ipv6_address_mode"] == "slaac"
    port = post(member, "ports", "port", network_id=network["id"]).json()["port"]
    by_subnet = {ip["subnet_id"]: ip["ip_address"] for ip in port["fixed_ips"]}
    assert by_subnet[v4["id"]] == "10.1.0.2"
    assert by_subnet[v6["id"]] == ipam.eui64("2001:db8:1::/64", port["mac_address"])
    mac = port["mac_address"]
    expected = ipaddress.IPv6Address("2001:db8:1::") + int(
        f"{int(mac[:2], 16) ^ 2:02x}{mac[3:5]}{mac[6:8]}fffe{mac[9:11]}{mac[12:14]}{mac[15:17]}", 16
    )
    assert by_subnet[v6["id"]] == str(expected)
    error(
        post(
            member, "ports", "port", network_id=network["id"], fixed_ips=[{"subnet_id": v6["id"], "ip_address": "2001:db8:1::5"}]
        ),
        400,
    )


def test_eui64_known_value():
    assert ipam.eui64("fe80::/64", "52:54:00:12:34:56") == "fe80::5054:ff:fe12:3456"


# ---------------------------------------------------------------------- ports
def test_port_fixed_ips_requested_allocated_and_errors(member, other):
    network = make_network(member, name="net")
    subnet = make_subnet(member, network["id"], "10.5.0.0/29")  # pool .2-.6: five addresses
    first = post(member, "ports", "port", network_id=network["id"], name="p1").json()["port"]
    assert first["fixed_ips"] == [{"subnet_id": subnet["id"], "ip_address": "10.5.0.2"}]
    assert first["mac_address"].startswith("aa:01:00:") and first["status"] == "DOWN"
    assert len(first["security_groups"]) == 1  # the project's default group
    asked = post(member, "ports", "port", network_id=network["id"], fixed_ips=[{"ip_address": "10.5.0.6"}]).json()["port"]
    assert asked["fixed_ips"][0]["ip_address"] == "10.5.0.6"
    error(
        post(member, "ports", "port", network_id=network["id"], fixed_ips=[{"ip_address": "10.5.0.6"}]),
        409,
        "IpAddressAlreadyAllocated",
    )
    error(
        post(member, "ports", "port", network_id=network["id"], fixed_ips=[{"ip_address": "10.6.0.3"}]),
        400,
        "InvalidIpForNetwork",
    )
    error(post(member, "ports", "port", network_id=network["id"],
               fixed_ips=[{"subnet_id": subnet["id"], "ip_address": "10.9.0.3"}]), 400, "InvalidIpForSubnet")  # fmt: skip
    error(post(other, "ports", "port", network_id=network["id"]), 404, "NetworkNotFound")
    for _ in range(3):
        assert post(member, "ports", "port", network_id=network["id"]).status_code == 201
    error(post(member, "ports", "port", network_id=network["id"]), 409, "IpAddressGenerationFailure")
    assert Port.objects.count() == 5 and IPAllocation.objects.count() == 5  # nothing leaked by the failures
    updated = member.put(f"{V2}/ports/{first['id']}", {"port": {"name": "renamed", "fixed_ips": []}}, format="json").json()[
        "port"
    ]
    assert updated["name"] == "renamed" and updated["fixed_ips"] == []
    assert post(member, "ports", "port", network_id=network["id"]).json()["port"]["fixed_ips"][0]["ip_address"] == "10.5.0.2"


def test_network_and_subnet_in_use(member):
    network = make_network(member, name="net")
    subnet = make_subnet(member, network["id"], "10.7.0.0/24")
    port = post(member, "ports", "port", network_id=network["id"]).json()["port"]
    error(member.delete(f"{V2}/networks/{network['id']}"), 409, "NetworkInUse")
    error(member.delete(f"{V2}/subnets/{subnet['id']}"), 409, "SubnetInUse")
    assert used(member.project) == 1
    assert member.delete(f"{V2}/ports/{port['id']}").status_code == 204
    assert member.delete(f"{V2}/networks/{network['id']}").status_code == 204
    assert not Subnet.objects.filter(pk=subnet["id"]).exists() and used(member.project) == 0


def test_ports_on_shared_and_listing_by_network(member, other, admin):
    shared = make_network(admin, name="shared", shared=True, project_id=other.project.pk)
    make_subnet(admin, shared["id"], "10.8.0.0/24")
    mine = post(member, "ports", "port", network_id=shared["id"]).json()["port"]
    assert mine["project_id"] == member.project.pk
    error(post(member, "ports", "port", network_id=shared["id"], mac_address="aa:bb:cc:00:00:01"), 403)
    assert [p["id"] for p in member.get(f"{V2}/ports", {"network_id": shared["id"]}).json()["ports"]] == [mine["id"]]
    assert other.get(f"{V2}/ports/{mine['id']}").status_code == 404
    found = member.get(f"{V2}/ports", {"fixed_ips": f"ip_address={mine['fixed_ips'][0]['ip_address']}"}).json()["ports"]
    assert [p["id"] for p in found] == [mine["id"]]
    assert member.get(f"{V2}/ports/{uuid.uuid4()}").status_code == 404
