"""The nftables rule set of one node's NICs: anti-spoofing pinned to each port, security groups enforced.

Pure functions (no Django: the node agent and Ganeti hooks run on nodes). One
``bridge`` table ``cyclades`` whose forward chain dispatches by port (the tap
device) with verdict maps to a chain per NIC and direction:

* ``from_<n>`` (what the guest sends; its verdicts are ``drop`` or ``return``, so that
  the packet then meets its destination's ``to_`` chain): its MAC and IP addresses are pinned
  (Ethernet source, ARP sender, IPv4/IPv6 source; DHCP discovery from
  0.0.0.0 and IPv6 duplicate-address detection from ``::`` allowed); DHCP and
  DHCPv6 server replies and router advertisements/redirects from guests are
  dropped; then the egress rules of its security groups.
* ``to_<n>`` (what reaches the guest): ARP, neighbour discovery and DHCP
  replies, then the ingress rules of its groups, then replies; the rest drops.

Replies: with ``stateful`` (a kernel with bridge conntrack) ``ct state
established,related`` accepts them; without it (e.g. the Ganeti sandbox's
kernel) TCP segments that don't open a connection (not SYN-only) pass and a
new connection passes only where a rule allows it, so a denied port stays
closed; UDP and ICMP pass only where rules allow them.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

TABLE = "cyclades"
NAT_TABLE = "cyclades_nat"
_IFACE = re.compile(r"^[A-Za-z0-9_.:-]{1,15}$")
_MAC = re.compile(r"^[0-9a-f]{2}(:[0-9a-f]{2}){5}$")
_NAMED = {"tcp", "udp", "icmp", "icmpv6", "ipv6-icmp", "sctp", "dccp", "udplite"}
_PORTED = {"tcp", "udp", "sctp", "dccp", "udplite"}
_NUMBERS = {"6": "tcp", "17": "udp", "1": "icmp", "58": "icmpv6", "132": "sctp", "33": "dccp", "136": "udplite"}


@dataclass(frozen=True)
class Rule:
    """One allow rule of a security group, with a remote group already resolved to addresses."""

    direction: str  # ingress | egress
    ethertype: str = "IPv4"  # IPv4 | IPv6
    protocol: str | None = None  # name or number; None: any
    port_min: int | None = None  # for ICMP: the type
    port_max: int | None = None  # for ICMP: the code
    remotes: tuple[str, ...] = ()  # CIDRs or addresses; empty: anywhere (unless remote_group)
    remote_group: str | None = None  # a key of render()'s ``groups``: the members' addresses, as a named set


@dataclass(frozen=True)
class NicPolicy:
    """A NIC as the database says it is: the tap it is on, its MAC, addresses and rules."""

    iface: str
    mac: str
    ipv4: tuple[str, ...] = ()
    ipv6: tuple[str, ...] = ()
    port_security: bool = True
    rules: tuple[Rule, ...] = field(default_factory=tuple)


def link_local(mac: str) -> str:
    """The IPv6 link-local address a guest derives from its MAC (EUI-64)."""
    octets = [int(part, 16) for part in mac.split(":")]
    octets[0] ^= 0x02
    interface_id = int.from_bytes(bytes(octets[:3] + [0xFF, 0xFE] + octets[3:]), "big")
    return str(ipaddress.IPv6Address((0xFE80 << 112) | interface_id))


def _check(nic: NicPolicy) -> None:
    if not _IFACE.match(nic.iface):
        raise ValueError(f"bad interface name {nic.iface!r}")
    if not _MAC.match(nic.mac):
        raise ValueError(f"bad MAC {nic.mac!r} of {nic.iface}")
    for address in (*nic.ipv4, *nic.ipv6):
        ipaddress.ip_address(address)


def _set(items: Iterable[str]) -> str:
    return "{ " + ", ".join(items) + " }"


def _protocol(rule: Rule) -> str | None:
    if rule.protocol is None:
        return None
    name = _NUMBERS.get(str(rule.protocol), str(rule.protocol).lower())
    return "icmpv6" if name == "ipv6-icmp" else name


def _rule(rule: Rule, nic_chain: str, sets: dict[str, str]) -> list[str]:
    """nft statements for one allow rule (``nic_chain`` is ``to`` for ingress, ``from`` for egress).

    An egress rule *returns* (the packet then meets its destination's ``to_`` chain):
    ``accept`` in a jumped-to chain would end the whole hook.
    """
    verdict = "accept" if nic_chain == "to" else "return"
    family = "ip" if rule.ethertype == "IPv4" else "ip6"
    peer = "saddr" if nic_chain == "to" else "daddr"
    parts = [f"ether type {family}"]
    remotes = [str(ipaddress.ip_network(r, strict=False)) for r in rule.remotes]
    if rule.remote_group is not None:
        if rule.remote_group not in sets:
            return []  # a group without members (of this family) admits nobody
        parts.append(f"{family} {peer} @{sets[rule.remote_group]}")
    elif remotes and not any(r in ("0.0.0.0/0", "::/0") for r in remotes):  # no remotes, or anywhere: no match on peers
        parts.append(f"{family} {peer} {_set(remotes)}")
    protocol = _protocol(rule)
    if protocol is None:
        return [" ".join([*parts, verdict])]
    if protocol in _PORTED:
        if rule.port_min is not None:
            ports = str(rule.port_min) if rule.port_min == rule.port_max else f"{rule.port_min}-{rule.port_max}"
            parts.append(f"{protocol} dport {ports}")
        else:
            parts.append(f"meta l4proto {protocol}")
    elif protocol in ("icmp", "icmpv6"):
        if (protocol == "icmp") != (family == "ip"):
            return []  # an ICMP rule of the other family never matches
        parts.append(f"meta l4proto {protocol}" if family == "ip" else "meta l4proto ipv6-icmp")
        if rule.port_min is not None:
            parts.append(f"{protocol} type {rule.port_min}")
            if rule.port_max is not None:
                parts.append(f"{protocol} code {rule.port_max}")
    else:
        parts.append(f"meta l4proto {int(protocol)}")
    return [" ".join([*parts, verdict])]


def _family_sets(sets: dict[tuple[str, int], str], rule: Rule) -> dict[str, str]:
    """The named set of the rule's remote group in the rule's family, as ``{group: set name}``."""
    version = 4 if rule.ethertype == "IPv4" else 6
    name = sets.get((rule.remote_group, version)) if rule.remote_group is not None else None
    return {rule.remote_group: name} if name else {}


def _from_chain(nic: NicPolicy, stateful: bool, sets: dict) -> list[str]:
    v4 = _set(nic.ipv4) if nic.ipv4 else None
    v6 = _set((link_local(nic.mac), *nic.ipv6))
    lines = [
        f"ether saddr != {nic.mac} drop",
        f"ether type arp arp saddr ether != {nic.mac} drop",
        f"ether type arp arp saddr ip != {v4} drop" if v4 else "ether type arp arp saddr ip != 0.0.0.0 drop",
        "ether type ip ip saddr 0.0.0.0 udp sport 68 udp dport 67 return",  # DHCP discovery
        f"ether type ip ip saddr != {v4} drop" if v4 else "ether type ip drop",
        "ether type ip udp sport 67 drop",  # a rogue DHCP server
        "ether type ip6 ip6 saddr :: meta l4proto ipv6-icmp return",  # duplicate address detection, MLD
        f"ether type ip6 ip6 saddr != {v6} drop",
        "ether type ip6 udp sport 547 drop",  # a rogue DHCPv6 server
        "ether type ip6 icmpv6 type { nd-router-advert, nd-redirect } drop",  # a rogue router
        "ether type ip6 icmpv6 type { nd-router-solicit, nd-neighbor-solicit, nd-neighbor-advert } return",
        "ether type arp return",
    ]
    if stateful:
        lines.append("ct state established,related return")
    else:
        lines.append("tcp flags & (syn | ack) != syn return")  # replies and segments of open connections
    for rule in nic.rules:
        if rule.direction == "egress":
            lines += _rule(rule, "from", _family_sets(sets, rule))
    lines.append("drop")
    return lines


def _to_chain(nic: NicPolicy, stateful: bool, sets: dict) -> list[str]:
    lines = [
        "ether type arp accept",
        "ether type ip6 icmpv6 type { nd-router-advert, nd-neighbor-solicit, nd-neighbor-advert, nd-redirect } accept",
        "ether type ip udp sport 67 udp dport 68 accept",  # the cloud's DHCP replies
        "ether type ip6 udp sport 547 udp dport 546 accept",
    ]
    lines.append("ct state established,related accept" if stateful else "tcp flags & (syn | ack) != syn accept")
    for rule in nic.rules:
        if rule.direction == "ingress":
            lines += _rule(rule, "to", _family_sets(sets, rule))
    lines.append("drop")
    return lines


def _named_sets(groups: Mapping[str, Iterable[str]]) -> tuple[list[str], dict[tuple[str, int], str]]:
    """One named set per remote group and family (defined once, however many NICs refer to it)."""
    lines, names = [], {}
    for index, (group, addresses) in enumerate(sorted(groups.items())):
        parsed = [ipaddress.ip_address(a) for a in addresses]
        for version, kind in ((4, "ipv4_addr"), (6, "ipv6_addr")):
            members = sorted({str(a) for a in parsed if a.version == version})
            if not members:
                continue
            name = f"group_{index}_v{version}"
            names[(group, version)] = name
            lines += [f"  set {name} {{  # {group}", f"    type {kind}", f"    elements = {_set(members)}", "  }"]
    return lines, names


def render(
    nics: Iterable[NicPolicy],
    *,
    groups: Mapping[str, Iterable[str]] | None = None,
    stateful: bool = False,
    nat: Iterable[Nat] | None = None,
) -> str:
    """The node's tables, for ``nft -f`` (one transaction: it replaces the previous ones atomically).

    ``groups``: the addresses of each remote group the rules name (``Rule.remote_group``);
    ``nat``: the floating IPs of this node's NICs.
    """
    nics = list(nics)
    for nic in nics:
        _check(nic)
    guarded = [(n, nic) for n, nic in enumerate(nics) if nic.port_security]
    set_lines, sets = _named_sets(groups or {})
    out = [f"table bridge {TABLE}", f"delete table bridge {TABLE}", f"table bridge {TABLE} {{", *set_lines]
    from_map = "iifname vmap " + _set(f'"{nic.iface}" : jump from_{n}' for n, nic in guarded)
    to_map = "oifname vmap " + _set(f'"{nic.iface}" : jump to_{n}' for n, nic in guarded)
    # forward: guest to guest on the bridge; input/output: to and from the node itself (its
    # gateway address, and routed traffic such as a floating IP's, which leaves by the bridge)
    for hook, maps in (("forward", (from_map, to_map)), ("input", (from_map,)), ("output", (to_map,))):
        out.append(f"  chain {hook} {{")
        out.append(f"    type filter hook {hook} priority 0; policy accept;")
        if guarded:
            out.extend(f"    {line}" for line in maps)
        out.append("  }")
    for n, nic in guarded:
        chains = ((f"from_{n}", _from_chain(nic, stateful, sets)), (f"to_{n}", _to_chain(nic, stateful, sets)))
        for name, lines in chains:
            out.append(f"  chain {name} {{  # {nic.iface} {nic.mac}")
            out.extend(f"    {line}" for line in lines)
            out.append("  }")
    out.append("}")
    out += _nat(nat or ())
    return "\n".join(out) + "\n"


@dataclass(frozen=True)
class Nat:
    """A floating IP associated with a fixed IP of a NIC on this node; ``link``: the bridge the NIC is on."""

    floating: str
    fixed: str
    link: str = ""


def _nat(nats: Iterable[Nat]) -> list[str]:
    """The ``ip`` table ``cyclades_nat``: DNAT floating -> fixed, SNAT fixed -> floating (not towards its own bridge).

    Always rendered (empty without floating IPs) so that a disassociation removes the translation.
    """
    nats = sorted(set(nats), key=lambda n: (n.floating, n.fixed))
    for n in nats:
        if ipaddress.ip_address(n.floating).version != 4 or ipaddress.ip_address(n.fixed).version != 4:
            raise ValueError(f"floating IP NAT is IPv4 only: {n}")
        if n.link and not _IFACE.match(n.link):
            raise ValueError(f"bad link name {n.link!r}")
    out = [f"table ip {NAT_TABLE}", f"delete table ip {NAT_TABLE}", f"table ip {NAT_TABLE} {{"]
    out += ["  chain prerouting {", "    type nat hook prerouting priority dstnat; policy accept;"]
    out += [f"    ip daddr {n.floating} dnat to {n.fixed}" for n in nats]
    out += ["  }", "  chain output {", "    type nat hook output priority -100; policy accept;"]
    out += [f"    ip daddr {n.floating} dnat to {n.fixed}" for n in nats]  # the node's own connections
    out += ["  }", "  chain postrouting {", "    type nat hook postrouting priority srcnat; policy accept;"]
    for n in nats:
        towards = f' oifname != "{n.link}"' if n.link else ""
        out.append(f"    ip saddr {n.fixed}{towards} snat to {n.floating}")
    out += ["  }", "}"]
    return out
