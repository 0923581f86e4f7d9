"""Quotas of subnets, ports and security groups in the commission ledger; Neutron's /quotas; exact under races."""

from __future__ import annotations

import threading

import pytest
from django.db import connections

from logic import quotas
from logic.enums import QuotaResource
from logic.models import Port, SecurityGroup, Subnet
from tests.network.test_neutron_api import V2, error, make_network, make_subnet, post

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def used(project, resource: str) -> int:
    return quotas.usage(project)[resource].in_use


def test_subnets_ports_and_groups_are_counted_freed_and_refused_over_the_limit(member):
    project = member.project
    network = make_network(member, name="q")
    subnet = make_subnet(member, network["id"], "10.9.0.0/24")
    assert used(project, QuotaResource.SUBNETS) == 1
    quotas.set_limits(project, {QuotaResource.SUBNETS: 1, QuotaResource.PORTS: 2, QuotaResource.SECURITY_GROUPS: 2})
    message = error(
        post(member, "subnets", "subnet", network_id=network["id"], cidr="10.9.1.0/24", ip_version=4), 409, "OverQuota"
    )
    assert message == "Quota exceeded for resources: ['subnet']." and Subnet.objects.filter(network_id=network["id"]).count() == 1

    first = post(member, "ports", "port", network_id=network["id"]).json()["port"]  # makes the default group too
    assert used(project, QuotaResource.PORTS) == 1 and used(project, QuotaResource.SECURITY_GROUPS) == 1
    assert post(member, "ports", "port", network_id=network["id"]).status_code == 201
    error(post(member, "ports", "port", network_id=network["id"], fixed_ips=[{"ip_address": "10.9.0.77"}]), 409, "OverQuota")
    assert Port.objects.filter(project=project).count() == 2
    assert not Port.objects.filter(fixed_ips__ip_address="10.9.0.77").exists()  # no leaked reservation

    assert post(member, "security-groups", "security_group", name="web").status_code == 201
    error(post(member, "security-groups", "security_group", name="db"), 409, "OverQuota")
    assert SecurityGroup.objects.filter(project=project).count() == 2

    assert member.delete(f"{V2}/ports/{first['id']}").status_code == 204
    assert used(project, QuotaResource.PORTS) == 1
    assert post(member, "ports", "port", network_id=network["id"]).status_code == 201  # room again
    for port in Port.objects.filter(project=project):
        assert member.delete(f"{V2}/ports/{port.pk}").status_code == 204
    assert member.delete(f"{V2}/subnets/{subnet['id']}").status_code == 204
    assert used(project, QuotaResource.SUBNETS) == 0 and used(project, QuotaResource.PORTS) == 0
    make_subnet(member, network["id"], "10.9.2.0/24")
    assert member.delete(f"{V2}/networks/{network['id']}").status_code == 204  # its subnets go, and are freed
    assert used(project, QuotaResource.SUBNETS) == 0 and used(project, QuotaResource.PRIVATE_NETWORKS) == 0
    web = SecurityGroup.objects.get(project=project, name="web")
    assert member.delete(f"{V2}/security-groups/{web.pk}").status_code == 204
    assert used(project, QuotaResource.SECURITY_GROUPS) == 1


def test_quotas_api_shows_details_and_lets_admins_change_them(member, other, admin, settings):
    project = member.project.pk
    shown = member.get(f"{V2}/quotas/{project}").json()["quota"]
    assert shown["port"] == settings.CYCLADES["QUOTA_PORTS"] and shown["subnet"] == settings.CYCLADES["QUOTA_SUBNETS"]
    assert set(shown) >= {"network", "subnet", "port", "floatingip", "security_group", "security_group_rule"}
    network = make_network(member, name="d")
    post(member, "ports", "port", network_id=network["id"])
    details = member.get(f"{V2}/quotas/{project}/details").json()["quota"]
    assert details["port"] == {"limit": settings.CYCLADES["QUOTA_PORTS"], "used": 1, "reserved": 0}
    assert details["network"]["used"] == 1 and details["security_group"]["used"] == 1
    assert member.get(f"{V2}/quotas/{project}/default").json()["quota"]["port"] == settings.CYCLADES["QUOTA_PORTS"]

    error(other.get(f"{V2}/quotas/{project}"), 403)
    error(member.put(f"{V2}/quotas/{project}", {"quota": {"port": 5}}, format="json"), 403)
    error(member.get(f"{V2}/quotas"), 403)
    changed = admin.put(f"{V2}/quotas/{project}", {"quota": {"port": 5, "subnet": "7"}}, format="json")
    assert changed.status_code == 200 and changed.json()["quota"]["port"] == 5 and changed.json()["quota"]["subnet"] == 7
    assert {"project_id": project, "port": 5}.items() <= next(
        q for q in admin.get(f"{V2}/quotas").json()["quotas"] if q["project_id"] == project
    ).items()
    error(admin.put(f"{V2}/quotas/{project}", {"quota": {"port": 0}}, format="json"), 409, "OverQuota")  # 1 in use
    error(admin.put(f"{V2}/quotas/{project}", {"quota": {"router": 3}}, format="json"), 400)
    error(admin.put(f"{V2}/quotas/{project}", {"quota": {"port": "many"}}, format="json"), 400)
    assert member.get(f"{V2}/quotas/{project}").json()["quota"]["port"] == 5  # the refused changes changed nothing
    assert admin.delete(f"{V2}/quotas/{project}").status_code == 204
    assert member.get(f"{V2}/quotas/{project}").json()["quota"]["port"] == settings.CYCLADES["QUOTA_PORTS"]
    error(admin.get(f"{V2}/quotas/no-such-project"), 404)


@pytest.mark.django_db(transaction=True)
def test_concurrent_port_creates_never_pass_the_limit(member):
    network = make_network(member, name="race")
    make_subnet(member, network["id"], "10.10.0.0/24")
    post(member, "ports", "port", network_id=network["id"])  # the default group exists before the race
    quotas.set_limits(member.project, {QuotaResource.PORTS: 4})
    statuses: list[int] = []
    start = threading.Barrier(10)

    def create() -> None:
        try:
            start.wait()
            statuses.append(post(member, "ports", "port", network_id=network["id"]).status_code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=create) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(statuses) == [201] * 3 + [409] * 7
    assert Port.objects.filter(project=member.project).count() == 4 == used(member.project, QuotaResource.PORTS)


def test_the_migration_charges_what_existed_before_the_quotas(member):
    import importlib

    from django.apps import apps

    from logic.models import QuotaHolding

    network = make_network(member, name="old")
    make_subnet(member, network["id"], "10.11.0.0/24")
    post(member, "ports", "port", network_id=network["id"])
    counted = ("cyclades.subnet", "cyclades.port", "cyclades.security_group")
    QuotaHolding.objects.filter(project=member.project, resource__in=counted).update(committed=0)  # as before the quotas
    migration = importlib.import_module("logic.migrations.0023_network_quotas")
    migration.count_existing(apps, None)
    assert [used(member.project, r) for r in counted] == [1, 1, 1]  # the subnet, the port, the default group
