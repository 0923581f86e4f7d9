"""A new server's NICs as Neutron ports (``--nic net-id=,v4-fixed-ip=,port-id=``).

:func:`bind_ports` runs in the create's transaction: each requested network
gets a new port (its addresses from our pools), each requested port is bound;
an exhausted pool, a taken address or a port in use fails the whole request
before any Ganeti job. :func:`job_args`, after the commit, makes the networks
exist on the server's cluster and returns the NIC specs and the jobs the
create must depend on.
"""

from __future__ import annotations

from contextlib import ExitStack

from django.db import transaction

from logic.backends import client_for
from logic.models import Backend, Port, Server
from logic.neutron import ganeti_networks, server_ports
from logic.neutron.errors import NeutronBadRequest, NeutronConflict, NeutronNotFound
from logic.servers.create_request import NetworkRequest
from logic.servers.errors import Conflict, Invalid

#: Neutron errors that are the client's fault in a server create (Nova answers 400 for them).
_BAD_REQUEST = {"IpAddressAlreadyAllocated", "InvalidIpForNetwork", "InvalidIpForSubnet", "IpAddressGenerationFailure"}


def bind_ports(ctx, server: Server, requests: list[NetworkRequest], groups: list[str] | None = None) -> None:
    """Ports for ``server``'s NICs, in order (None where the cluster's default NIC is meant)."""
    bound: list[Port | None] = []
    for request in requests:
        if request.network is None and request.port is None:
            bound.append(None)
            continue
        nic = server_ports.NicRequest(network=request.network, fixed_ip=request.fixed_ip, port_id=request.port)
        try:
            bound.append(server_ports.bind(ctx, server, nic, groups=groups if request.port is None else None))
        except NeutronConflict as exc:
            if exc.neutron_type in _BAD_REQUEST:
                raise Invalid(str(exc)) from None
            raise Conflict(str(exc)) from None
        except (NeutronBadRequest, NeutronNotFound) as exc:
            raise Invalid(str(exc)) from None
    server.nic_ports = bound


def job_args(server: Server, requests: list[NetworkRequest]) -> dict:
    """``nics`` and ``depends`` for :func:`logic.ganeti_jobs.create_server`."""
    bound = getattr(server, "nic_ports", [None] * len(requests))
    nics, depends = [], []
    with transaction.atomic(), ExitStack() as stack:
        client = None
        for request, port in zip(requests, bound, strict=True):
            if port is None:
                nics.append(request.as_job_arg())
                continue
            port = server_ports.of_server(server).get(pk=port.pk)
            if server.backend.kind == Backend.Kind.LIBVIRT:  # no Ganeti networks on a libvirt host
                nics.append(ganeti_networks.host_nic_spec(port))
                continue
            if ganeti_networks.needs_ganeti_network(port.network):
                client = client or stack.enter_context(client_for(server.backend))
                depends += ganeti_networks.ensure(port.network, server.backend, client)
            nics.append(ganeti_networks.nic_spec(port))
    return {"nics": nics, "depends": list(dict.fromkeys(depends))}
