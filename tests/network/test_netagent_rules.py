"""The nftables renderer alone: what it pins, how it names remote groups, what it refuses."""

from __future__ import annotations

import pytest

from netagent.rules import NicPolicy, Rule, link_local, render


def nic(n: int, **kw) -> NicPolicy:
    return NicPolicy(f"tap{n}", f"aa:01:00:00:00:{n:02x}", (f"10.0.0.{n}",), **kw)


def test_each_nic_is_pinned_and_remote_groups_are_sets_defined_once():
    group_rule = Rule("ingress", "IPv4", remote_group="g1")
    text = render(
        [nic(n, rules=(group_rule, Rule("egress"))) for n in range(1, 101)], groups={"g1": [f"10.0.0.{n}" for n in range(1, 101)]}
    )
    assert text.count("set group_0_v4 {") == 1 and text.count("ip saddr @group_0_v4 accept") == 100
    assert "ether saddr != aa:01:00:00:00:05 drop" in text and "ip saddr != { 10.0.0.5 } drop" in text
    assert text.count("icmpv6 type { nd-router-advert, nd-redirect } drop") == 100
    assert text.startswith("table bridge cyclades\ndelete table bridge cyclades\n")  # an atomic replace with nft -f


def test_a_group_without_members_admits_nobody_and_unguarded_ports_are_left_alone():
    text = render([nic(1, rules=(Rule("ingress", remote_group="empty"),)), nic(2, port_security=False)], groups={})
    assert "@" not in text and '"tap2"' not in text and text.count("chain to_") == 1


def test_rules_render_protocols_ports_and_icmp():
    rules = (
        Rule("ingress", "IPv4", "tcp", 80, 443, ("192.0.2.0/24",)),
        Rule("ingress", "IPv4", "icmp", 8, 0),
        Rule("ingress", "IPv6", "58"),
        Rule("ingress", "IPv4", "47"),
        Rule("egress", "IPv4", "udp", 53, 53),
    )
    text = render([nic(1, rules=rules)])
    assert "ip saddr { 192.0.2.0/24 } tcp dport 80-443 accept" in text
    assert "meta l4proto icmp icmp type 8 icmp code 0 accept" in text
    assert "ether type ip6 meta l4proto ipv6-icmp accept" in text and "meta l4proto 47 accept" in text
    assert "udp dport 53 return" in text  # egress verdicts return to meet the destination's chain


@pytest.mark.parametrize(
    "bad", [NicPolicy("tap 1", "aa:01:00:00:00:01"), NicPolicy("tap1", "AA:01"), NicPolicy("tap1", "aa:01:00:00:00:01", ("x",))]
)
def test_bad_policies_are_refused(bad):
    with pytest.raises(ValueError):
        render([bad])


def test_link_local_is_the_eui64_of_the_mac():
    assert link_local("52:54:00:12:34:56") == "fe80::5054:ff:fe12:3456"


def test_floating_ips_render_dnat_and_snat_and_an_empty_nat_table_without_them():
    from netagent.rules import Nat

    text = render([nic(1)], nat=[Nat("203.0.113.7", "10.0.0.1", "br0")])
    assert "ip daddr 203.0.113.7 dnat to 10.0.0.1" in text and 'ip saddr 10.0.0.1 oifname != "br0" snat to 203.0.113.7' in text
    assert "hook input priority 0" in text and "hook output priority 0" in text  # routed traffic meets the NIC chains too
    empty = render([nic(1)])
    assert "table ip cyclades_nat {" in empty and "dnat" not in empty  # a disassociation empties it
    for bad in (Nat("2001:db8::1", "10.0.0.1"), Nat("203.0.113.7", "10.0.0.1", "br0; drop")):
        with pytest.raises(ValueError):
            render([nic(1)], nat=[bad])


def test_ifup_records_taps_from_ganetis_environment_and_refuses_bad_ones(tmp_path):
    from netagent import ifup
    from netagent.taps import Tap, TapStore

    env = {"INTERFACE": "tap3", "MAC": "AA:01:00:00:00:03", "MODE": "routed", "INSTANCE": "vm", "IP": "10.0.0.3"}
    assert ifup.main(str(tmp_path), env, wait=0) == 0
    assert TapStore(str(tmp_path)).all() == [Tap.from_env(env)] and Tap.from_env(env).mac == "aa:01:00:00:00:03"
    assert ifup.main(str(tmp_path), {**env, "INTERFACE": "../../etc"}, wait=0) == 1
    assert ifup.main(str(tmp_path), {**env, "MAC": "nope"}, wait=0) == 1
    assert [t.iface for t in TapStore(str(tmp_path)).all()] == ["tap3"]
    TapStore(str(tmp_path)).forget(["tap3"])
    assert TapStore(str(tmp_path)).all() == []


def test_ifup_install_never_overwrites_a_foreign_hook(tmp_path):
    from netagent import ifup

    path = ifup.install(str(tmp_path), str(tmp_path / "state"))
    assert ifup.install(str(tmp_path), str(tmp_path / "state")) == path  # ours: rewritten
    with open(path) as f:
        text = f.read()
    assert "source /usr/lib/ganeti/net-common" in text and "setup_bridge" in text
    with open(path, "w") as f:
        f.write("#!/bin/sh\n# the operator's own\n")
    with pytest.raises(FileExistsError):
        ifup.install(str(tmp_path), str(tmp_path / "state"))


def test_the_command_installs_the_ifup_and_with_a_bridge_prefix_the_connect_hook(tmp_path):
    from django.core.management import call_command

    from netagent import bridge_hook

    conf, state = tmp_path / "ganeti", tmp_path / "state"
    call_command("netagent", "--install-ifup", str(conf), "--state-dir", str(state), "--bridge-prefix", "zz")
    ifup_text = (conf / "kvm-vif-bridge").read_text()
    hook = conf / "hooks" / bridge_hook.HOOK_PATH / "60-cyclades-bridge"
    assert "'zz'" in ifup_text and str(state) in ifup_text and "zz" in hook.read_text()
    env = {"GANETI_HOOKS_PHASE": "pre", "GANETI_GROUP_NETWORK_MODE": "bridged", "GANETI_GROUP_NETWORK_LINK": "br0"}
    assert bridge_hook.main("zz", env) == 0  # not ours: left alone
    assert bridge_hook.main("zz", {**env, "GANETI_GROUP_NETWORK_LINK": "zz; rm -rf /"}) == 1  # refused, not run
