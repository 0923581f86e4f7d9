"""Benchmark: port create and attach throughput, and the nftables rule set of 1,000 NICs on one node.

In one run, interleaved (the machine is shared), on PostgreSQL through the Django
test client (the API's own code path, no HTTP server):

* ``POST /network/v2.0/ports`` (MAC, an IPv4 address from a /16 pool, the default
  security group), next to the baseline ``GET /network/v2.0/networks/{id}``;
* port create + attach to a server (bind, the Ganeti NIC spec: the database side of an
  attach; the ModifyInstance job itself is Ganeti's time and not counted);
* :func:`netagent.rules.render` of 1,000 NICs (policies built from the database by
  :func:`logic.neutron.firewall.policies`), next to ``json.dumps`` of the same policies
  as the baseline, and, as root with nft installed, ``nft -f`` loading it in a scratch
  network namespace, and the node agent's pass over 1,000 taps (veth links there): the
  first, one with nothing changed (database + render, no load) and one after a rule change.

Usage: ``.venv/bin/python benchmarks/networks.py [--ports 300] [--nics 1000]``
(``CYCLADES_BENCH_PG`` as for benchmarks/servers_api.py). Not part of the test suite.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from servers_api import drop_database, make_database, setup_django


def timed(fn) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def summary(label: str, samples: list[float]) -> str:
    p50, p95 = statistics.median(samples), sorted(samples)[int(len(samples) * 0.95) - 1]
    return f"{label:<44} p50 {p50 * 1000:7.2f} ms  p95 {p95 * 1000:7.2f} ms  {1 / statistics.mean(samples):7.1f}/s"


def run(ports: int, nics: int) -> None:
    from rest_framework.test import APIClient

    from logic import identity
    from logic.enums import Role
    from logic.models import Flavor, Image, Membership, Port, Project, Server, User
    from logic.neutron import firewall, ganeti_networks, server_ports
    from netagent.rules import render

    project = Project.objects.create(name="bench")
    from logic import quotas
    from logic.enums import QuotaResource

    quotas.set_limits(project, {QuotaResource.PORTS: -1, QuotaResource.FLOATING_IPS: -1})  # 1,000+ ports
    user = User.objects.create_user(name="bench", password="x" * 12)
    Membership.objects.create(user=user, project=project, role=Role.MEMBER)
    token, _ = identity.issue_token(user, project)
    client = APIClient()
    client.credentials(HTTP_X_AUTH_TOKEN=token)
    network = client.post("/network/v2.0/networks", {"network": {"name": "bench"}}, format="json").json()["network"]
    body = {"subnet": {"network_id": network["id"], "cidr": "10.128.0.0/16", "ip_version": 4}}
    assert client.post("/network/v2.0/subnets", body, format="json").status_code == 201
    ctx = identity.authenticate(token)
    flavor = Flavor.objects.create(name="b", vcpus=1, ram=128, disk=0)
    image = Image.objects.create(name="b", ganeti_os="noop", size=1)
    server = Server.objects.create(name="b", user=user, project=project, flavor=flavor, image=image)

    create, baseline, attach = [], [], []
    for _ in range(ports):
        create.append(timed(lambda: client.post("/network/v2.0/ports", {"port": {"network_id": network["id"]}}, format="json")))
        baseline.append(timed(lambda: client.get(f"/network/v2.0/networks/{network['id']}")))

        attach.append(timed(lambda: _attach(ctx, server, network["id"], server_ports, ganeti_networks)))
    print(summary("baseline GET /networks/{id}", baseline))
    print(summary("POST /ports (MAC, IPv4 from a /16, default SG)", create))
    print(summary("port create + attach (bind, NIC spec)", attach))

    from logic.models import Network

    net = Network.objects.get(pk=network["id"])
    while Port.objects.filter(network=net).count() < nics:
        client.post("/network/v2.0/ports", {"port": {"network_id": network["id"]}}, format="json")
    chosen = list(Port.objects.filter(network=net).prefetch_related("fixed_ips", "security_groups")[:nics])
    names = {p.pk: f"tap{i}" for i, p in enumerate(chosen)}
    build = [timed(lambda: (firewall.policies(chosen, lambda p: names[p.pk]), firewall.remote_groups(chosen))) for _ in range(5)]
    policies = firewall.policies(chosen, lambda p: names[p.pk])
    groups = firewall.remote_groups(chosen)
    rendered, dumped = [], []
    for _ in range(20):
        rendered.append(timed(lambda: render(policies, groups=groups)))
        dumped.append(timed(lambda: json.dumps([dataclasses.asdict(p) for p in policies])))
    text = render(policies, groups=groups)
    print(summary(f"policies of {nics} NICs from the database", build))
    print(summary(f"baseline json.dumps of {nics} policies", dumped))
    print(summary(f"render nftables for {nics} NICs", rendered))
    print(f"rule set: {len(text.splitlines())} lines, {len(text) // 1024} KiB")
    if os.geteuid() == 0 and shutil.which("nft"):
        ns = f"nftbench{os.getpid()}"
        subprocess.run(["ip", "netns", "add", ns], check=True)
        try:
            loads = []
            for _ in range(3):
                started = time.perf_counter()
                subprocess.run(["ip", "netns", "exec", ns, "nft", "-f", "-"], input=text, text=True, check=True)
                loads.append(time.perf_counter() - started)
            print(summary(f"nft -f of the {nics}-NIC rule set", loads))
            _agent(chosen, names, ns)
        finally:
            subprocess.run(["ip", "netns", "del", ns], check=False)


def _agent(chosen, names, ns: str) -> None:
    """The node agent's pass over ``chosen`` as taps (veth links in ``ns``): unchanged, and after a change."""
    from logic.models import SecurityGroupRule
    from logic.neutron.node_policy import snapshot
    from netagent.agent import Agent, Node
    from netagent.taps import Tap, TapStore

    batch = "".join(f"link add {names[p.pk]} type veth peer name {names[p.pk]}p\n" for p in chosen)
    subprocess.run(["ip", "netns", "exec", ns, "ip", "-batch", "-"], input=batch, text=True, check=True)
    with tempfile.TemporaryDirectory() as state:
        store = TapStore(state)
        for p in chosen:
            store.put(Tap(iface=names[p.pk], mac=p.mac, link="br0"))
        agent = Agent(state, snapshot, Node(ns))
        first = timed(agent.sync)
        same = [timed(agent.sync) for _ in range(5)]
        group = chosen[0].security_groups.first()
        changed = []
        for port in range(5):
            SecurityGroupRule.objects.create(group=group, project=group.project, direction="ingress", protocol="tcp",
                                             port_range_min=1000 + port, port_range_max=1000 + port)  # fmt: skip
            changed.append(timed(agent.sync))
        print(summary(f"agent: first sync of {len(chosen)} taps (load)", [first]))
        print(summary("agent: sync, nothing changed (DB + render, no load)", same))
        print(summary("agent: sync after a rule change (DB + render + nft -f)", changed))


def _attach(ctx, server, network_id, server_ports, ganeti_networks) -> None:
    from logic.models import Network

    network = Network.objects.get(pk=network_id)
    port = server_ports.bind(ctx, server, server_ports.NicRequest(network=network))
    ganeti_networks.nic_spec(server_ports.of_server(server).get(pk=port.pk))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ports", type=int, default=300)
    parser.add_argument("--nics", type=int, default=1000)
    args = parser.parse_args()
    os.environ.setdefault("CYCLADES_ALLOWED_HOSTS", "testserver")  # the Django test client's host
    name, url = make_database()
    try:
        with tempfile.TemporaryDirectory() as data:
            setup_django(url, data)
            run(args.ports, args.nics)
    finally:
        from django.db import connections

        connections.close_all()
        drop_database(name)


if __name__ == "__main__":
    main()
