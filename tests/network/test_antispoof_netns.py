"""The rules rendered from the database, loaded with nft, judged on real packets in network namespaces.

Two guests (namespaces with a veth each, the host ends standing in for tap devices)
on a bridge in a third namespace. Their ports, fixed IPs and security groups are
made through the Neutron API; :mod:`logic.neutron.firewall` turns them into
policies and :mod:`netagent.rules` into the rule set loaded on the bridge's
namespace. Each probe has a control that passes, so a drop is the rules' doing.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap

import pytest

from logic.models import Port
from logic.neutron import firewall
from netagent.rules import render
from tests.network.test_neutron_api import make_network, make_subnet, post

pytestmark = [pytest.mark.postgres, pytest.mark.django_db, pytest.mark.timeout(180)]

TAG = f"as{os.getpid() % 100000}"
BR, A, B = f"{TAG}br", f"{TAG}a", f"{TAG}b"  # namespaces (also the host-side veth names: {A}h, {B}h)


def sh(*args: str, check: bool = True, timeout: float = 20) -> subprocess.CompletedProcess:
    return subprocess.run(args, capture_output=True, text=True, check=check, timeout=timeout)


def in_ns(ns: str, *args: str, **kw) -> subprocess.CompletedProcess:
    return sh("ip", "netns", "exec", ns, *args, **kw)


def py(ns: str, code: str, timeout: float = 15) -> subprocess.CompletedProcess:
    return in_ns(ns, sys.executable, "-c", textwrap.dedent(code), check=False, timeout=timeout)


@pytest.fixture
def lab():
    if os.geteuid() != 0 or not shutil.which("nft"):
        if os.environ.get("CYCLADES_REQUIRE_SERVICES") == "1":
            pytest.fail("root and nft (apt nftables) are needed for the anti-spoofing test")
        pytest.skip("needs root and nft")
    for ns in (BR, A, B):
        sh("ip", "netns", "add", ns)
    try:
        in_ns(BR, "ip", "link", "add", "br0", "type", "bridge")
        in_ns(BR, "ip", "addr", "add", "10.0.0.1/24", "dev", "br0")  # the cloud side (DHCP server stand-in)
        in_ns(BR, "ip", "link", "set", "br0", "up")
        yield
    finally:
        for ns in (BR, A, B):
            sh("ip", "netns", "del", ns, check=False)


def plug(ns: str, mac: str, ip: str) -> str:
    host = f"{ns}h"
    sh("ip", "link", "add", host, "netns", BR, "type", "veth", "peer", "name", "eth0", "netns", ns)
    in_ns(ns, "sysctl", "-qw", "net.ipv6.conf.eth0.accept_dad=0")
    in_ns(ns, "ip", "link", "set", "eth0", "address", mac)
    in_ns(ns, "ip", "addr", "add", f"{ip}/24", "dev", "eth0")
    in_ns(ns, "ip", "link", "set", "eth0", "up")
    in_ns(ns, "ip", "link", "set", "lo", "up")
    in_ns(BR, "ip", "link", "set", host, "master", "br0")
    in_ns(BR, "ip", "link", "set", host, "up")
    return host


PING = """
    import socket, struct, sys, time
    target, source = sys.argv[1], sys.argv[2]
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP); s.settimeout(0.5)
    if source:
        s.bind((source, 0))
    body = struct.pack("!BBHHH", 8, 0, 0, 7, 1) + b"probe"
    total = sum(struct.unpack("!%dH" % (len(body) // 2), body[: len(body) // 2 * 2])) + (body[-1] << 8 if len(body) % 2 else 0)
    total = (total >> 16) + (total & 0xFFFF); total += total >> 16
    packet = body[:2] + struct.pack("!H", ~total & 0xFFFF) + body[4:]
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline:
        s.sendto(packet, (target, 0))
        try:
            while True:
                data, peer = s.recvfrom(200)
                if peer[0] == target and data[20] == 0:
                    print("reply"); sys.exit(0)
        except TimeoutError:
            pass
    print("timeout")
"""


def ping(ns: str, target: str, source: str = "") -> bool:
    """One ICMP echo (raw socket: the namespaces have no ping binary), from ``source`` when given."""
    proc = in_ns(ns, sys.executable, "-c", textwrap.dedent(PING), target, source, check=False, timeout=10)
    return proc.stdout.strip() == "reply"


LISTEN_UDP = """
    import socket, sys
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("", 68)); s.settimeout(4)
    try:
        print(s.recvfrom(100)[0].decode())
    except TimeoutError:
        print("nothing")
"""


def udp_from(ns: str, sport: int, payload: str) -> str:
    return f"""
    import socket, time
    time.sleep(1)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
    s.bind(("", {sport}))
    for _ in range(3):
        s.sendto(b"{payload}", ("10.0.0.255", 68)); time.sleep(0.2)
    """


LISTEN_ICMP6 = """
    import socket
    s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6); s.settimeout(4)
    seen = set()
    try:
        while True:
            seen.add(s.recv(2000)[0])
    except TimeoutError:
        pass
    print(sorted(seen))
"""

SEND_ICMP6 = """
    import socket, struct, time
    time.sleep(1)
    s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS, 255)
    ra = struct.pack("!BBHBBHII", 134, 0, 0, 64, 0, 1800, 0, 0)       # a router advertisement
    echo = struct.pack("!BBHHH", 128, 0, 0, 1, 1) + b"hello"          # an echo request (the control)
    for _ in range(3):
        for packet in (ra, echo):
            s.sendto(packet, ("ff02::1", 0, 0, socket.if_nametoindex("eth0"))); time.sleep(0.1)
"""


def tcp_open(ns: str, target: str, port: int) -> bool:
    code = f"""
    import socket
    try:
        socket.create_connection(("{target}", {port}), timeout=2).close(); print("open")
    except OSError:
        print("closed")
    """
    return py(ns, code).stdout.strip() == "open"


def serve_tcp(ns: str, ports: list[int]) -> subprocess.Popen:
    code = f"""
    import socket, threading
    socks = []
    for p in {ports}:
        s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("", p)); s.listen()
        socks.append(s)
    for s in socks:
        threading.Thread(target=lambda s=s: [s.accept()[0].close() for _ in iter(int, 1)], daemon=True).start()
    print("ready", flush=True)
    threading.Event().wait(60)
    """
    proc = subprocess.Popen(
        ["ip", "netns", "exec", ns, sys.executable, "-c", textwrap.dedent(code)], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout.readline().strip() == "ready"
    return proc


def test_rendered_rules_drop_spoofing_rogue_servers_and_denied_ports(lab, member):
    network = make_network(member, name="lab")
    make_subnet(member, network["id"], "10.0.0.0/24", gateway_ip="10.0.0.1")
    group = post(member, "security-groups", "security_group", name="ssh").json()["security_group"]
    for rule in ({"protocol": "tcp", "port_range_min": 22, "port_range_max": 22, "remote_ip_prefix": "0.0.0.0/0"},
                 {"protocol": "icmp"}, {"protocol": "icmpv6", "ethertype": "IPv6"}):  # fmt: skip
        assert post(member, "security-group-rules", "security_group_rule", security_group_id=group["id"],
                    direction="ingress", **rule).status_code == 201  # fmt: skip
    ports = {}
    for ns, ip in ((A, "10.0.0.5"), (B, "10.0.0.6")):
        body = post(member, "ports", "port", network_id=network["id"], fixed_ips=[{"ip_address": ip}],
                    security_groups=[group["id"]]).json()["port"]  # fmt: skip
        ports[ns] = Port.objects.get(pk=body["id"])
        plug(ns, body["mac_address"], ip)
    iface = {ports[A].pk: f"{A}h", ports[B].pk: f"{B}h"}
    ruleset = render(firewall.policies(ports.values(), lambda p: iface[p.pk]), groups=firewall.remote_groups(ports.values()))
    loaded = subprocess.run(["ip", "netns", "exec", BR, "nft", "-f", "-"], input=ruleset, capture_output=True, text=True)
    assert loaded.returncode == 0, loaded.stderr + ruleset

    # legitimate traffic passes: ping (ICMP allowed) and the allowed TCP port; a denied port is dropped
    assert ping(A, "10.0.0.6")
    server = serve_tcp(B, [22, 23])
    try:
        assert tcp_open(A, "10.0.0.6", 22)
        assert not tcp_open(A, "10.0.0.6", 23)
    finally:
        server.kill()

    # a spoofed source IP is dropped (the guest owns 10.0.0.5 only)
    in_ns(A, "ip", "addr", "add", "10.0.0.99/24", "dev", "eth0")
    assert not ping(A, "10.0.0.6", "10.0.0.99")
    assert ping(A, "10.0.0.6", "10.0.0.5")  # control
    in_ns(A, "ip", "addr", "del", "10.0.0.99/24", "dev", "eth0")

    # a rogue DHCP offer (UDP from port 67) from a guest never reaches the other; the cloud's does
    listener = subprocess.Popen(["ip", "netns", "exec", B, sys.executable, "-c", textwrap.dedent(LISTEN_UDP)],
                                stdout=subprocess.PIPE, text=True)  # fmt: skip
    py(A, udp_from(A, 67, "rogue"))
    assert listener.communicate(timeout=10)[0].strip() == "nothing"
    listener = subprocess.Popen(["ip", "netns", "exec", B, sys.executable, "-c", textwrap.dedent(LISTEN_UDP)],
                                stdout=subprocess.PIPE, text=True)  # fmt: skip
    py(BR, udp_from(BR, 67, "cloud"))
    assert listener.communicate(timeout=10)[0].strip() == "cloud"

    # a rogue router advertisement is dropped; the echo request sent with it arrives
    listener = subprocess.Popen(["ip", "netns", "exec", B, sys.executable, "-c", textwrap.dedent(LISTEN_ICMP6)],
                                stdout=subprocess.PIPE, text=True)  # fmt: skip
    py(A, SEND_ICMP6)
    seen = listener.communicate(timeout=10)[0]
    assert "128" in seen and "134" not in seen, seen

    # a spoofed MAC is dropped
    in_ns(A, "ip", "link", "set", "eth0", "address", "aa:01:00:de:ad:01")
    in_ns(A, "ip", "neigh", "flush", "all")
    in_ns(B, "ip", "neigh", "flush", "all")
    assert not ping(A, "10.0.0.6")
    in_ns(A, "ip", "link", "set", "eth0", "address", ports[A].mac)
    assert ping(A, "10.0.0.6")  # control: with its own MAC again it passes
