"""The allocator on PostgreSQL: row locks keep concurrent placements within each backend's room."""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from django.db import close_old_connections, connection, transaction

from logic import allocator
from logic.allocator import NoBackendAvailable, allocate
from logic.models import Backend
from tests.factories import FlavorFactory, ProjectFactory


def make_backend(name: str, *, mem: int, cpu: int = 64, disk: int = 0, templates=("diskless", "file"), **flags) -> Backend:
    b = Backend(
        name=name,
        rapi_host="192.0.2.1",  # never contacted: the allocator reads cached figures only
        rapi_user="u",
        disk_templates=list(templates),
        mem_total=mem,
        mem_free=mem,
        cpu_total=cpu,
        cpu_free=cpu,
        disk_total=disk,
        disk_free=disk,
        **flags,
    )
    b.rapi_password = "x"
    b.save()
    return b


def allocate_in_threads(n: int, flavor, project) -> tuple[Counter, list[str]]:
    """``n`` threads, each its own DB connection, all released at once; returns placements and refusals."""
    placed: Counter = Counter()
    refused: list[str] = []
    errors: list[BaseException] = []
    lock = threading.Lock()
    start = threading.Barrier(n)

    def worker() -> None:
        try:
            start.wait()
            with transaction.atomic():
                backend = allocate(flavor=flavor, project=project)
            with lock:
                placed[backend.name] += 1
        except NoBackendAvailable as exc:
            with lock:
                refused.append(exc.reason)
        except BaseException as exc:  # reported by the test
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors
    return placed, refused


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_50_concurrent_allocations_never_exceed_any_backends_room():
    flavor = FlavorFactory(ram=100, vcpus=1, disk_template="diskless")
    project = ProjectFactory()
    rooms = {"a": 10, "b": 6, "c": 3}  # servers of this flavor each backend can take
    for name, room in rooms.items():
        make_backend(name, mem=room * 100 + 50)  # 50 MiB spare: not enough for one more
    make_backend("drained", mem=100_000, drained=True)
    make_backend("offline", mem=100_000, offline=True)
    make_backend("no-diskless", mem=100_000, templates=("file",))

    placed, refused = allocate_in_threads(50, flavor, project)
    close_old_connections()

    assert sum(placed.values()) == sum(rooms.values()) == 19
    assert len(refused) == 31 and all("no backend has room" in r for r in refused)
    for name, room in rooms.items():
        assert placed[name] == room, (name, placed)
    assert not {"drained", "offline", "no-diskless"} & set(placed)
    for b in Backend.objects.filter(name__in=rooms):
        assert b.mem_free == 50 and b.cpu_free == 64 - rooms[b.name]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_drained_and_offline_backends_are_never_chosen():
    flavor = FlavorFactory(ram=100, vcpus=1, disk_template="diskless")
    project = ProjectFactory()
    make_backend("drained", mem=10**6, drained=True)
    make_backend("offline", mem=10**6, offline=True)
    with pytest.raises(NoBackendAvailable, match="no online, undrained backend"), transaction.atomic():
        allocate(flavor=flavor, project=project)
    small = make_backend("small", mem=250)
    chosen = []
    for _ in range(2):
        with transaction.atomic():
            chosen.append(allocate(flavor=flavor, project=project).name)
    assert chosen == ["small", "small"]
    with pytest.raises(NoBackendAvailable, match="no backend has room"), transaction.atomic():
        allocate(flavor=flavor, project=project)
    small.refresh_from_db()
    assert small.mem_free == 50


@pytest.mark.django_db
def test_disk_template_disk_room_and_scoring():
    project = ProjectFactory()
    make_backend("diskless-only", mem=10_000, templates=("diskless",))
    roomy = make_backend("file-big", mem=4_000, disk=100 * 1024)
    make_backend("file-small", mem=8_000, disk=1024)
    file_flavor = FlavorFactory(ram=128, vcpus=1, disk=2, disk_template="file")
    with transaction.atomic():
        assert allocate(flavor=file_flavor, project=project) == roomy  # only one with 2 GiB free
    roomy.refresh_from_db()
    assert roomy.disk_free == 98 * 1024 and roomy.mem_free == 4_000 - 128

    with pytest.raises(NoBackendAvailable, match="disk template 'sharedfile'"), transaction.atomic():
        allocate(flavor=FlavorFactory(disk_template="sharedfile"), project=project)

    # most_free spreads: the diskless flavor goes to the emptiest (highest score) backend
    diskless = FlavorFactory(ram=128, vcpus=1, disk_template="diskless")
    with transaction.atomic():
        assert allocate(flavor=diskless, project=project).name == "diskless-only"


@pytest.mark.django_db
def test_fill_first_strategy_from_settings(settings):
    settings.CYCLADES = {**settings.CYCLADES, "ALLOCATOR_STRATEGY": "logic.allocator.fill_first"}
    project = ProjectFactory()
    make_backend("empty", mem=10_000)
    busy = make_backend("busy", mem=10_000)
    Backend.objects.filter(pk=busy.pk).update(mem_free=1_000)
    flavor = FlavorFactory(ram=128, vcpus=1, disk_template="diskless")
    with transaction.atomic():
        assert allocate(flavor=flavor, project=project).name == "busy"
    assert allocator.strategy() is allocator.fill_first


@pytest.mark.django_db
def test_project_pinning():
    flavor = FlavorFactory(ram=128, vcpus=1, disk_template="diskless")
    pinned_project, other_project = ProjectFactory(), ProjectFactory()
    shared = make_backend("shared", mem=100_000)
    dedicated = make_backend("dedicated", mem=1_000)
    dedicated.pinned_projects.add(pinned_project)
    for _ in range(3):
        with transaction.atomic():
            assert allocate(flavor=flavor, project=pinned_project) == dedicated
            assert allocate(flavor=flavor, project=other_project) == shared


@pytest.mark.django_db(transaction=True)
def test_allocate_outside_a_transaction_is_a_programming_error():
    with pytest.raises(RuntimeError, match="transaction.atomic"):
        allocate(flavor=FlavorFactory(), project=ProjectFactory())


@pytest.mark.django_db
def test_release_gives_the_room_back():
    b = make_backend("one", mem=1_000, disk=10 * 1024)
    flavor = FlavorFactory(ram=300, vcpus=2, disk=3, disk_template="file")
    with transaction.atomic():
        allocate(flavor=flavor, project=ProjectFactory())
    allocator.release(b, flavor)
    b.refresh_from_db()
    assert (b.mem_free, b.cpu_free, b.disk_free) == (1_000, 64, 10 * 1024)
