"""Nova's os-interface on Ganeti: attach a port (or a new one on a network) as a NIC, detach it.

Attach binds the port in the request's transaction, makes its network exist on
the server's cluster (jobs the NIC job depends on) and submits a ModifyInstance
adding the NIC with the port's MAC and IP. The fake hypervisor (and KVM
without hotplug) cannot hotplug: the job runs with ``hotplug=false``, Ganeti
records the NIC at once and the guest sees it at its next boot; the body says
so in ``hotplug``. A port's state is ACTIVE once Ganeti reports the NIC.
Detach removes the NIC (by its index in what Ganeti reported) the same way and
unbinds the port (deleting it when the compute API made it).

On a libvirt backend (:mod:`logic.drivers.libvirt.devices`, through :mod:`logic.drivers`) there
are no Ganeti networks: the NIC sits on the network's link (a bridge on the host) and names the
API network; a running domain gets it at once (hotplug).
"""

from __future__ import annotations

import logging

from django.db import transaction

from logic import networks as network_reads
from logic.backends import client_for
from logic.drivers import dispatch
from logic.enums import OperState, QuotaResource
from logic.errors import ConflictError, InvalidInput
from logic.identity import AuthContext
from logic.ids import parse_uuid
from logic.models import Backend, Port, Server, ServerNIC
from logic.neutron import ganeti_networks, nets, ports, quota, server_ports
from logic.neutron.errors import NeutronNotFound

log = logging.getLogger(__name__)

_IDLE = (OperState.STARTED, OperState.STOPPED)


def _check_idle(server: Server, action: str) -> None:
    if server.task or server.operstate not in _IDLE or server.backend_id is None:
        raise ConflictError(
            f"Cannot '{action}' instance {server.pk} while it is in state {server.operstate}"
            + (f" with task {server.task}" if server.task else "")
            + "."
        )


def port_state(port: Port, reported_macs: set[str]) -> str:
    """ACTIVE once Ganeti reports the NIC, BUILD before; a free port is DOWN."""
    if port.server_id is None:
        return port.status if port.device_owner == ports.FLOATING_OWNER else "DOWN"
    return "ACTIVE" if port.mac in reported_macs else "BUILD"


def reported_macs(server_ids: list[int]) -> set[str]:
    return set(ServerNIC.objects.filter(server_id__in=server_ids).values_list("mac", flat=True))


def attachment(port: Port, macs: set[str]) -> dict:
    """Nova's ``interfaceAttachment`` body."""
    return {
        "port_id": str(port.pk),
        "net_id": str(port.network_id),
        "mac_addr": port.mac,
        "port_state": port_state(port, macs),
        "fixed_ips": [{"subnet_id": str(a.subnet_id), "ip_address": a.ip_address} for a in port.fixed_ips.all()],
    }


def listing(server: Server) -> list[dict]:
    macs = reported_macs([server.pk])
    return [attachment(p, macs) for p in server_ports.of_server(server).order_by("created_at")]


def show(server: Server, port_id: str) -> dict:
    port = server_ports.of_server(server).filter(pk=parse_uuid(port_id)).first()
    if port is None:
        raise NeutronNotFound("Port", port_id)
    return attachment(port, reported_macs([server.pk]))


def attach(ctx: AuthContext, server: Server, body: object) -> tuple[dict, int]:
    """``{"interfaceAttachment": {"port_id" | "net_id", "fixed_ips": [{"ip_address"}]}}`` → (body, job id)."""
    if not isinstance(body, dict) or not isinstance(body.get("interfaceAttachment", {}), dict):
        raise InvalidInput('Expected {"interfaceAttachment": {"port_id": ...} or {"net_id": ...}}.')
    spec = body.get("interfaceAttachment") or {}
    if spec.get("port_id") and spec.get("net_id"):
        raise InvalidInput("Specify either port_id or net_id, not both.")
    fixed = spec.get("fixed_ips") or []
    if not isinstance(fixed, list) or len(fixed) > 1 or (fixed and not isinstance(fixed[0], dict)):
        raise InvalidInput('fixed_ips takes at most one {"ip_address": ...}.')
    with transaction.atomic():
        server = Server.objects.select_for_update(of=("self",)).select_related("backend").get(pk=server.pk)
        _check_idle(server, "attach_interface")
        if spec.get("port_id"):
            request = server_ports.NicRequest(port_id=str(spec["port_id"]))
        else:
            network = nets.get(ctx, spec["net_id"]) if spec.get("net_id") else network_reads.default_for(ctx)
            if network is None:
                raise InvalidInput("A port_id or a net_id is required: the project has no default network.")
            request = server_ports.NicRequest(network=network, fixed_ip=fixed[0].get("ip_address") if fixed else None)
        port = server_ports.bind(ctx, server, request)
        if server.backend.kind == Backend.Kind.LIBVIRT:  # no Ganeti network: the NIC sits on the network's link
            port = server_ports.of_server(server).get(pk=port.pk)
            nic, depends = ganeti_networks.host_nic_spec(port), []
        else:
            with client_for(server.backend) as client:
                depends = ganeti_networks.ensure(port.network, server.backend, client)
            port = server_ports.of_server(server).get(pk=port.pk)
            nic = ganeti_networks.nic_spec(port)
        job_id = dispatch.add_nic(server, extra=nic, depends=depends)
    log.info("port %s attached to server %s (job %s)", port.pk, server.pk, job_id)
    # a running domain on a libvirt host gets the NIC at once (Ganeti here runs without hotplug)
    hotplug = server.backend.kind == Backend.Kind.LIBVIRT and server.operstate == OperState.STARTED
    return {**attachment(port, set()), "hotplug": hotplug}, job_id


def detach(ctx: AuthContext, server: Server, port_id: str) -> int:
    """Remove the port's NIC from the instance; returns the job id."""
    with transaction.atomic():
        server = Server.objects.select_for_update(of=("self",)).select_related("backend").get(pk=server.pk)
        port = server_ports.of_server(server).filter(pk=parse_uuid(port_id)).first()
        if port is None:
            raise NeutronNotFound("Port", port_id)
        _check_idle(server, "detach_interface")
        nic = ServerNIC.objects.filter(server=server, mac=port.mac).first()
        if nic is None:
            raise ConflictError(f"Port {port.pk} is not yet attached in Ganeti: try again when its state is ACTIVE.")
        job_id = dispatch.remove_nic(server, nic.index)
        if port.made_for_server:
            port.floating_ips.update(port=None, fixed_ip_address=None)
            quota.charge(port.project_id, QuotaResource.PORTS, -1, f"detach and delete port {port.pk}")
            port.delete()
        else:
            Port.objects.filter(pk=port.pk).update(server=None, device_id="", device_owner="", status="DOWN")
    return job_id
