"""Server create with Neutron ports (net-id, v4-fixed-ip, port-id), groups and release, with the Ganeti jobs recorded."""

from __future__ import annotations

import contextlib

import pytest

from logic.models import IPAllocation, Port, Server
from logic.neutron import ganeti_networks, server_ports
from logic.servers import nics

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

V2 = "/network/v2.0"


@pytest.fixture
def ganeti(monkeypatch):
    """The networks' Ganeti side stubbed: every ensure asks the create to depend on jobs 41 and 42."""
    monkeypatch.setattr(nics, "client_for", lambda backend: contextlib.nullcontext(object()))
    monkeypatch.setattr(ganeti_networks, "ensure", lambda network, backend, client: [41, 42])


@pytest.fixture
def net(member):
    network = member.post(f"{V2}/networks", {"network": {"name": "n1"}}, format="json").json()["network"]
    subnet = member.post(f"{V2}/subnets", {"subnet": {"network_id": network["id"], "cidr": "10.60.0.0/29", "ip_version": 4}},
                         format="json").json()["subnet"]  # fmt: skip
    return network, subnet


def create(member, flavor, image, networks, **extra):
    body = {"server": {"name": "vm", "flavorRef": str(flavor.pk), "imageRef": str(image.id), "networks": networks, **extra}}
    return member.post("/compute/v2.1/servers", body, format="json")


def test_net_id_and_fixed_ip_make_ports_and_the_nics_carry_them(member, jobs, backend, flavor, image, net, ganeti):
    network, _ = net
    resp = create(member, flavor, image, [{"uuid": network["id"], "fixed_ip": "10.60.0.5"}, {"uuid": network["id"]}])
    assert resp.status_code == 202, resp.content
    server = Server.objects.get(pk=int(resp.json()["server"]["id"]))
    made = list(Port.objects.filter(server=server).order_by("created_at"))
    assert [p.fixed_ips.get().ip_address for p in made] == ["10.60.0.5", "10.60.0.2"]
    assert all(p.made_for_server and p.device_id == str(server.pk) and p.device_owner == "compute:nova" for p in made)
    (_, args, kwargs) = jobs.calls[0]
    assert kwargs["depends"] == [41, 42]
    assert [(n["mac"], n["ip"]) for n in kwargs["nics"]] == [(p.mac, p.fixed_ips.get().ip_address) for p in made]
    ports = member.get(f"{V2}/ports", {"device_id": str(server.pk)}).json()["ports"]
    assert sorted(p["id"] for p in ports) == sorted(str(p.pk) for p in made) and {p["status"] for p in ports} == {"BUILD"}


def test_a_taken_fixed_ip_is_400_and_nothing_is_created(member, jobs, backend, flavor, image, net, ganeti):
    network, _ = net
    assert create(member, flavor, image, [{"uuid": network["id"], "fixed_ip": "10.60.0.5"}]).status_code == 202
    before = (Server.objects.count(), Port.objects.count(), IPAllocation.objects.count())
    resp = create(member, flavor, image, [{"uuid": network["id"], "fixed_ip": "10.60.0.5"}])
    assert resp.status_code == 400 and "already allocated" in resp.json()["badRequest"]["message"]
    assert (Server.objects.count(), Port.objects.count(), IPAllocation.objects.count()) == before
    assert jobs.names() == ["create_server"]  # no job for the refused one


def test_port_id_binds_the_users_port_and_release_unbinds_it(member, other, jobs, backend, flavor, image, net, ganeti):
    network, _ = net
    port = member.post(f"{V2}/ports", {"port": {"network_id": network["id"], "name": "mine"}}, format="json").json()["port"]
    resp = create(member, flavor, image, [{"port": port["id"]}, {"uuid": network["id"]}])
    assert resp.status_code == 202, resp.content
    server = Server.objects.get(pk=int(resp.json()["server"]["id"]))
    again = create(member, flavor, image, [{"port": port["id"]}])
    assert again.status_code == 409 and Server.objects.count() == 1
    theirs = create(other, flavor, image, [{"port": port["id"]}])
    assert theirs.status_code == 400 and Port.objects.get(pk=port["id"]).server == server
    server_ports.release([server.pk])
    assert list(Port.objects.values_list("pk", "server_id")) == [(Port.objects.get(name="mine").pk, None)]
    assert IPAllocation.objects.count() == 1  # the made port's address is free again


def test_security_groups_on_create_and_the_actions(member, jobs, backend, flavor, image, net, ganeti):
    network, _ = net
    web = member.post(f"{V2}/security-groups", {"security_group": {"name": "web"}}, format="json").json()["security_group"]
    bad = create(member, flavor, image, [{"uuid": network["id"]}], security_groups=[{"name": "nope"}])
    assert bad.status_code == 400 and not Server.objects.exists()
    resp = create(member, flavor, image, [{"uuid": network["id"]}], security_groups=[{"name": "web"}])
    sid = resp.json()["server"]["id"]
    assert str(Port.objects.get(server_id=sid).security_groups.get().pk) == web["id"]

    def act(name, group):
        return member.post(f"/compute/v2.1/servers/{sid}/action", {name: {"name": group}}, format="json")

    assert act("addSecurityGroup", "default").status_code == 202
    shown = member.get(f"/compute/v2.1/servers/{sid}").json()["server"]
    assert shown["security_groups"] == [{"name": "default"}, {"name": "web"}]
    assert act("removeSecurityGroup", "web").status_code == 202
    assert act("removeSecurityGroup", "default").status_code == 202  # the last one: issue 12
    assert "security_groups" not in member.get(f"/compute/v2.1/servers/{sid}").json()["server"]
    assert act("removeSecurityGroup", "default").status_code == 400
    assert act("addSecurityGroup", "missing").status_code == 404


def test_interface_attach_list_and_detach(member, jobs, backend, flavor, image, net, ganeti, monkeypatch):
    from logic import ganeti_jobs
    from logic.models import ServerNIC

    added, removed = [], []
    monkeypatch.setattr(ganeti_jobs, "add_nic", lambda server, extra, depends: added.append((extra, depends)) or 77)
    monkeypatch.setattr(ganeti_jobs, "remove_nic", lambda server, index: removed.append(index) or 78)
    monkeypatch.setattr("logic.neutron.interfaces.client_for", lambda backend: contextlib.nullcontext(object()))
    network, _ = net
    sid = create(member, flavor, image, [{"uuid": network["id"]}]).json()["server"]["id"]
    url = f"/compute/v2.1/servers/{sid}/os-interface"
    assert member.post(url, {"interfaceAttachment": {"net_id": network["id"]}}, format="json").status_code == 409  # BUILD
    Server.objects.filter(pk=sid).update(operstate="STARTED", task=None)
    attached = member.post(url, {"interfaceAttachment": {"net_id": network["id"], "fixed_ips": [{"ip_address": "10.60.0.6"}]}},
                           format="json")  # fmt: skip
    assert attached.status_code == 200, attached.content
    body = attached.json()["interfaceAttachment"]
    assert body["port_state"] == "BUILD" and body["fixed_ips"][0]["ip_address"] == "10.60.0.6" and body["net_id"] == network["id"]
    assert added[0][1] == [41, 42]
    assert added[0][0]["mac"] == body["mac_addr"] and added[0][0]["ip"] == "10.60.0.6"
    listed = member.get(url).json()["interfaceAttachments"]
    assert len(listed) == 2
    ServerNIC.objects.create(server_id=sid, index=1, mac=body["mac_addr"], ipv4="10.60.0.6")  # what Ganeti reports
    assert member.get(f"{url}/{body['port_id']}").json()["interfaceAttachment"]["port_state"] == "ACTIVE"
    assert member.delete(f"{url}/{body['port_id']}").status_code == 202
    assert removed == [1] and not Port.objects.filter(pk=body["port_id"]).exists()
    assert member.delete(f"{url}/{body['port_id']}").status_code == 404
