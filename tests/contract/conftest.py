"""One fixture, two Ganetis: the simulator ("sim") and the real sandbox ("real", marker ``ganeti``)."""

from __future__ import annotations

import os
import random
from dataclasses import dataclass

import pytest

from logic.rapi import RapiClient


@dataclass
class Side:
    """A Ganeti master to run the contract scenarios against."""

    name: str
    client: RapiClient
    url: str
    auth: tuple[str, str]
    queue_dir: str
    prefix: str
    link: str
    cidr: str


_SIM = {}


@pytest.fixture(scope="session")
def sim_side(tmp_path_factory) -> Side:
    from simganeti import SimGaneti

    sim = SimGaneti(str(tmp_path_factory.mktemp("contract-sim")), time_scale=0.2).start()
    user, password = sim.credentials
    client = RapiClient(sim.host, sim.port, user, password, sim.certificate, timeout=15)
    yield Side("sim", client, sim.url, (user, password), sim.queue_dir, f"c{os.getpid()}s", "br-gnt", "10.201.0.0/28")
    client.close()
    sim.stop()


@pytest.fixture(scope="session")
def real_side(ganeti_sandbox) -> Side:
    env = ganeti_sandbox
    with open(env["GANETI_RAPI_CERT"]) as f:
        pem = f.read()
    host, port = env["GANETI_RAPI_HOST"], int(env["GANETI_RAPI_PORT"])
    client = RapiClient(host, port, env["GANETI_RAPI_USER"], env["GANETI_RAPI_PASSWORD"], pem, timeout=20)
    # A network range of this session only: the sandbox is shared and Ganeti checks IP conflicts.
    cidr = f"10.{random.randint(100, 250)}.{os.getpid() % 250}.0/28"
    yield Side(
        "real",
        client,
        f"https://{host}:{port}",
        (env["GANETI_RAPI_USER"], env["GANETI_RAPI_PASSWORD"]),
        env.get("GANETI_JOB_QUEUE_DIR", "/var/lib/ganeti/queue"),
        f"c{os.getpid()}r",
        env.get("GANETI_NIC_LINK", "br-gnt"),
        cidr,
    )
    client.close()


@pytest.fixture(params=["sim", pytest.param("real", marks=pytest.mark.ganeti)])
def side(request) -> Side:
    return request.getfixturevalue(f"{request.param}_side")
