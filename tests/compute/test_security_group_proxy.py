"""Nova's security group proxy over the Neutron groups (microversions up to 2.35)."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

C = "/compute/v2.1"


def test_groups_and_rules_in_novas_shape_and_errors(member, other):
    made = member.post(f"{C}/os-security-groups", {"security_group": {"name": "web", "description": "w"}}, format="json")
    assert made.status_code == 200, made.content
    group = made.json()["security_group"]
    assert group["rules"] == [] and group["tenant_id"] == member.project.pk  # egress rules are not Nova's
    names = [g["name"] for g in member.get(f"{C}/os-security-groups").json()["security_groups"]]
    assert sorted(names) == ["default", "web"]
    body = {"parent_group_id": group["id"], "ip_protocol": "tcp", "from_port": 22, "to_port": 22, "cidr": "10.0.0.0/8"}
    rule = member.post(f"{C}/os-security-group-rules", {"security_group_rule": body}, format="json")
    assert rule.status_code == 200, rule.content
    assert rule.json()["security_group_rule"]["ip_range"] == {"cidr": "10.0.0.0/8"}
    icmp = {"parent_group_id": group["id"], "ip_protocol": "icmp", "from_port": -1, "to_port": -1}
    shown = member.post(f"{C}/os-security-group-rules", {"security_group_rule": icmp}, format="json").json()
    assert (shown["security_group_rule"]["from_port"], shown["security_group_rule"]["to_port"]) == (-1, -1)
    again = member.post(f"{C}/os-security-group-rules", {"security_group_rule": body}, format="json")
    assert again.status_code == 400  # a duplicate: Nova's 400, Neutron's 409
    for bad in ({**body, "ip_protocol": "gre"}, {**body, "from_port": 30, "to_port": 20}, {**body, "from_port": "x"}):
        assert member.post(f"{C}/os-security-group-rules", {"security_group_rule": bad}, format="json").status_code == 400
    missing = {**body, "parent_group_id": "00000000-0000-0000-0000-000000000000"}
    assert member.post(f"{C}/os-security-group-rules", {"security_group_rule": missing}, format="json").status_code == 404
    assert len(member.get(f"{C}/os-security-groups/{group['id']}").json()["security_group"]["rules"]) == 2
    for name in ("", " ", "x" * 256):
        bad = {"security_group": {"name": name, "description": "d"}}
        assert member.post(f"{C}/os-security-groups", bad, format="json").status_code == 400
    assert other.get(f"{C}/os-security-groups/{group['id']}").status_code == 404
    updated = member.put(f"{C}/os-security-groups/{group['id']}", {"security_group": {"name": "www", "description": "n"}},
                         format="json")  # fmt: skip
    assert updated.status_code == 200 and updated.json()["security_group"]["name"] == "www"
    default = next(g for g in member.get(f"{C}/os-security-groups").json()["security_groups"] if g["name"] == "default")
    assert member.delete(f"{C}/os-security-groups/{default['id']}").status_code == 400
    rule_id = rule.json()["security_group_rule"]["id"]
    assert member.delete(f"{C}/os-security-group-rules/{rule_id}").status_code == 202
    assert member.delete(f"{C}/os-security-groups/{group['id']}").status_code == 202
    assert member.get(f"{C}/os-security-groups/{group['id']}").status_code == 404
    gone = member.get(f"{C}/os-security-groups", HTTP_OPENSTACK_API_VERSION="compute 2.36")
    assert gone.status_code == 404


def test_admins_list_every_projects_groups_with_all_tenants(member, admin):
    mine = member.post(f"{C}/os-security-groups", {"security_group": {"name": "a", "description": "a"}}, format="json")
    theirs = admin.post(f"{C}/os-security-groups", {"security_group": {"name": "b", "description": "b"}}, format="json")
    ids = {mine.json()["security_group"]["id"], theirs.json()["security_group"]["id"]}
    every = {g["id"] for g in admin.get(f"{C}/os-security-groups?all_tenants=true").json()["security_groups"]}
    assert ids <= every
    own = {g["id"] for g in member.get(f"{C}/os-security-groups?all_tenants=true").json()["security_groups"]}
    assert mine.json()["security_group"]["id"] in own and theirs.json()["security_group"]["id"] not in own
