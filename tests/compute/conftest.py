"""Compute API fixtures: a project with a member and a reader, a backend row, flavors, images,
and a recording stand-in for ``logic.ganeti_jobs`` (HTTP-level tests; the real Ganeti path is
exercised in test_servers_e2e.py)."""

from __future__ import annotations

import itertools

import pytest

from logic.enums import Role
from logic.models import Backend
from tests.factories import BackendFactory, FlavorFactory, ImageFactory, UserFactory, token_client

MV21 = {"HTTP_X_OPENSTACK_NOVA_API_VERSION": "2.1"}


class RecordingJobs:
    """Records every job submission; returns increasing job ids, or raises ``fail_with``."""

    def __init__(self):
        self.calls: list[tuple] = []
        self.ids = itertools.count(1000)
        self.fail_with: Exception | None = None

    def _job(self, name, *args, **kwargs):
        self.calls.append((name, args, kwargs))
        if self.fail_with is not None:
            raise self.fail_with
        return next(self.ids)

    def names(self) -> list[str]:
        return [c[0] for c in self.calls]

    def __getattr__(self, name):
        if name in {
            "create_server",
            "start_server",
            "stop_server",
            "reboot_server",
            "resize_server",
            "rebuild_server",
            "destroy_server",
            "snapshot_server",
        }:
            return lambda *a, **k: self._job(name, *a, **k)
        if name == "console_info":
            return lambda server: {"kind": "vnc", "host": "node1.example.org", "port": 11000}
        raise AttributeError(name)


@pytest.fixture
def jobs(monkeypatch) -> RecordingJobs:
    from logic import ganeti_jobs

    fake = RecordingJobs()
    for name in (
        "create_server",
        "start_server",
        "stop_server",
        "reboot_server",
        "resize_server",
        "rebuild_server",
        "destroy_server",
        "snapshot_server",
        "console_info",
    ):
        monkeypatch.setattr(ganeti_jobs, name, getattr(fake, name))
    return fake


@pytest.fixture
def backend(db) -> Backend:
    return BackendFactory(name="cluster.example.org")


@pytest.fixture
def flavor(db):
    return FlavorFactory(name="m1.tiny", vcpus=1, ram=128, disk=1, disk_template="file")


@pytest.fixture
def flavor_alt(db):
    return FlavorFactory(name="m1.small", vcpus=2, ram=256, disk=2, disk_template="file")


@pytest.fixture
def image(db):
    return ImageFactory(name="debian")


@pytest.fixture
def image_alt(db):
    return ImageFactory(name="alpine")


@pytest.fixture
def member(db):
    return token_client(Role.MEMBER, headers=MV21)


@pytest.fixture
def admin(db):
    """A cloud administrator (a module may define its own ``admin``)."""
    return token_client(Role.ADMIN, user=UserFactory(is_admin=True))


@pytest.fixture
def reader(member):
    return token_client(Role.READER, project=member.project, headers=MV21)


@pytest.fixture
def other(db):
    """A member of another project."""
    return token_client(Role.MEMBER, headers=MV21)


@pytest.fixture
def server(member, jobs, backend, flavor, image):
    """A server of ``member``'s project, just created through the API (BUILD, job recorded)."""
    from logic.models import Server

    body = {"server": {"name": "vm1", "flavorRef": str(flavor.pk), "imageRef": str(image.id), "metadata": {"k": "v"}}}
    resp = member.post("/compute/v2.1/servers", body, format="json")
    assert resp.status_code == 202
    return Server.objects.get(pk=int(resp.json()["server"]["id"]))


@pytest.fixture
def attached(member, server):
    """A volume attached (in-use) to ``server`` as a finished attach leaves it."""
    from logic.enums import VolumeAttachStatus, VolumeStatus
    from logic.models import Volume, VolumeType

    kind = VolumeType.objects.create(name="file", disk_template="file")
    return Volume.objects.create(
        project=member.project, user=member.user_obj, size=1, volume_type=kind, status=VolumeStatus.IN_USE,
        attach_status=VolumeAttachStatus.ATTACHED, server=server, device="/dev/vdb", has_disk=True,
    )  # fmt: skip
