"""Choosing the Ganeti cluster (backend) a new server goes to.

:func:`allocate` runs inside the caller's ``transaction.atomic()``:

1. it locks the candidate backend rows (``SELECT ... FOR UPDATE``, in id order so
   concurrent allocations never deadlock) — candidates are online, not drained,
   have a compute node whose ``nova-compute`` service is enabled (``os-services``)
   and are allowed for the project (see *pinning*);
2. keeps those that support the flavor's disk template and have room for it in
   their cached capacity (RAM, vCPUs, and disk unless the template is diskless);
3. lets the strategy named by the ``ALLOCATOR_STRATEGY`` setting pick one;
4. subtracts the flavor from that backend's cached free counters, in the same
   transaction.

So concurrent creates queue on the row locks and each sees the room left by
the ones before it: a nearly full cluster is never handed out twice. The lock
is held until the caller's transaction ends: keep that transaction short.
:func:`release` gives the room back (a create that failed before reaching Ganeti).

*Pinning*: a backend with pinned projects (``Backend.pinned_projects``) is
dedicated to them; a project pinned to backends is placed only on those.
Projects without pins share the backends without pins.

Strategies are functions ``(candidates: list[Backend], need: Need) -> Backend``
over backends that all have room. :func:`most_free` (the default) spreads
servers: it maximises the score

    score = 0.5 · free_RAM/total_RAM + 0.3 · free_vCPU/total_vCPU + 0.2 · free_disk/total_disk

computed *after* placing the server (the disk term only when the server uses
disk; weights re-normalised without it), ties broken by the lowest backend id.
:func:`fill_first` packs servers on the fullest backend with room (lowest
score), keeping whole clusters free.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.db import connection
from django.db.models import Exists, F, OuterRef
from django.utils.module_loading import import_string

from logic.errors import LogicError
from logic.models import Backend, ComputeNode, Flavor, Project
from logic.placement import Placement

WEIGHTS = {"mem": 0.5, "cpu": 0.3, "disk": 0.2}


class NoBackendAvailable(LogicError):
    """No backend can take the server; ``reason`` says why in words an operator can act on."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"No valid host was found: {reason}")
        self.reason = reason


@dataclass(frozen=True)
class Need:
    """What one server of a flavor takes from a backend (MiB, vCPUs, MiB)."""

    mem: int
    cpu: int
    disk: int
    disk_template: str

    @classmethod
    def of(cls, flavor: Flavor) -> Need:
        disk = flavor.disk * 1024 if flavor.has_disk else 0
        return cls(mem=flavor.ram, cpu=flavor.vcpus, disk=disk, disk_template=flavor.disk_template)


Strategy = Callable[[list[Backend], Need], Backend]


def has_room(backend: Backend, need: Need) -> bool:
    return backend.mem_free >= need.mem and backend.cpu_free >= need.cpu and backend.disk_free >= need.disk


def score(backend: Backend, need: Need) -> float:
    """Weighted free ratios after placing ``need`` (0 = full, 1 = empty); see the module docstring."""
    terms = [
        (WEIGHTS["mem"], backend.mem_free - need.mem, backend.mem_total),
        (WEIGHTS["cpu"], backend.cpu_free - need.cpu, backend.cpu_total),
    ]
    if need.disk:
        terms.append((WEIGHTS["disk"], backend.disk_free - need.disk, backend.disk_total))
    weight_sum = sum(w for w, _, _ in terms)
    return sum(w * (free / total if total > 0 else 0.0) for w, free, total in terms) / weight_sum


def most_free(candidates: list[Backend], need: Need) -> Backend:
    """Spread: the backend with the highest score after placement."""
    return max(candidates, key=lambda b: (score(b, need), -b.id))


def fill_first(candidates: list[Backend], need: Need) -> Backend:
    """Pack: the backend with the lowest score after placement that still has room."""
    return min(candidates, key=lambda b: (score(b, need), b.id))


@functools.cache
def _load_strategy(path: str) -> Strategy:
    return import_string(path)


def strategy() -> Strategy:
    """The configured strategy (``ALLOCATOR_STRATEGY``, a dotted path)."""
    return _load_strategy(settings.CYCLADES.get("ALLOCATOR_STRATEGY") or "logic.allocator.most_free")


def _candidate_ids(project: Project) -> list[int] | None:
    """Backend ids the project may use, or None meaning "every backend without pins"."""
    pinned = list(project.pinned_backends.values_list("id", flat=True))
    return pinned or None


def closed_backends():
    """Backends whose every known compute node has its service disabled or forced down (``os-services``)."""
    present = ComputeNode.objects.filter(backend=OuterRef("pk"), present=True)
    open_nodes = present.filter(disabled=False, forced_down=False)
    return Backend.objects.filter(Exists(present)).exclude(Exists(open_nodes)).values("id")


def allocate(*, flavor: Flavor, project: Project, host: str | None = None) -> Backend:
    """Pick a backend for a new server of ``flavor`` in ``project`` and reserve its room.

    ``host``: only that backend (an admin's requested destination, Nova 2.74).

    Must run inside ``transaction.atomic()``. Raises :class:`NoBackendAvailable`.
    """
    return place(flavor=flavor, project=project, host=host)[0]


def place(
    *, flavor: Flavor, project: Project, placement: Placement | None = None, host: str | None = None
) -> tuple[Backend, str | None]:
    """:func:`allocate`, with the node constraints of ``placement`` (:mod:`logic.placement`).

    Returns the backend and the Ganeti node the server must be created on (None: Ganeti
    chooses).
    """
    placement = placement or Placement()
    if not connection.in_atomic_block:
        raise RuntimeError("allocate() must run inside transaction.atomic(): it holds row locks until commit")
    need = Need.of(flavor)
    rows = Backend.objects.select_for_update().filter(offline=False, drained=False).order_by("id")
    if host is not None:
        rows = rows.filter(name=host)
    allowed = _candidate_ids(project)
    if allowed is not None:
        rows = rows.filter(id__in=allowed)
    else:
        dedicated = Backend.pinned_projects.through.objects.values("backend_id")
        rows = rows.exclude(id__in=dedicated)
    rows = rows.exclude(id__in=closed_backends())
    online = list(rows)
    if not online:
        raise NoBackendAvailable("no online, undrained backend is available to this project")
    capable = [b for b in online if need.disk_template in (b.disk_templates or [])]
    if not capable:
        raise NoBackendAvailable(f"no available backend supports disk template {need.disk_template!r}")
    roomy = [b for b in capable if has_room(b, need)]
    if not roomy:
        raise NoBackendAvailable(
            f"no backend has room for {need.mem} MiB RAM, {need.cpu} vCPU(s)" + (f", {need.disk} MiB disk" if need.disk else "")
        )
    placeable = placement.filter(roomy)
    if not placeable:
        raise NoBackendAvailable(placement.describe())
    chosen = strategy()(placeable, need)
    Backend.objects.filter(pk=chosen.pk).update(
        mem_free=F("mem_free") - need.mem, cpu_free=F("cpu_free") - need.cpu, disk_free=F("disk_free") - need.disk
    )
    chosen.refresh_from_db(fields=["mem_free", "cpu_free", "disk_free"])
    return chosen, placement.node(chosen)


def release(backend: Backend, flavor: Flavor) -> None:
    """Give back the room :func:`allocate` reserved (the server never reached Ganeti)."""
    need = Need.of(flavor)
    Backend.objects.filter(pk=backend.pk).update(
        mem_free=F("mem_free") + need.mem, cpu_free=F("cpu_free") + need.cpu, disk_free=F("disk_free") + need.disk
    )
