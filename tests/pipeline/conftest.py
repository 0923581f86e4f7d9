"""Fixtures of the event-pipeline tests: a backend named like the sandbox cluster, servers on it."""

from __future__ import annotations

import pytest

from logic.enums import ServerTask
from logic.models import Backend, ServerAction
from tests.factories import FlavorFactory, ServerFactory
from tests.pipeline.jobevents import CLUSTER


@pytest.fixture
def backend(db) -> Backend:
    return Backend.objects.create(name=CLUSTER, rapi_host="198.51.100.10", rapi_user="ganeti-rapi", rapi_password_encrypted="x")


@pytest.fixture
def other_backend(db) -> Backend:
    return Backend.objects.create(
        name="other.cluster", rapi_host="198.51.100.11", rapi_user="ganeti-rapi", rapi_password_encrypted="x"
    )


@pytest.fixture
def flavor(db):
    return FlavorFactory(vcpus=1, ram=256, disk=1)


@pytest.fixture
def make_server(backend, flavor):
    """A server on the sandbox cluster; with ``task_job`` an API action waiting for that job."""

    def make(*, task: str | None = ServerTask.BUILD, task_job: int | None = None, **fields):
        server = ServerFactory(backend=backend, flavor=flavor, task=task, task_job_id=task_job, **fields)
        if task_job is not None:
            ServerAction.objects.create(
                server=server,
                action=task or "observed",
                request_id=f"req-{task_job}",
                user_id="u",
                project_id="p",
                job_id=task_job,
            )
        return server

    return make


@pytest.fixture
def user_project(db):
    from tests.factories import ProjectFactory, UserFactory

    return UserFactory(), ProjectFactory()
