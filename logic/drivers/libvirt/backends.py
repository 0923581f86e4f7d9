"""Adding a libvirt host as a backend and reading its capacity."""

from __future__ import annotations

import logging
import os

import libvirt
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from logic.backends import BackendCheckFailed
from logic.drivers.libvirt import ceph, templates
from logic.drivers.libvirt.connections import LibvirtUnavailable, connection
from logic.drivers.libvirt.jobs import domain_type
from logic.image_stores.base import StoreError
from logic.models import Backend

log = logging.getLogger(__name__)

#: what servers on a libvirt backend can have (:mod:`.disks`: RBD clones, qcow2 files, none)
DISK_TEMPLATES = ["diskless", "rbd", "file"]


def capacity(conn: libvirt.virConnect) -> dict[str, int]:
    """Memory (MiB) and CPUs of the host; what running domains were given counts as used."""
    info = conn.getInfo()  # [model, memory MiB, cpus, ...]
    mem_total, cpus = int(info[1]), int(info[2])
    running = [dom.info() for dom in conn.listAllDomains(libvirt.VIR_CONNECT_LIST_DOMAINS_ACTIVE)]
    mem_used = sum(int(i[1]) // 1024 for i in running)  # [state, max KiB, KiB, vcpus, cpu time]
    cpu_used = sum(int(i[3]) for i in running)
    disk_total, disk_free = disk_capacity(conn)
    return {
        "mem_total": mem_total,
        "mem_free": max(mem_total - mem_used, 0),
        "cpu_total": cpus,
        "cpu_free": max(cpus - cpu_used, 0),
        "disk_total": disk_total,
        "disk_free": disk_free,
    }


def disk_capacity(conn: libvirt.virConnect) -> tuple[int, int]:
    """Disk (MiB, total and free) for servers' disks: the Ceph cluster of the rbd disks (when its
    ceph.conf exists) plus the host's storage pool of qcow2 files (once defined)."""
    total = free = 0
    cfg = ceph.rbd_config()
    if os.path.isfile(cfg.conffile):
        try:
            stats = ceph.cluster_stats(cfg)
        except StoreError as exc:
            log.warning("disk capacity: Ceph (%s) not counted: %s", cfg.conffile, exc)
        else:
            total, free = total + stats["kb"] // 1024, free + stats["kb_avail"] // 1024
    try:
        pool = conn.storagePoolLookupByName(settings.CYCLADES["LIBVIRT_STORAGE_POOL"])
    except libvirt.libvirtError as exc:
        if exc.get_error_code() != libvirt.VIR_ERR_NO_STORAGE_POOL:
            raise
        return total, free
    if pool.isActive():
        _state, capacity_b, _allocation, available = pool.info()
        total, free = total + capacity_b // (1 << 20), free + available // (1 << 20)
    return total, free


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
