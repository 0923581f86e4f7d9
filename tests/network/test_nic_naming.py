"""NICs Ganeti reports on a Ganeti network are named after (and linked to) the API network behind it."""

from __future__ import annotations

import pytest

from logic import networks
from logic.enums import ServerTask
from logic.events import apply_event
from logic.models import Backend, Server
from tests.factories import FlavorFactory, ServerFactory
from tests.pipeline.jobevents import CLUSTER, SAMPLE_NIC, job_messages

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


@pytest.fixture
def building_server(db):
    backend = Backend.objects.create(name=CLUSTER, rapi_host="127.0.0.1", rapi_user="u", rapi_password_encrypted="x")
    return ServerFactory(backend=backend, flavor=FlavorFactory(vcpus=1, ram=128), task=ServerTask.BUILD, task_job_id=9)


def test_nic_on_a_known_ganeti_network_takes_the_api_networks_name_and_id(building_server):
    network = networks.create(name="private", project=building_server.project, ganeti_network=SAMPLE_NIC["network"])
    for message in job_messages(9, instance=building_server.ganeti_name):
        apply_event(message)
    nic = Server.objects.get(pk=building_server.pk).nics.get()
    assert (nic.network_name, nic.network_id, nic.ipv4) == ("private", str(network.pk), "10.0.1.2")
    assert networks.for_ganeti_network(SAMPLE_NIC["network"]) == network
    assert networks.for_ganeti_network(None) is None and networks.for_ganeti_network("unknown") is None


def test_nic_on_an_unknown_ganeti_network_keeps_ganetis_name(building_server):
    for message in job_messages(9, instance=building_server.ganeti_name):
        apply_event(message)
    nic = Server.objects.get(pk=building_server.pk).nics.get()
    assert (nic.network_name, nic.network_id) == (SAMPLE_NIC["network"], None)
