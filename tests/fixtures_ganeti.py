"""Fixtures for tests on the real Ganeti sandbox (registered in tests/conftest.py).

* ``rapi``: a :class:`logic.rapi.RapiClient` built from the sandbox's settings
  (certificate pinned), shared by the session.
* ``ganeti_prefix``: this test run's Ganeti name prefix (``GANETI_PREFIX``,
  unique per run): everything a test creates in Ganeti is named ``<prefix>-...``.
* ``sandbox_backend``: a Backend row for the sandbox, created through
  :func:`logic.backends.add_backend` (so credentials and capabilities are checked).
* ``ganeti_reset``: removes this run's instances and networks (only names starting
  with ``<prefix>-``: the sandbox is shared, never touch anyone else's). Use it
  in a module (``pytestmark = pytest.mark.usefixtures("ganeti_reset")``) for a
  clean cluster before and after the module; it is fast (jobs run in parallel).
* ``wait_job``: ``wait_job(job_id)`` waits for a job on the sandbox (JobFailed on error).

:func:`create_instance` submits the small noop-OS instance these tests use;
:func:`eventd_environment` is what a real ``cyclades-eventd`` needs to watch the sandbox.
"""

from __future__ import annotations

import logging

import pytest

from tests import services

log = logging.getLogger(__name__)


def sandbox_client(env: dict[str, str], **kwargs):
    from logic.rapi import RapiClient, extract_certificate

    with open(env["GANETI_RAPI_CERT"]) as f:
        pem = extract_certificate(f.read())
    return RapiClient(
        env["GANETI_RAPI_HOST"],
        int(env["GANETI_RAPI_PORT"]),
        env["GANETI_RAPI_USER"],
        env["GANETI_RAPI_PASSWORD"],
        pem,
        **kwargs,
    )


SANDBOX_NIC = {"link": "br-gnt", "mode": "bridged"}


def create_instance(
    rapi,
    name: str,
    *,
    disk_template: str = "diskless",
    disks=(),
    nics=(SANDBOX_NIC,),
    mem: int = 128,
    vcpus: int = 1,
    tag: str = "cyclades:test",
) -> int:
    """Submit a small instance with the noop OS (one bridged NIC unless ``nics`` says otherwise); returns its job id."""
    return rapi.create_instance(
        name,
        disk_template=disk_template,
        disks=list(disks),
        nics=list(nics),
        os="noop",
        beparams={"maxmem": mem, "minmem": mem, "vcpus": vcpus},
        tags=[tag],
    )


def eventd_environment(env: dict[str, str], data_dir, amqp_url: str, *, spool_dir, heartbeat: float) -> dict[str, str]:
    """Settings for ``cyclades-eventd`` on the sandbox's job queue, publishing to ``amqp_url``.

    The RAPI password goes into a file under ``data_dir``, as in production.
    """
    password_file = data_dir / "rapi-password"
    password_file.write_text(env["GANETI_RAPI_PASSWORD"] + "\n")
    return {
        "CYCLADES_SECRET_KEY": "x" * 40,
        "CYCLADES_DATA_DIR": str(data_dir),
        "CYCLADES_LOG_FORMAT": "text",
        "CYCLADES_BUS_URL": amqp_url,
        "CYCLADES_EVENTD_QUEUE_DIR": env["GANETI_JOB_QUEUE_DIR"],
        "CYCLADES_EVENTD_NODE_NAME": env["GANETI_NODE"],
        "CYCLADES_EVENTD_SPOOL_DIR": str(spool_dir),
        "CYCLADES_EVENTD_HEARTBEAT_INTERVAL": str(heartbeat),
        "CYCLADES_EVENTD_RAPI_HOST": env["GANETI_RAPI_HOST"],
        "CYCLADES_EVENTD_RAPI_PORT": env["GANETI_RAPI_PORT"],
        "CYCLADES_EVENTD_RAPI_USER": env["GANETI_RAPI_USER"],
        "CYCLADES_EVENTD_RAPI_PASSWORD_FILE": str(password_file),
        "CYCLADES_EVENTD_RAPI_CERT": env["GANETI_RAPI_CERT"],
    }


@pytest.fixture(scope="session")
def ganeti_prefix() -> str:
    from django.conf import settings

    return settings.CYCLADES["GANETI_PREFIX"]


@pytest.fixture(scope="session")
def rapi(ganeti_sandbox):
    """A pinned RAPI client on the sandbox (session-wide)."""
    client = sandbox_client(ganeti_sandbox)
    yield client
    client.close()


@pytest.fixture
def wait_job(rapi):
    def wait(job_id: int, timeout: float = 120) -> dict:
        return rapi.wait_for_job(job_id, timeout=timeout)

    return wait


@pytest.fixture
def sandbox_backend(db, ganeti_sandbox):
    """The sandbox as a Backend, added through logic.backends (checks credentials and capabilities)."""
    from logic import backends

    env = ganeti_sandbox
    with open(env["GANETI_RAPI_CERT"]) as f:
        pem = f.read()
    return backends.add_backend(
        host=env["GANETI_RAPI_HOST"],
        port=int(env["GANETI_RAPI_PORT"]),
        username=env["GANETI_RAPI_USER"],
        password=env["GANETI_RAPI_PASSWORD"],
        certificate_pem=pem,
    )


def remove_own_ganeti_objects(client, prefix: str, timeout: float = 120) -> list[str]:
    """Remove the instances and networks whose names start with ``<prefix>-``; returns their names.

    Removal jobs are submitted together and waited for together. Only this
    run's objects are touched: the sandbox is shared.
    """
    from logic.rapi import JobFailed, RapiNotFound

    mine = f"{prefix}-"
    removed: list[str] = []
    jobs: list[int] = []
    for name in client.list_instance_names():
        if name.startswith(mine):
            jobs.append(client.remove_instance(name, shutdown_timeout=0))
            removed.append(name)
    for job_id in jobs:
        try:
            client.wait_for_job(job_id, timeout=timeout)
        except (JobFailed, RapiNotFound) as exc:
            log.warning("cleanup: %s", exc)
    networks = [n for n in client.list_networks(bulk=True) if n["name"].startswith(mine)]
    jobs = []
    for net in networks:
        for group in net.get("group_list") or []:
            group_name = group[0] if isinstance(group, list | tuple) else str(group).split("(")[0]
            jobs.append(client.disconnect_network(net["name"], group_name))
    for job_id in jobs:
        client.wait_for_job(job_id, timeout=timeout)
    jobs = [client.remove_network(net["name"]) for net in networks]
    for job_id in jobs:
        client.wait_for_job(job_id, timeout=timeout)
    return removed + [n["name"] for n in networks]


@pytest.fixture(scope="module")
def ganeti_reset(ganeti_sandbox, ganeti_prefix):
    """A clean sandbox for this run around the module: this run's instances/networks removed before and after."""
    if problem := services.ganeti_problem():
        services.missing("Ganeti sandbox", problem)
    client = sandbox_client(ganeti_sandbox, timeout=30)
    remove_own_ganeti_objects(client, ganeti_prefix)
    yield client
    remove_own_ganeti_objects(client, ganeti_prefix)
    client.close()
