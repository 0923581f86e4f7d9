"""Ganeti clusters as backends: adding one (after checking it), its RAPI client, its cached capacity.

Capacity (what the allocator reads) is computed from the cluster by
:func:`measure_capacity`, over the nodes that can take new instances (online,
not drained, vm_capable):

* RAM: total = Σ (node memory − memory the node itself uses); free = total −
  Σ maxmem of every instance on those nodes (running or not: a stopped server
  may be started at any time, so its memory is committed);
* CPU: total = Σ node CPUs × the cluster's ipolicy ``vcpu-ratio``; free = total −
  Σ instance vCPUs;
* disk: total / free = Σ node storage (``dtotal`` / ``dfree``, Ganeti's view of
  the default storage of the cluster's disk templates).

Servers the database placed on the backend that Ganeti does not list yet
(create job still queued) are subtracted too, so a refresh never hands out
room twice. Between refreshes the allocator reserves room in these counters
as it places servers.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from logic.errors import ConflictError, InvalidInput, LogicError
from logic.models import Backend, Server
from logic.rapi import RapiAuthFailed, RapiClient, RapiError, RapiUnavailable, extract_certificate

log = logging.getLogger(__name__)


class BackendOffline(LogicError):
    """The backend is marked offline: no RAPI call is made to it."""

    def __init__(self, backend: Backend) -> None:
        super().__init__(f"backend {backend.name} is offline")
        self.backend = backend


class BackendCheckFailed(InvalidInput):
    """The cluster could not be reached, refused the credentials, or lacks what the product needs."""


@dataclass
class Capacity:
    """A cluster's capacity in the units the allocator uses (MiB, vCPUs)."""

    mem_total: int = 0
    mem_free: int = 0
    cpu_total: int = 0
    cpu_free: int = 0
    disk_total: int = 0
    disk_free: int = 0

    def as_fields(self) -> dict[str, int]:
        return dict(vars(self))


@dataclass
class ClusterFacts:
    """What the product reads about a cluster before and while using it."""

    name: str
    hypervisor: str
    enabled_hypervisors: list[str]
    disk_templates: list[str]
    capacity: Capacity
    software_version: str = ""
    nodes: list[str] = field(default_factory=list)


# ----------------------------------------------------------------------------- clients
def make_client(
    host: str, port: int, username: str, password: str, certificate_pem: str | None, *, timeout: float | None = None
) -> RapiClient:
    conf = settings.CYCLADES
    return RapiClient(
        host,
        port,
        username,
        password,
        certificate_pem or None,
        timeout=timeout if timeout is not None else conf.get("RAPI_TIMEOUT", 10.0),
        read_retries=conf.get("RAPI_READ_RETRIES", 3),
    )


def client_for(backend: Backend, *, timeout: float | None = None) -> RapiClient:
    """A RAPI client for ``backend``; raises :class:`BackendOffline` for an offline backend."""
    if backend.offline:
        raise BackendOffline(backend)
    return make_client(
        backend.rapi_host,
        backend.rapi_port,
        backend.rapi_user,
        backend.rapi_password,
        backend.rapi_certificate,
        timeout=timeout,
    )


# ----------------------------------------------------------------------------- reading the cluster
def _n(value: Any) -> int:
    return int(value or 0)


def measure_capacity(info: dict, nodes: list[dict], instances: list[dict], pending: dict[str, int] | None = None) -> Capacity:
    """Capacity from ``GET /2/info``, ``/2/nodes?bulk=1``, ``/2/instances?bulk=1`` (see the module docstring).

    ``pending``: resources of servers placed here that Ganeti does not list yet
    (keys ``mem``, ``cpu``, ``disk``).
    """
    usable = [n for n in nodes if not n.get("offline") and not n.get("drained") and n.get("vm_capable", True)]
    names = {n["name"] for n in usable}
    ratio = float((info.get("ipolicy") or {}).get("vcpu-ratio") or 1)
    mem_total = sum(max(0, _n(n.get("mtotal")) - _n(n.get("mnode"))) for n in usable)
    cpu_total = int(sum(_n(n.get("ctotal")) for n in usable) * ratio)
    disk_total = sum(_n(n.get("dtotal")) for n in usable)
    disk_free = sum(_n(n.get("dfree")) for n in usable)
    mem_used = cpu_used = 0
    for inst in instances:
        if inst.get("pnode") not in names:
            continue
        be = inst.get("beparams") or {}
        mem_used += _n(be.get("maxmem") or be.get("memory"))
        cpu_used += _n(be.get("vcpus"))
    pending = pending or {}
    return Capacity(
        mem_total=mem_total,
        mem_free=max(0, mem_total - mem_used - pending.get("mem", 0)),
        cpu_total=cpu_total,
        cpu_free=max(0, cpu_total - cpu_used - pending.get("cpu", 0)),
        disk_total=disk_total,
        disk_free=max(0, disk_free - pending.get("disk", 0)),
    )


def enabled_disk_templates(info: dict) -> list[str]:
    """Disk templates the cluster has enabled AND its instance policy allows."""
    enabled = list(info.get("enabled_disk_templates") or [])
    allowed = (info.get("ipolicy") or {}).get("disk-templates")
    return [t for t in enabled if allowed is None or t in allowed]


def check_write_access(client: RapiClient) -> None:
    """Prove the RAPI user may submit jobs, without submitting one.

    ``GET /2/jobs/<id>/wait`` requires the write right: for a job id that cannot
    exist Ganeti 3.0 answers an error after the access check (500 "Can't load job
    file"), or 401/403 before it.
    """
    try:
        client.wait_for_job_change(2**62, ["status"])
    except RapiAuthFailed as exc:
        raise BackendCheckFailed(f"RAPI user may read but not submit jobs (needs the 'write' option): {exc.message}") from exc
    except RapiUnavailable:
        raise
    except RapiError:
        return  # past the access check


def read_cluster(client: RapiClient, pending_for: Callable[[set[str]], dict[str, int]] | None = None) -> ClusterFacts:
    """Everything the product needs to know about the cluster, in three reads.

    ``pending_for(instance names)`` gives the resources to subtract for servers
    not (yet) among those instances.
    """
    info = client.get_info()
    nodes = client.list_nodes(bulk=True)
    instances = client.list_instances()
    pending = pending_for({i["name"] for i in instances}) if pending_for else None
    return ClusterFacts(
        name=info["name"],
        hypervisor=info.get("default_hypervisor") or "",
        enabled_hypervisors=list(info.get("enabled_hypervisors") or []),
        disk_templates=enabled_disk_templates(info),
        capacity=measure_capacity(info, nodes, instances, pending),
        software_version=info.get("software_version", ""),
        nodes=[n["name"] for n in nodes],
    )


def _pending_servers(backend: Backend, known_instances: set[str]) -> dict[str, int]:
    """Resources of servers placed on ``backend`` that Ganeti does not list (yet)."""
    totals = {"mem": 0, "cpu": 0, "disk": 0}
    servers = Server.objects.filter(backend=backend, deleted=False).select_related("flavor")
    for server in servers:
        if server.ganeti_name in known_instances:
            continue
        totals["mem"] += server.flavor.ram
        totals["cpu"] += server.flavor.vcpus
        if server.flavor.has_disk:
            totals["disk"] += server.flavor.disk * 1024
    return totals


# ----------------------------------------------------------------------------- operations
def add_backend(
    *,
    host: str,
    username: str,
    password: str,
    certificate_pem: str | None,
    port: int = 5080,
    name: str | None = None,
    drained: bool = False,
    timeout: float | None = None,
) -> Backend:
    """Check the cluster (credentials, write right, capabilities) and save it as a backend.

    ``name`` defaults to the cluster's name. The certificate is stored without
    any private key that came along (Ganeti's rapi.pem holds both). Raises
    :class:`BackendCheckFailed` (nothing saved) when the cluster cannot be used.
    """
    if certificate_pem:
        try:
            certificate_pem = extract_certificate(certificate_pem)
        except ValueError as exc:
            raise BackendCheckFailed(f"certificate: {exc}") from exc
    client = make_client(host, port, username, password, certificate_pem, timeout=timeout)
    try:
        with client:
            facts = read_cluster(client)
            check_write_access(client)
    except RapiAuthFailed as exc:
        raise BackendCheckFailed(f"RAPI at {host}:{port} refused the credentials: {exc.message}") from exc
    except RapiError as exc:
        raise BackendCheckFailed(f"RAPI at {host}:{port}: {exc}") from exc
    if not facts.disk_templates:
        raise BackendCheckFailed(f"cluster {facts.name} has no enabled disk template")
    name = name or facts.name
    if Backend.objects.filter(name=name).exists():
        raise BackendCheckFailed(f"a backend named {name!r} exists already")
    backend = Backend(
        name=name,
        rapi_host=host,
        rapi_port=port,
        rapi_user=username,
        rapi_certificate=certificate_pem or "",
        hypervisor=facts.hypervisor,
        disk_templates=facts.disk_templates,
        drained=drained,
        stats_updated_at=timezone.now(),
        **facts.capacity.as_fields(),
    )
    backend.rapi_password = password
    backend.save()
    log.info("backend %s added (%s:%s, %s, %s)", name, host, port, facts.hypervisor, ",".join(facts.disk_templates))
    return backend


def refresh_stats(backend: Backend) -> Backend:
    """Re-read the cluster's hypervisor, disk templates and capacity into the backend row."""
    if backend.kind == Backend.Kind.LIBVIRT:
        from logic.drivers.libvirt.backends import refresh_libvirt_stats

        return refresh_libvirt_stats(backend)
    with client_for(backend) as client:
        facts = read_cluster(client, lambda names: _pending_servers(backend, names))
    with transaction.atomic():
        locked = Backend.objects.select_for_update().get(pk=backend.pk)
        locked.hypervisor = facts.hypervisor
        locked.disk_templates = facts.disk_templates
        for key, value in facts.capacity.as_fields().items():
            setattr(locked, key, value)
        locked.stats_updated_at = timezone.now()
        locked.save()
    return locked


def refresh_all_stats() -> dict[str, str]:
    """Refresh every online backend; returns ``{name: "ok" | error text}`` (one failure does not stop the rest)."""
    results: dict[str, str] = {}
    for backend in Backend.objects.filter(offline=False).order_by("name"):
        try:
            refresh_stats(backend)
            results[backend.name] = "ok"
        except (RapiError, LogicError) as exc:
            log.warning("refreshing backend %s failed: %s", backend.name, exc)
            results[backend.name] = str(exc)
    return results


def modify_backend(
    backend: Backend,
    *,
    host: str | None = None,
    port: int | None = None,
    username: str | None = None,
    password: str | None = None,
    certificate_pem: str | None = None,
    check: bool = True,
) -> Backend:
    """Change how the backend is reached; with ``check`` the new settings must work before they are saved."""
    if certificate_pem:
        try:
            certificate_pem = extract_certificate(certificate_pem)
        except ValueError as exc:
            raise BackendCheckFailed(f"certificate: {exc}") from exc
    new = {
        "rapi_host": host or backend.rapi_host,
        "rapi_port": port or backend.rapi_port,
        "rapi_user": username or backend.rapi_user,
        "rapi_certificate": certificate_pem if certificate_pem is not None else backend.rapi_certificate,
    }
    plain = password if password is not None else backend.rapi_password
    if check and not backend.offline:
        client = make_client(new["rapi_host"], new["rapi_port"], new["rapi_user"], plain, new["rapi_certificate"])
        try:
            with client:
                client.get_info()
                check_write_access(client)
        except RapiError as exc:
            raise BackendCheckFailed(f"new settings do not work: {exc}") from exc
    for key, value in new.items():
        setattr(backend, key, value)
    if password is not None:
        backend.rapi_password = password
    backend.save()
    return backend


def set_drained(backend: Backend, drained: bool) -> Backend:
    """Drained: existing servers stay and work, no new server is placed here."""
    Backend.objects.filter(pk=backend.pk).update(drained=drained)
    backend.drained = drained
    return backend


def set_offline(backend: Backend, offline: bool) -> Backend:
    """Offline: no RAPI call at all (cluster down or in maintenance); nothing is placed there either."""
    Backend.objects.filter(pk=backend.pk).update(offline=offline)
    backend.offline = offline
    return backend


def remove_backend(backend: Backend) -> None:
    """Forget a backend; refused while it has servers that are not deleted."""
    with transaction.atomic():
        locked = Backend.objects.select_for_update().get(pk=backend.pk)
        alive = Server.objects.filter(backend=locked, deleted=False).count()
        if alive:
            raise ConflictError(f"backend {locked.name} still has {alive} server(s); move or delete them first")
        # deleted servers keep their history, without the backend
        Server.objects.filter(backend=locked).update(backend=None)
        locked.delete()
