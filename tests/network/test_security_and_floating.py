"""Security groups (the default group and its rules) and floating IPs over HTTP, with quotas."""

from __future__ import annotations

import pytest

from logic import quotas
from logic.enums import QuotaResource
from logic.models import FloatingIP, IPAllocation, Port, SecurityGroup, SecurityGroupRule
from tests.network.test_neutron_api import V2, error, make_network, make_subnet, post

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def fips_used(project) -> int:
    return quotas.usage(project)[QuotaResource.FLOATING_IPS].in_use


def test_every_project_gets_a_default_group_with_neutrons_rules(member, other):
    groups = member.get(f"{V2}/security-groups").json()["security_groups"]
    assert [g["name"] for g in groups] == ["default"]
    rules = {(r["direction"], r["ethertype"], r["remote_group_id"]) for r in groups[0]["security_group_rules"]}
    gid = groups[0]["id"]
    assert rules == {("ingress", "IPv4", gid), ("ingress", "IPv6", gid), ("egress", "IPv4", None), ("egress", "IPv6", None)}
    assert member.get(f"{V2}/security-groups").json()["security_groups"][0]["id"] == gid  # created once
    assert other.get(f"{V2}/security-groups/{gid}").status_code == 404
    error(post(member, "security-groups", "security_group", name="default"), 409, "SecurityGroupDefaultAlreadyExists")
    error(member.delete(f"{V2}/security-groups/{gid}"), 409, "SecurityGroupCannotRemoveDefault")
    assert SecurityGroup.objects.filter(project=member.project).count() == 1


def test_group_and_rule_lifecycle(member, other):
    group = post(member, "security-groups", "security_group", name="web", description="http").json()["security_group"]
    assert sorted(r["ethertype"] for r in group["security_group_rules"]) == ["IPv4", "IPv6"]  # egress rules
    rule = post(member, "security-group-rules", "security_group_rule", security_group_id=group["id"], direction="ingress",
                protocol="tcp", port_range_min=80, port_range_max=443, remote_ip_prefix="192.0.2.0/24").json()  # fmt: skip
    rule = rule["security_group_rule"]
    assert (rule["protocol"], rule["port_range_min"], rule["port_range_max"]) == ("tcp", 80, 443)
    listed = member.get(f"{V2}/security-group-rules", {"security_group_id": group["id"], "direction": "ingress"}).json()
    assert [r["id"] for r in listed["security_group_rules"]] == [rule["id"]]
    same = {"security_group_id": group["id"], "direction": "ingress", "protocol": "tcp", "port_range_min": 80,
            "port_range_max": 443, "remote_ip_prefix": "192.0.2.0/24"}  # fmt: skip
    error(post(member, "security-group-rules", "security_group_rule", **same), 409, "SecurityGroupRuleExists")
    icmp = post(member, "security-group-rules", "security_group_rule", security_group_id=group["id"], direction="ingress",
                protocol="icmp", port_range_min=8, port_range_max=0)  # fmt: skip
    assert icmp.status_code == 201
    count = SecurityGroupRule.objects.count()
    for bad in (
        {"direction": "sideways"},
        {"direction": "ingress", "protocol": "tcp", "port_range_min": 90, "port_range_max": 80},
        {"direction": "ingress", "protocol": "tcp", "port_range_min": 0, "port_range_max": 80},
        {"direction": "ingress", "protocol": "bogus"},
        {"direction": "ingress", "remote_ip_prefix": "2001:db8::/64"},  # IPv4 rule with an IPv6 prefix
        {"direction": "ingress", "remote_ip_prefix": "10.0.0.0/8", "remote_group_id": group["id"]},
        {"direction": "ingress", "protocol": "icmp", "port_range_max": 0},
        {"direction": "ingress", "protocol": "icmpv6"},
    ):
        assert (
            post(member, "security-group-rules", "security_group_rule", security_group_id=group["id"], **bad).status_code == 400
        )
    error(post(other, "security-group-rules", "security_group_rule", security_group_id=group["id"], direction="ingress"), 404)
    assert SecurityGroupRule.objects.count() == count
    assert member.delete(f"{V2}/security-group-rules/{rule['id']}").status_code == 204
    renamed = member.put(f"{V2}/security-groups/{group['id']}", {"security_group": {"name": "www"}}, format="json")
    assert renamed.json()["security_group"]["name"] == "www"


def test_ports_take_groups_and_groups_in_use(member):
    network = make_network(member, name="net")
    make_subnet(member, network["id"], "10.3.0.0/24")
    group = post(member, "security-groups", "security_group", name="db").json()["security_group"]
    port = post(member, "ports", "port", network_id=network["id"], security_groups=[group["id"]]).json()["port"]
    assert port["security_groups"] == [group["id"]]
    error(member.delete(f"{V2}/security-groups/{group['id']}"), 409, "SecurityGroupInUse")
    cleared = member.put(f"{V2}/ports/{port['id']}", {"port": {"security_groups": []}}, format="json").json()["port"]
    assert cleared["security_groups"] == []
    assert member.delete(f"{V2}/security-groups/{group['id']}").status_code == 204


@pytest.fixture
def external(admin):
    network = make_network(admin, name="public", **{"router:external": True})
    subnet = make_subnet(admin, network["id"], "203.0.113.0/29")  # .2-.6
    return network, subnet


def test_floating_ip_allocate_associate_disassociate_release(member, other, external):
    public, _ = external
    fip = post(member, "floatingips", "floatingip", floating_network_id=public["id"]).json()["floatingip"]
    assert fip["floating_ip_address"] == "203.0.113.2" and fip["status"] == "DOWN" and fip["port_id"] is None
    assert fips_used(member.project) == 1
    assert not member.get(f"{V2}/ports", {"network_id": public["id"]}).json()["ports"]  # the holder port is the cloud's
    network = make_network(member, name="net")
    make_subnet(member, network["id"], "10.4.0.0/24")
    port = post(member, "ports", "port", network_id=network["id"]).json()["port"]
    associated = member.put(f"{V2}/floatingips/{fip['id']}", {"floatingip": {"port_id": port["id"]}}, format="json")
    body = associated.json()["floatingip"]
    assert body["port_id"] == port["id"] and body["fixed_ip_address"] == "10.4.0.2" and body["status"] == "ACTIVE"
    second = post(member, "floatingips", "floatingip", floating_network_id=public["id"]).json()["floatingip"]
    error(member.put(f"{V2}/floatingips/{second['id']}", {"floatingip": {"port_id": port["id"]}}, format="json"),
          409, "FloatingIPPortAlreadyAssociated")  # fmt: skip
    found = member.get(f"{V2}/floatingips", {"floating_ip_address": "203.0.113.2"}).json()["floatingips"]
    assert [f["id"] for f in found] == [fip["id"]]
    error(other.put(f"{V2}/floatingips/{fip['id']}", {"floatingip": {"port_id": None}}, format="json"), 404, "FloatingIPNotFound")
    error(other.delete(f"{V2}/floatingips/{fip['id']}"), 404)
    disassociated = member.put(f"{V2}/floatingips/{fip['id']}", {"floatingip": {"port_id": None}}, format="json")
    assert disassociated.json()["floatingip"]["port_id"] is None
    assert member.delete(f"{V2}/floatingips/{fip['id']}").status_code == 204
    assert fips_used(member.project) == 1 and FloatingIP.objects.count() == 1
    again = post(member, "floatingips", "floatingip", floating_network_id=public["id"]).json()["floatingip"]
    assert again["floating_ip_address"] == "203.0.113.2"  # released addresses are reused


def test_floating_ip_bad_input_changes_nothing(member, other, external):
    public, _ = external
    private = make_network(member, name="net")
    make_subnet(member, private["id"], "10.4.0.0/24")
    error(post(member, "floatingips", "floatingip", floating_network_id=private["id"]), 400)
    error(post(member, "floatingips", "floatingip", floating_network_id=public["id"], floating_ip_address="203.0.113.5"), 403)
    their_net = make_network(other, name="theirs")
    make_subnet(other, their_net["id"], "10.9.0.0/24")
    their_port = post(other, "ports", "port", network_id=their_net["id"]).json()["port"]
    error(
        post(member, "floatingips", "floatingip", floating_network_id=public["id"], port_id=their_port["id"]), 404, "PortNotFound"
    )
    for _ in range(5):
        assert post(member, "floatingips", "floatingip", floating_network_id=public["id"]).status_code == 201
    error(post(member, "floatingips", "floatingip", floating_network_id=public["id"]), 409, "IpAddressGenerationFailure")
    assert FloatingIP.objects.count() == 5 and fips_used(member.project) == 5
    assert IPAllocation.objects.filter(subnet__network_id=public["id"]).count() == 5
    assert Port.objects.filter(network_id=public["id"]).count() == 5
    error(member.delete(f"{V2}/networks/{public['id']}"), 403)


def test_floating_ip_quota(member, external, settings):
    public, _ = external
    quotas.set_limits(member.project, {QuotaResource.FLOATING_IPS: 1})
    assert post(member, "floatingips", "floatingip", floating_network_id=public["id"]).status_code == 201
    response = post(member, "floatingips", "floatingip", floating_network_id=public["id"])
    assert response.status_code == 409 and response.json()["NeutronError"]["type"] == "OverQuota"
    assert "floatingip" in response.json()["NeutronError"]["message"]
    assert FloatingIP.objects.count() == 1 and IPAllocation.objects.filter(subnet__network_id=public["id"]).count() == 1
