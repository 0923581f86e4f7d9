"""A server's addresses are keyed by the API network its NIC is on, whatever Ganeti calls it.

Tempest looks addresses up by the Neutron network name (``fixed_network_name``) and
the CLI and SDK find ports by ``network_id``: the NICs Ganeti reports (through the event
pipeline) must be attributed to the Network rows they were created from, both for NICs
on a Ganeti network (with an IP pool) and for NICs on a bare link (bridge).
"""

from __future__ import annotations

import itertools

import pytest
from django.conf import settings

from logic import events
from logic import networks as network_rules
from logic.models import Server

pytestmark = pytest.mark.django_db

_clock = itertools.count(1_700_100_000)


def create_succeeded(server: Server, nics: list[dict]) -> None:
    """The create job's success as eventd reports it, with the NICs Ganeti chose."""
    outcome = events.apply_event(
        {
            "type": "ganeti-op-status",
            "id": f"nic-{server.pk}-{next(_clock)}",
            "cluster": server.backend.name,
            "instance": f"{settings.CYCLADES['GANETI_PREFIX']}-{server.pk}",
            "operation": "OP_INSTANCE_CREATE",
            "status": "success",
            "job_status": "success",
            "job_id": server.task_job_id,
            "op_index": 0,
            "event_time": [next(_clock), 0],
            "logmsg": "",
            "result": None,
            "job_fields": {},
            "instance_nics": nics,
        }
    )
    assert outcome.applied, outcome


def nic(**fields) -> dict:
    return {"index": 0, "mac": "aa:00:00:12:34:56", "ip": "192.0.2.10", "mode": "bridged", "link": "br-gnt", **fields}


def addresses_and_ports(member, server) -> tuple[dict, list[dict]]:
    shown = member.get(f"/compute/v2.1/servers/{server.pk}").json()["server"]
    ports = member.get("/network/v2.0/ports", {"device_id": str(server.pk)}).json()["ports"]
    return shown["addresses"], ports


def test_a_nic_on_a_ganeti_network_is_named_after_the_api_network(member, server):
    network = network_rules.create(name="private", project=member.project, ganeti_network="g-private", cidr="192.0.2.0/24")
    create_succeeded(server, [nic(network="g-private")])
    addresses, ports = addresses_and_ports(member, server)
    assert list(addresses) == ["private"] and addresses["private"][0]["addr"] == "192.0.2.10"
    assert [p["network_id"] for p in ports] == [str(network.pk)]
    assert member.get(f"/compute/v2.1/servers/{server.pk}/ips/private").status_code == 200


def test_a_nic_on_a_bare_link_is_named_after_the_network_of_that_link(member, server):
    network_rules.create(name="lan", project=member.project, link="br-lan")  # another link: not it
    public = network_rules.create(name="internet", public=True, link="br-gnt")
    create_succeeded(server, [nic()])
    addresses, ports = addresses_and_ports(member, server)
    assert list(addresses) == ["internet"]
    assert [p["network_id"] for p in ports] == [str(public.pk)]


def test_a_public_network_wins_over_a_private_one_on_the_same_link(member, server):
    network_rules.create(name="mine", project=member.project, link="br-gnt")
    public = network_rules.create(name="internet", public=True, link="br-gnt")
    create_succeeded(server, [nic()])
    addresses, ports = addresses_and_ports(member, server)
    assert list(addresses) == ["internet"] and ports[0]["network_id"] == str(public.pk)


def test_nics_that_match_no_network_or_several_keep_ganetis_name(member, server, other):
    network_rules.create(name="a", project=member.project, link="br-gnt")
    network_rules.create(name="b", project=other.project, link="br-gnt")  # ambiguous: not attributed
    create_succeeded(
        server,
        [nic(), nic(index=1, network="g-unknown", ip="198.51.100.7", mac="aa:00:00:65:43:21")],
    )
    addresses, ports = addresses_and_ports(member, server)
    assert addresses.keys() == {"public", "g-unknown"}
    assert [p["network_id"] for p in ports] == ["", ""]
