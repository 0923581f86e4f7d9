"""A network becomes a Ganeti network on the real sandbox, lazily, and NICs join it with the port's MAC and IP."""

from __future__ import annotations

import json
import time

import pytest
from django.db import transaction

from logic.models import BackendNetwork, Network
from logic.neutron import ganeti_networks, ports
from tests.network.test_neutron_api import make_network, make_subnet

pytestmark = [pytest.mark.postgres, pytest.mark.ganeti, pytest.mark.django_db, pytest.mark.usefixtures("ganeti_reset")]


def test_network_is_added_connected_and_used_with_job_dependencies(member, sandbox_backend, rapi, wait_job, ganeti_prefix):
    body = make_network(member, name="gnet")
    subnet = make_subnet(member, body["id"], "10.77.0.0/24")
    network = Network.objects.get(pk=body["id"])
    port = ports.create(_ctx(member), {"network_id": body["id"], "fixed_ips": [{"ip_address": "10.77.0.42"}]})
    with transaction.atomic():
        depends = ganeti_networks.ensure(network, sandbox_backend, rapi)
    # the add, then the connect to the one node group (depending on the add): waited for on first use,
    # else left for the instance's job to depend on
    assert len(depends) <= 2
    spec = ganeti_networks.nic_spec(ports.get(_ctx(member), port.pk))
    assert spec == {"mac": port.mac, "name": f"{ganeti_prefix}-nic-{port.pk}", "network": f"{ganeti_prefix}-net-{network.pk}",
                    "ip": "10.77.0.42"}  # fmt: skip
    name = f"{ganeti_prefix}-gnet1"
    job = rapi.create_instance(
        name, disk_template="diskless", nics=[spec], os="noop", beparams={"maxmem": 128, "minmem": 128, "vcpus": 1},
        depends=[[j, ["success"]] for j in depends],
    )  # fmt: skip
    wait_job(job)
    info = rapi.get_network(spec["network"])
    assert info["network"] == "10.77.0.0/24" and info["gateway"] == subnet["gateway_ip"]
    assert [g[0] if isinstance(g, list) else g for g in info["group_list"]][0].startswith("default")
    instance = rapi.get_instance(name)
    assert instance["nic.macs"] == [port.mac] and instance["nic.ips"] == ["10.77.0.42"]
    assert instance["nic.networks.names"] == [spec["network"]]
    with transaction.atomic():
        assert ganeti_networks.ensure(network, sandbox_backend, rapi) == []  # jobs done: ACTIVE, nothing submitted
    assert BackendNetwork.objects.get(network=network).state == BackendNetwork.State.ACTIVE
    assert Network.objects.get(pk=network.pk).ganeti_network == spec["network"]


def test_network_without_ipv4_subnet_has_no_ganeti_network(member, sandbox_backend, rapi):
    body = make_network(member, name="l2only")
    with transaction.atomic():
        assert ganeti_networks.ensure(Network.objects.get(pk=body["id"]), sandbox_backend, rapi) == []
    assert not BackendNetwork.objects.exists()


def _ctx(client):
    from logic import identity

    token = client._credentials["HTTP_X_AUTH_TOKEN"]
    return identity.authenticate(token)


def test_reconcile_networks_finds_and_repairs_a_removed_network(member, sandbox_backend, rapi, wait_job, ganeti_prefix, capsys):
    from django.core.management import call_command

    body = make_network(member, name="drift")
    make_subnet(member, body["id"], "10.78.0.0/24")
    network = Network.objects.get(pk=body["id"])
    with transaction.atomic():
        for job in ganeti_networks.ensure(network, sandbox_backend, rapi):
            wait_job(job)
    name = ganeti_networks.ganeti_name(network)

    def mine(out: str) -> list[dict]:  # earlier tests of the module leave their Ganeti networks (orphans now)
        return [f for f in json.loads(out)[sandbox_backend.name] if f["subject"] == name]

    call_command("reconcile-networks", "--json")
    assert mine(capsys.readouterr().out) == []
    wait_job(rapi.disconnect_network(name, "default"))
    wait_job(rapi.remove_network(name))  # an operator's gnt-network remove
    call_command("reconcile-networks", "--fix", "--json")
    (finding,) = mine(capsys.readouterr().out)
    assert (finding["kind"], finding["subject"], finding["fixed"]) == ("missing", name, True)
    copy = BackendNetwork.objects.get(network=network)
    for job in [copy.add_job_id, *copy.connect_jobs.values()]:
        wait_job(job)
    assert rapi.get_network(name)["network"] == "10.78.0.0/24"
    call_command("reconcile-networks", "--json")
    assert mine(capsys.readouterr().out) == []


def test_deleting_a_network_removes_its_ganeti_network(member, sandbox_backend, rapi, wait_job):
    from logic.backends import client_for

    body = make_network(member, name="gone")
    make_subnet(member, body["id"], "10.79.0.0/24")
    network = Network.objects.get(pk=body["id"])
    with transaction.atomic():
        for job in ganeti_networks.ensure(network, sandbox_backend, rapi):
            wait_job(job)
    name = ganeti_networks.ganeti_name(network)
    assert name in rapi.list_networks()
    assert client_for(sandbox_backend)  # the API's own client reaches the sandbox
    assert member.delete(f"/network/v2.0/networks/{body['id']}").status_code == 204
    deadline = time.monotonic() + 60
    while name in rapi.list_networks():
        assert time.monotonic() < deadline, "the Ganeti network is still there"
        time.sleep(1)
    assert not BackendNetwork.objects.filter(network=network).exists()


def test_a_network_gets_a_bridge_of_its_own_made_by_the_connect_hook(
    member, other, admin, sandbox_backend, rapi, wait_job, ganeti_prefix, settings
):
    """NETWORK_BRIDGE_PREFIX: each private network is connected on its own link; the pre hook makes it on the node."""
    import os
    import subprocess

    from netagent import bridge_hook

    prefix = f"t{os.getpid() % 10000}"
    settings.CYCLADES = {**settings.CYCLADES, "NETWORK_BRIDGE_PREFIX": prefix}
    hook = bridge_hook.install("/etc/ganeti/hooks", prefix, name=f"60-cyclades-bridge-{os.getpid()}")
    made: list[str] = []
    try:
        mine, theirs = make_network(member, name="own"), make_network(other, name="own")
        links = [Network.objects.get(pk=n["id"]).ganeti_link for n in (mine, theirs)]
        assert links[0] != links[1] and all(link.startswith(prefix) and len(link) == 15 for link in links)
        public = make_network(admin, name="pub", **{"router:external": True})
        assert Network.objects.get(pk=public["id"]).ganeti_link == settings.CYCLADES["NETWORK_LINK"]  # the uplink bridge
        make_subnet(member, mine["id"], "10.81.0.0/24")
        network = Network.objects.get(pk=mine["id"])
        port = ports.create(_ctx(member), {"network_id": mine["id"]})
        with transaction.atomic():
            depends = ganeti_networks.ensure(network, sandbox_backend, rapi)
        made.append(links[0])
        spec = ganeti_networks.nic_spec(ports.get(_ctx(member), port.pk))
        name = f"{ganeti_prefix}-br1"
        job = rapi.create_instance(
            name, disk_template="diskless", nics=[spec], os="noop", beparams={"maxmem": 128, "minmem": 128, "vcpus": 1},
            depends=[[j, ["success"]] for j in depends],
        )  # fmt: skip
        wait_job(job)  # Ganeti's bridge check passed: the hook made the bridge on the node before the connect
        assert rapi.get_network(spec["network"])["group_list"] == [["default", "bridged", links[0], ""]]  # gnt-network info
        assert rapi.get_instance(name)["nic.links"] == [links[0]]
        shown = subprocess.run(
            ["ip", "netns", "exec", "gnt", "ip", "-o", "link", "show", links[0]], capture_output=True, text=True
        )
        assert (
            shown.returncode == 0
            and "bridge"
            in subprocess.run(
                ["ip", "netns", "exec", "gnt", "ip", "-d", "-o", "link", "show", links[0]], capture_output=True, text=True
            ).stdout
        )
    finally:
        os.unlink(hook)
        for link in made:
            subprocess.run(["ip", "netns", "exec", "gnt", "ip", "link", "del", link], capture_output=True)
