"""The libvirt driver's operations: those of :mod:`logic.ganeti_jobs`, done through libvirt-python.

Each operation takes a job id (:func:`.messages.next_job_id`), asks libvirt,
publishes the job's one message (success or error) on the bus and returns the
id, like a Ganeti job that ended at once: the dispatcher applies the message
with the same transition function as Ganeti's. A host that cannot be reached
raises (the submission failed: nothing was done). Domains are named
``server.ganeti_name`` and carry their ownership in ``<metadata>``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

import libvirt
from django.conf import settings
from lxml import etree

from cyclades.logs import request_id_var
from logic.drivers.libvirt import disks, messages, templates
from logic.drivers.libvirt import nics as nic_xml
from logic.drivers.libvirt.connections import LibvirtUnavailable, connection
from logic.drivers.libvirt.jobs_errors import NotSupported
from logic.enums import JobStatus, OpCode, OperState
from logic.errors import InvalidInput
from logic.image_stores.base import StoreError
from logic.models import Backend, Flavor, Image, Server

log = logging.getLogger(__name__)


def _backend(server: Server) -> Backend:
    if server.backend is None or server.backend.kind != Backend.Kind.LIBVIRT:
        raise InvalidInput(f"server {server.id} is not on a libvirt backend")
    return server.backend


def domain_type(backend: Backend) -> str:
    """``test`` for libvirt's test driver, else ``CYCLADES["LIBVIRT_DOMAIN_TYPE"]`` (``qemu``: TCG; or ``kvm``)."""
    if backend.libvirt_uri.startswith("test:"):
        return "test"
    return settings.CYCLADES.get("LIBVIRT_DOMAIN_TYPE") or "qemu"


def beparams_for(flavor: Flavor) -> dict[str, int]:
    return {"vcpus": flavor.vcpus, "maxmem": flavor.ram, "minmem": flavor.ram}


def domain_xml(server: Server, flavor: Flavor | None = None, nics: list[dict] | None = None) -> str:
    """The server's domain XML from its template (:mod:`.templates`), with its NICs; validated."""
    backend = _backend(server)
    flavor = flavor or server.flavor
    values = {
        "domain_type": domain_type(backend),
        "name": server.ganeti_name,
        "server_id": server.id,
        "user_id": server.user_id,
        "project_id": server.project_id,
        "flavor": flavor.name,
        "image": server.image_id or "",
        "memory_mib": flavor.ram,
        "vcpus": flavor.vcpus,
    }
    xml = templates.render_for(flavor_name=flavor.name, backend_name=backend.name, values=values)
    disk_elements = disks.elements(server, flavor, backend.libvirt_uri)
    if not nics and not disk_elements:
        return xml
    root = nic_xml.add_interfaces(xml, nics or [])
    devices = root.find("devices")
    for el in disk_elements:
        devices.append(el)
    templates.validate(root, f"domain of server {server.id} with its disks and NICs")
    return etree.tostring(root, encoding="unicode")


def _run(
    server: Server,
    operation: str,
    what: str,
    work: Callable[[libvirt.virConnect], dict | None],
    *,
    job_fields: dict | None = None,
) -> int:
    """Take a job id, do ``work(conn)`` (its return: extra message fields), publish the job's outcome.

    The bus must be reachable: a message that cannot be published raises (there is no
    spool yet), so the API records the operation as failed although libvirt did it; the
    lifecycle events then bring the server's state back in line.
    """
    backend = _backend(server)
    conn = connection(backend.libvirt_uri)  # unreachable: raises, nothing submitted
    job_id = messages.next_job_id(backend)
    name = server.ganeti_name
    reason = messages.user_reason(what, request_id_var.get())
    try:
        extra = work(conn) or {}
        message = messages.op_message(
            backend.name,
            instance=name,
            operation=operation,
            status=JobStatus.SUCCESS,
            job_id=job_id,
            reason=reason,
            job_fields=job_fields,
            **extra,
        )
    except (libvirt.libvirtError, StoreError) as exc:
        missing = isinstance(exc, libvirt.libvirtError) and exc.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN
        text = (exc.get_error_message() if isinstance(exc, libvirt.libvirtError) else None) or str(exc)
        log.info("%s of %s (job %s) failed: %s", what, name, job_id, text)
        message = messages.op_message(
            backend.name,
            instance=name,
            operation=operation,
            status=JobStatus.ERROR,
            job_id=job_id,
            reason=reason,
            job_fields=job_fields,
            result=messages.error_result(text, not_found_instance=name if missing else None),
        )
    messages.publish(message)
    log.info("%s of %s done as job %s", what, name, job_id, extra={"server_id": server.id, "job_id": job_id})
    return job_id


def _domain(conn: libvirt.virConnect, server: Server) -> libvirt.virDomain:
    return conn.lookupByName(server.ganeti_name)


def _wait_off(dom: libvirt.virDomain, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while dom.isActive():
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.1)
    return True


def _shutdown_timeout() -> int:
    return settings.CYCLADES.get("GANETI_SHUTDOWN_TIMEOUT", 60)


# ----------------------------------------------------------------------------- operations
def create_server(server: Server, *, nics: list[dict], depends: Sequence[int] = ()) -> int:
    """Define the domain from its template (with ``nics``, :mod:`.nics`) and start it.

    ``depends`` (Ganeti jobs that connect a network first) has no meaning on a libvirt host:
    its networks exist before any domain uses them, so there is nothing to wait for.
    """
    del depends
    xml = domain_xml(server, nics=nics)  # a bad template raises before any job exists

    def work(conn):
        made = disks.create(conn, server, server.flavor, _backend(server).libvirt_uri)
        if made:
            log.info("disks of %s: %s", server.ganeti_name, ", ".join(made))
        try:
            dom = conn.defineXML(xml)
        except libvirt.libvirtError:
            disks.remove(conn, server)  # no domain uses them
            raise
        dom.create()
        return {"beparams": beparams_for(server.flavor), "nics": nic_xml.reported(dom.XMLDesc(0), nics)}

    return _run(server, OpCode.INSTANCE_CREATE, "create", work)


def start_server(server: Server) -> int:
    def work(conn):
        _domain(conn, server).create()

    return _run(server, OpCode.INSTANCE_STARTUP, "startup", work)


def stop_server(server: Server, timeout: int | None = None) -> int:
    """ACPI shutdown; forced off after ``timeout`` s (default ``GANETI_SHUTDOWN_TIMEOUT``), as Ganeti does."""
    timeout = _shutdown_timeout() if timeout is None else timeout

    def work(conn):
        dom = _domain(conn, server)
        if dom.isActive():
            dom.shutdown()
            if not _wait_off(dom, timeout):
                dom.destroy()

    return _run(server, OpCode.INSTANCE_SHUTDOWN, "shutdown", work)


def reboot_server(server: Server, hard: bool) -> int:
    """Soft: the guest is asked to reboot; hard: the domain is powered off and started again."""

    def work(conn):
        dom = _domain(conn, server)
        if hard:
            if dom.isActive():
                dom.destroy()
            dom.create()
        else:
            dom.reboot(0)

    kind = "hard" if hard else "soft"
    return _run(server, OpCode.INSTANCE_REBOOT, f"{kind} reboot", work, job_fields={"reboot_type": kind})


def resize_server(server: Server, flavor: Flavor, *, restart: bool = False) -> int:
    """The new flavor's memory and vCPUs in the persistent definition; with ``restart`` they apply now."""

    def work(conn):
        dom = _domain(conn, server)
        root = etree.fromstring(dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE))
        for tag in ("memory", "currentMemory"):
            for el in root.findall(tag):
                el.set("unit", "MiB")
                el.text = str(flavor.ram)
        for el in root.findall("vcpu"):
            el.text = str(flavor.vcpus)
            el.attrib.pop("current", None)
        conn.defineXML(etree.tostring(root, encoding="unicode"))
        if restart and dom.isActive():
            dom.shutdown()
            if not _wait_off(dom, _shutdown_timeout()):
                dom.destroy()
            dom.create()
        return {"beparams": beparams_for(flavor)}

    return _run(server, OpCode.INSTANCE_SET_PARAMS, f"resize to {flavor.name}", work)


def destroy_server(server: Server) -> int:
    """Power off, undefine and remove the disks (:mod:`.disks`); a domain already gone counts as removed."""

    def work(conn):
        try:
            dom = _domain(conn, server)
        except libvirt.libvirtError as exc:
            if exc.get_error_code() != libvirt.VIR_ERR_NO_DOMAIN:
                raise
            dom = None  # gone already: its disks may still be there
        if dom is not None:
            if dom.isActive():
                dom.destroy()
            dom.undefine()
        removed = disks.remove(conn, server)
        if removed:
            log.info("disks of %s removed: %s", server.ganeti_name, ", ".join(removed))
        return None

    return _run(server, OpCode.INSTANCE_REMOVE, "remove", work)


def rebuild_server(server: Server, image: Image) -> int:
    """Power off, make the disks again from ``image`` (a fresh clone or qcow2 overlay and config drive: :mod:`.disks`),
    start again unless the server was stopped (as Nova: a SHUTOFF server stays SHUTOFF).

    The disks keep their names, so the domain definition does not change. The host's lifecycle
    events report the stop and the start; this job's message ends the rebuild task.
    """
    start = server.operstate != OperState.STOPPED
    backend = _backend(server)
    server.image = image
    disks.elements(server, server.flavor, backend.libvirt_uri)  # the image can serve the flavor's disk: before any change

    def work(conn):
        dom = _domain(conn, server)
        if dom.isActive():
            dom.shutdown()
            if not _wait_off(dom, _shutdown_timeout()):
                dom.destroy()
        disks.remove(conn, server)
        made = disks.create(conn, server, server.flavor, backend.libvirt_uri)
        log.info("disks of %s made again from image %s: %s", server.ganeti_name, image.id, ", ".join(made))
        if start:
            dom.create()

    return _run(server, OpCode.INSTANCE_REINSTALL, f"rebuild from image {image.id}", work)


def rename_server(server: Server, new_name: str) -> int:
    raise NotSupported("rename is not supported on libvirt backends")


def add_nic(server: Server, **spec: Any) -> int:
    """A NIC at the end of the domain (:func:`.devices.add_nic`)."""
    from logic.drivers.libvirt import devices

    return devices.add_nic(server, **spec)


def remove_nic(server: Server, index: int) -> int:
    """The NIC reported at ``index`` taken off the domain (:func:`.devices.remove_nic`)."""
    from logic.drivers.libvirt import devices

    return devices.remove_nic(server, index)


def console_info(server: Server) -> dict[str, Any]:
    """The domain's VNC endpoint (``kind``, ``host``, ``port``) as :func:`logic.ganeti_jobs.console_info` answers.

    ``host``/``port`` are None when there is none to reach (no VNC graphics, no port
    assigned, the host unreachable): the console service then says it is unavailable.
    """
    backend = _backend(server)
    try:
        conn = connection(backend.libvirt_uri)
        root = etree.fromstring(_domain(conn, server).XMLDesc(0))
        hostname = conn.getHostname()
    except (LibvirtUnavailable, libvirt.libvirtError) as exc:
        log.warning("console of %s: %s", server.ganeti_name, exc)
        return {"instance": server.ganeti_name, "kind": "vnc", "host": None, "port": None}
    graphics = root.find("devices/graphics[@type='vnc']")
    port = int(graphics.get("port", "-1")) if graphics is not None else -1
    if port <= 0:
        return {"instance": server.ganeti_name, "kind": "vnc" if graphics is not None else None, "host": None, "port": None}
    listen = graphics.get("listen")
    return {
        "instance": server.ganeti_name,
        "kind": "vnc",
        "host": listen if listen not in (None, "0.0.0.0") else hostname,
        "port": port,
    }
