"""The node agent end to end on real packets: Ganeti's ifup records taps, API changes reach the kernel.

A "node" namespace holds the bridge; guests are namespaces whose veth peers
stand in for the taps. Each tap is plugged by the ``kvm-vif-bridge`` script the
agent installs, run with the environment Ganeti's KVM hypervisor gives it and
sourcing Ganeti's own ``net-common``. The agent runs in a thread against the
test database (committed transactions: it reads them over its own
connection, woken by PostgreSQL notifications). Every probe has a control.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
import time

import pytest
from django.db import connections

from logic.models import Network, Port
from logic.neutron.node_policy import Listener, snapshot
from netagent import ifup
from netagent.agent import Agent, Node
from tests.network.test_antispoof_netns import BR, in_ns, ping, py, serve_tcp, sh, tcp_open
from tests.network.test_neutron_api import make_network, make_subnet, post

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True), pytest.mark.timeout(240)]

TAG = f"ag{os.getpid() % 100000}"
A, B, EXT = f"{TAG}a", f"{TAG}b", f"{TAG}x"
V2 = "/network/v2.0"


@pytest.fixture
def node(lab, tmp_path):
    """The lab's bridge namespace as a node: ifup installed, an agent thread running; yields a small handle."""
    conf, state = tmp_path / "ganeti", str(tmp_path / "netagent")
    conf.mkdir()
    script = ifup.install(str(conf), state, wait=10)
    handle = AgentThread(state)
    handle.start()
    try:
        yield handle, script
    finally:
        for running in AgentThread.running:
            running.stop()
        AgentThread.running.clear()
        for ns in (A, B, EXT):
            sh("ip", "netns", "del", ns, check=False)


class AgentThread:
    running: list[AgentThread] = []

    def __init__(self, state: str) -> None:
        self.running.append(self)
        self.state = state
        self.agent = Agent(state, snapshot, Node(BR), resync=30)
        self.stopping = False
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        listener = Listener()
        try:
            self.agent.run(listener.wait, stop=lambda: self.stopping, tick=0.1)
        finally:
            listener.close()
            connections.close_all()

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.stopping = True
        self.thread.join(timeout=10)
        assert not self.thread.is_alive()

    def wait_load(self, after: int, timeout: float = 15) -> float:
        """Seconds until the agent loaded rules more than ``after`` times."""
        started = time.monotonic()
        while self.agent.loads <= after:
            assert time.monotonic() - started < timeout, "the agent did not reload"
            time.sleep(0.05)
        return time.monotonic() - started


def guest(ns: str, mac: str, ip: str, gateway: str | None = None) -> str:
    """A guest namespace with eth0 (MAC, IP); its peer (the "tap") is left, down, in the node namespace."""
    sh("ip", "netns", "add", ns)
    tap = f"{ns}t"
    sh("ip", "link", "add", tap, "netns", BR, "type", "veth", "peer", "name", "eth0", "netns", ns)
    in_ns(ns, "sysctl", "-qw", "net.ipv6.conf.eth0.accept_dad=0")
    in_ns(ns, "ip", "link", "set", "eth0", "address", mac)
    in_ns(ns, "ip", "addr", "add", f"{ip}/24", "dev", "eth0")
    in_ns(ns, "ip", "link", "set", "eth0", "up")
    in_ns(ns, "ip", "link", "set", "lo", "up")
    if gateway:
        in_ns(ns, "ip", "route", "add", "default", "via", gateway)
    return tap


def ganeti_ifup(
    script: str, tap: str, mac: str, ip: str, instance: str, index: int = 0, link: str = "br0"
) -> subprocess.CompletedProcess:
    """Run the installed hook as Ganeti's kvm-ifup does (hv_base.ConfigureNIC's environment), on the node."""
    env = {
        "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "INSTANCE": instance,
        "MAC": mac,
        "MODE": "bridged",
        "INTERFACE": tap,
        "INTERFACE_INDEX": str(index),
        "INTERFACE_UUID": f"uuid-{instance}-{index}",
        "TAGS": "",
        "IP": ip,
        "LINK": link,
        "BRIDGE": link,
    }
    args = ["ip", "netns", "exec", BR, "env", "-i", *(f"{k}={v}" for k, v in env.items()), "bash", script]
    return subprocess.run(args, capture_output=True, text=True, timeout=30)


def port_with(member, network_id: str, ip: str, group: str) -> dict:
    body = post(member, "ports", "port", network_id=network_id, fixed_ips=[{"ip_address": ip}], security_groups=[group])
    assert body.status_code == 201, body.content
    return body.json()["port"]


def rule(member, group: str, **body) -> str:
    made = post(member, "security-group-rules", "security_group_rule", security_group_id=group, direction="ingress", **body)
    assert made.status_code == 201, made.content
    return made.json()["security_group_rule"]["id"]


def test_agent_follows_taps_and_security_group_changes_on_real_packets(node, member):
    handle, script = node
    network = make_network(member, name="agentlab")
    make_subnet(member, network["id"], "10.0.0.0/24", gateway_ip="10.0.0.1")
    group = post(member, "security-groups", "security_group", name="web").json()["security_group"]["id"]
    rule(member, group, protocol="icmp")
    ssh = rule(member, group, protocol="tcp", port_range_min=22, port_range_max=22)
    pa = port_with(member, network["id"], "10.0.0.5", group)
    pb = port_with(member, network["id"], "10.0.0.6", group)
    taps = {A: guest(A, pa["mac_address"], "10.0.0.5"), B: guest(B, pb["mac_address"], "10.0.0.6")}

    # Ganeti's ifup: the tap is recorded, the agent loads rules naming it, then Ganeti's net-common bridges it
    for n, (ns, port, ip) in enumerate(((A, pa, "10.0.0.5"), (B, pb, "10.0.0.6"))):
        started = time.monotonic()
        done = ganeti_ifup(script, taps[ns], port["mac_address"], ip, f"{TAG}-vm{n}")
        assert done.returncode == 0, done.stderr
        assert "no rules" not in done.stderr, done.stderr  # it did not have to give up waiting
        assert time.monotonic() - started < 10
    assert ifup.loaded_ifaces(handle.state) == set(taps.values())
    master = in_ns(BR, "ip", "-o", "link", "show", taps[A]).stdout
    assert "master br0" in master and "LOWER_UP" in master

    assert ping(A, "10.0.0.6")
    server = serve_tcp(B, [22, 23])
    try:
        assert tcp_open(A, "10.0.0.6", 22) and not tcp_open(A, "10.0.0.6", 23)

        # a rule added through the API opens port 23 on the wire
        loads = handle.agent.loads
        telnet = rule(member, group, protocol="tcp", port_range_min=23, port_range_max=23)
        latency = handle.wait_load(loads)
        print(f"API rule create -> rules loaded: {latency * 1000:.0f} ms")
        assert tcp_open(A, "10.0.0.6", 23) and tcp_open(A, "10.0.0.6", 22)

        # a rule deleted through the API closes port 22
        loads = handle.agent.loads
        assert member.delete(f"{V2}/security-group-rules/{ssh}").status_code == 204
        handle.wait_load(loads)
        assert not tcp_open(A, "10.0.0.6", 22) and tcp_open(A, "10.0.0.6", 23)

        # the port leaves the group: nothing but replies reaches B (ICMP included); A's own group still allows ICMP
        loads = handle.agent.loads
        changed = member.put(f"{V2}/ports/{pb['id']}", {"port": {"security_groups": []}}, format="json")
        assert changed.status_code == 200, changed.content
        handle.wait_load(loads)
        assert not ping(A, "10.0.0.6") and not tcp_open(A, "10.0.0.6", 23)
        assert member.put(f"{V2}/ports/{pb['id']}", {"port": {"security_groups": [group]}}, format="json").status_code == 200
        handle.wait_load(loads + 1)
        assert ping(A, "10.0.0.6")

        # a restarted agent rebuilds the same rules from the records on disk and the database
        before = handle.agent.loaded
        handle.stop()
        restarted = AgentThread(handle.state)
        restarted.start()
        restarted.wait_load(0)
        assert restarted.agent.loaded == before
        assert tcp_open(A, "10.0.0.6", 23) and not tcp_open(A, "10.0.0.6", 22)
        member.delete(f"{V2}/security-group-rules/{telnet}")
        restarted.wait_load(1)
        assert not tcp_open(A, "10.0.0.6", 23)
    finally:
        server.kill()

    # the VM goes (its tap disappears): the record is forgotten and its chains leave the rule set
    loads = restarted.agent.loads
    in_ns(BR, "ip", "link", "del", taps[B])
    restarted.wait_load(loads)
    assert ifup.loaded_ifaces(restarted.state) == {taps[A]}
    assert f'"{taps[B]}"' not in restarted.agent.loaded


def test_unknown_tap_is_quarantined(node, member):
    handle, script = node
    network = make_network(member, name="q")
    make_subnet(member, network["id"], "10.0.0.0/24", gateway_ip="10.0.0.1")
    pa = post(member, "ports", "port", network_id=network["id"], fixed_ips=[{"ip_address": "10.0.0.5"}]).json()["port"]
    taps = {A: guest(A, pa["mac_address"], "10.0.0.5"), B: guest(B, "aa:01:00:99:99:99", "10.0.0.9")}
    assert ganeti_ifup(script, taps[A], pa["mac_address"], "10.0.0.5", "vm-a").returncode == 0
    assert ganeti_ifup(script, taps[B], "aa:01:00:99:99:99", "10.0.0.9", "vm-x").returncode == 0
    assert not Port.objects.filter(mac="aa:01:00:99:99:99").exists()
    assert not ping(B, "10.0.0.5")  # no port: pinned and without rules, it sends nothing anywhere
    assert not ping(A, "10.0.0.9")


LISTEN_UDP = """
    import socket
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("", 5000)); s.settimeout(5)
    try:
        print(s.recvfrom(100)[1][0])
    except TimeoutError:
        print("nothing")
"""


def udp_source_seen(sender: str, target: str) -> str:
    """The source address the outside sees for UDP that ``sender`` sends to ``target``:5000."""
    listener = subprocess.Popen(
        ["ip", "netns", "exec", EXT, sys.executable, "-c", textwrap.dedent(LISTEN_UDP)], stdout=subprocess.PIPE, text=True
    )
    time.sleep(0.5)
    send = f"""
    import socket, time
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for _ in range(5):
        s.sendto(b"x", ("{target}", 5000)); time.sleep(0.2)
    """
    py(sender, send)
    return listener.communicate(timeout=10)[0].strip()


def test_floating_ip_nat_follows_associate_and_disassociate(node, member, admin):
    handle, script = node
    public = make_network(admin, name="public", **{"router:external": True})
    make_subnet(admin, public["id"], "203.0.113.0/24", gateway_ip="203.0.113.1")
    network = make_network(member, name="fiplab")
    make_subnet(member, network["id"], "10.0.0.0/24", gateway_ip="10.0.0.1")
    group = post(member, "security-groups", "security_group", name="ssh").json()["security_group"]["id"]
    rule(member, group, protocol="tcp", port_range_min=22, port_range_max=22, remote_ip_prefix="0.0.0.0/0")
    pa = port_with(member, network["id"], "10.0.0.5", group)
    tap = guest(A, pa["mac_address"], "10.0.0.5", gateway="10.0.0.1")
    assert ganeti_ifup(script, tap, pa["mac_address"], "10.0.0.5", "vm-fip").returncode == 0

    # the outside: a client on the external segment, which routes floating IPs to the node
    sh("ip", "netns", "add", EXT)
    sh("ip", "link", "add", "ext0", "netns", BR, "type", "veth", "peer", "name", "eth0", "netns", EXT)
    in_ns(BR, "ip", "addr", "add", "203.0.113.1/24", "dev", "ext0")
    in_ns(BR, "ip", "link", "set", "ext0", "up")
    in_ns(BR, "sysctl", "-qw", "net.ipv4.ip_forward=1")
    in_ns(EXT, "ip", "addr", "add", "203.0.113.100/24", "dev", "eth0")
    in_ns(EXT, "ip", "link", "set", "eth0", "up")

    fip = post(member, "floatingips", "floatingip", floating_network_id=public["id"]).json()["floatingip"]
    address = fip["floating_ip_address"]
    in_ns(EXT, "ip", "route", "add", f"{address}/32", "via", "203.0.113.1")
    server = serve_tcp(A, [22, 23])
    try:
        assert not tcp_open(EXT, address, 22)  # not associated: nothing answers
        assert udp_source_seen(A, "203.0.113.100") == "10.0.0.5"  # the control: routed, not translated

        loads = handle.agent.loads
        body = {"floatingip": {"port_id": pa["id"]}}
        assert member.put(f"{V2}/floatingips/{fip['id']}", body, format="json").status_code == 200
        handle.wait_load(loads)
        assert tcp_open(EXT, address, 22)  # DNAT to 10.0.0.5, the group's rule allows 22 ...
        assert not tcp_open(EXT, address, 23)  # ... and only 22: security groups hold on routed traffic too
        assert udp_source_seen(A, "203.0.113.100") == address  # SNAT: the guest goes out as its floating IP

        loads = handle.agent.loads
        body = {"floatingip": {"port_id": None}}
        assert member.put(f"{V2}/floatingips/{fip['id']}", body, format="json").status_code == 200
        handle.wait_load(loads)
        assert not tcp_open(EXT, address, 22)
        assert udp_source_seen(A, "203.0.113.100") == "10.0.0.5"
        assert "dnat to 10.0.0.5" not in handle.agent.loaded
    finally:
        server.kill()


SNIFF = """
    import socket, sys, time
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3)); s.bind(("eth0", 0)); s.settimeout(0.2)
    source, seen, deadline = bytes.fromhex(sys.argv[1].replace(":", "")), 0, time.monotonic() + 4
    print("ready", flush=True)
    while time.monotonic() < deadline:
        try:
            seen += s.recv(2000)[6:12] == source
        except TimeoutError:
            pass
    print(seen)
"""


def sniff(ns: str, mac: str) -> subprocess.Popen:
    """Count the frames from ``mac`` that reach ``ns``'s eth0 over 4 s."""
    proc = subprocess.Popen(
        ["ip", "netns", "exec", ns, sys.executable, "-c", textwrap.dedent(SNIFF), mac], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout.readline().strip() == "ready"
    return proc


def test_each_private_network_has_its_own_bridge_and_projects_do_not_share_l2(node, member, other, settings, tmp_path):
    handle, _ = node
    prefix = f"n{os.getpid() % 10000}"
    settings.CYCLADES = {**settings.CYCLADES, "NETWORK_BRIDGE_PREFIX": prefix}
    script = ifup.install(str(tmp_path / "ganeti"), handle.state, bridge_prefix=prefix, wait=10)
    nets = {}
    for client, label in ((member, "mine"), (other, "theirs")):
        body = make_network(client, name=label)
        make_subnet(client, body["id"], "10.0.0.0/24")  # the same range in both projects
        nets[label] = body["id"]
    link = {label: Network.objects.get(pk=pk).ganeti_link for label, pk in nets.items()}
    assert link["mine"] != link["theirs"] and all(v.startswith(prefix) for v in link.values())
    # no port security: what keeps the projects apart here is the bridges alone, not the rules
    plan = ((A, member, "mine", "10.0.0.5"), (B, member, "mine", "10.0.0.6"), (EXT, other, "theirs", "10.0.0.7"))
    macs = {}
    for n, (ns, client, label, ip) in enumerate(plan):
        body = {"network_id": nets[label], "fixed_ips": [{"ip_address": ip}], "port_security_enabled": False}
        port = post(client, "ports", "port", **body)
        assert port.status_code == 201, port.content
        macs[ns] = port.json()["port"]["mac_address"]
        tap = guest(ns, macs[ns], ip)
        env_link = link[label]
        done = ganeti_ifup(script, tap, macs[ns], ip, f"vm{n}", link=env_link)
        assert done.returncode == 0, done.stderr
        assert f"master {env_link}" in in_ns(BR, "ip", "-o", "link", "show", tap).stdout  # the ifup made the bridge

    same, foreign = sniff(B, macs[A]), sniff(EXT, macs[A])
    assert ping(A, "10.0.0.6")  # the control: same network, same bridge
    assert not ping(A, "10.0.0.7")  # another project's guest, same range, another bridge: unreachable
    assert int(same.communicate(timeout=15)[0]) > 0
    assert int(foreign.communicate(timeout=15)[0]) == 0  # not one frame of A's (not even its ARP broadcasts)
