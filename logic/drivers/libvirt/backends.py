"""Adding a libvirt host as a backend and reading its capacity."""

from __future__ import annotations

import logging

import libvirt
from django.db import transaction
from django.utils import timezone

from logic.backends import BackendCheckFailed
from logic.drivers.libvirt import templates
from logic.drivers.libvirt.connections import LibvirtUnavailable, connection
from logic.drivers.libvirt.jobs import domain_type
from logic.models import Backend

log = logging.getLogger(__name__)

#: what servers on a libvirt backend can have (disks are not created by the driver yet)
DISK_TEMPLATES = ["diskless"]


def capacity(conn: libvirt.virConnect) -> dict[str, int]:
    """Memory (MiB) and CPUs of the host; what running domains were given counts as used."""
    info = conn.getInfo()  # [model, memory MiB, cpus, ...]
    mem_total, cpus = int(info[1]), int(info[2])
    running = [dom.info() for dom in conn.listAllDomains(libvirt.VIR_CONNECT_LIST_DOMAINS_ACTIVE)]
    mem_used = sum(int(i[1]) // 1024 for i in running)  # [state, max KiB, KiB, vcpus, cpu time]
    cpu_used = sum(int(i[3]) for i in running)
    return {
        "mem_total": mem_total,
        "mem_free": max(mem_total - mem_used, 0),
        "cpu_total": cpus,
        "cpu_free": max(cpus - cpu_used, 0),
        "disk_total": 0,
        "disk_free": 0,
    }


def add_libvirt_backend(*, uri: str, name: str | None = None, drained: bool = False) -> Backend:
    """Connect to ``uri``, check the domain templates that apply, save the host as a backend.

    Raises :class:`BackendCheckFailed` (nothing saved) when the host cannot be reached
    or a template is broken (the message names the template and the element).
    """
    try:
        conn = connection(uri)
        name = name or conn.getHostname()
        facts = capacity(conn)
    except (LibvirtUnavailable, libvirt.libvirtError) as exc:
        raise BackendCheckFailed(f"libvirt host {uri}: {exc}") from exc
    if Backend.objects.filter(name=name).exists():
        raise BackendCheckFailed(f"a backend named {name!r} exists already")
    kind = domain_type(Backend(name=name, kind=Backend.Kind.LIBVIRT, libvirt_uri=uri))
    try:
        checked = templates.check_templates(name, kind)
    except templates.TemplateError as exc:
        raise BackendCheckFailed(str(exc)) from exc
    backend = Backend.objects.create(
        name=name,
        kind=Backend.Kind.LIBVIRT,
        libvirt_uri=uri,
        rapi_host="",
        rapi_port=0,
        rapi_user="",
        rapi_password_encrypted="",
        hypervisor=kind,
        disk_templates=DISK_TEMPLATES,
        drained=drained,
        stats_updated_at=timezone.now(),
        **facts,
    )
    log.info("libvirt backend %s added (%s; templates checked: %s)", name, uri, ", ".join(p.name for p in checked))
    return backend


def refresh_libvirt_stats(backend: Backend) -> Backend:
    """Re-read the host's capacity into the backend row (``backend-refresh-stats``)."""
    try:
        facts = capacity(connection(backend.libvirt_uri))
    except (LibvirtUnavailable, libvirt.libvirtError) as exc:
        raise BackendCheckFailed(f"libvirt host {backend.libvirt_uri}: {exc}") from exc
    with transaction.atomic():
        locked = Backend.objects.select_for_update().get(pk=backend.pk)
        for key, value in facts.items():
            setattr(locked, key, value)
        locked.stats_updated_at = timezone.now()
        locked.save()
    return locked
