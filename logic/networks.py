"""The networks a project may use and the ports (server NICs) on them: the minimal Neutron read side.

A project sees the cloud's public and shared networks and its own. A port is a
server NIC as Ganeti reported it (:class:`logic.models.ServerNIC`); the caller
sees the ports of its project's servers.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet

from logic.errors import InvalidInput, NotFoundError
from logic.identity import AuthContext
from logic.ids import parse_uuid
from logic.models import Project, ServerNIC
from logic.models.networks import Network

_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}


def visible(ctx: AuthContext) -> QuerySet[Network]:
    networks = Network.objects.filter(deleted=False)
    if ctx.is_admin:
        return networks
    return networks.filter(Q(public=True) | Q(shared=True) | Q(project=ctx.project))


def get(ctx: AuthContext, network_id: object) -> Network:
    """A network the caller may see; NotFoundError for unknown ids and for names."""
    pk = parse_uuid(network_id)
    network = visible(ctx).filter(pk=pk).first() if pk is not None else None
    if network is None:
        raise NotFoundError(f"Network {network_id} could not be found.")
    return network


def _bool(name: str, value: str) -> bool:
    text = value.strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise InvalidInput(f"Invalid input for {name}. Reason: '{value}' is not a valid boolean value.")


def list_networks(ctx: AuthContext, params) -> list[Network]:
    """Visible networks filtered by Neutron's query parameters (repeatable ones as lists)."""
    networks = visible(ctx)
    if names := params.getlist("name"):
        networks = networks.filter(name__in=names)
    if ids := params.getlist("id"):
        networks = networks.filter(pk__in=[u for u in map(parse_uuid, ids) if u is not None])
    if statuses := params.getlist("status"):
        networks = networks.filter(status__in=statuses)
    for key in ("project_id", "tenant_id"):
        if owners := params.getlist(key):
            networks = networks.filter(project_id__in=owners)
    if (shared := params.get("shared")) is not None:
        networks = networks.filter(shared=_bool("shared", shared))
    if (external := params.get("router:external")) is not None:
        networks = networks.filter(public=_bool("router:external", external))
    if (up := params.get("admin_state_up")) is not None:
        networks = networks.filter(admin_state_up=_bool("admin_state_up", up))
    return list(networks.order_by("created_at", "id"))


def default_for(ctx: AuthContext) -> Network | None:
    """The network a server gets with ``networks: auto``: the project's only network, else the public one."""
    own = list(Network.objects.filter(deleted=False, project=ctx.project)[:2])
    if len(own) == 1:
        return own[0]
    return Network.objects.filter(deleted=False, public=True).order_by("created_at").first()


def create(
    *,
    name: str,
    project: Project | None = None,
    public: bool = False,
    shared: bool = False,
    link: str = "",
    mode: str = Network.Mode.BRIDGED,
    ganeti_network: str = "",
    cidr: str = "",
) -> Network:
    """Register a network (operator action until the network issue brings the Neutron write API)."""
    if not name or len(name) > 255:
        raise InvalidInput("A network name of 1-255 characters is required.")
    if mode not in Network.Mode.values:
        raise InvalidInput(f"Invalid mode {mode!r}: one of {', '.join(Network.Mode.values)}.")
    if project is None and not (public or shared):
        raise InvalidInput("A network without a project must be public or shared.")
    return Network.objects.create(
        name=name,
        project=project,
        public=public,
        shared=shared,
        ganeti_link=link,
        ganeti_mode=mode,
        ganeti_network=ganeti_network,
        cidr=cidr,
    )


# ------------------------------------------------------------------------- ports
def visible_ports(ctx: AuthContext) -> QuerySet[ServerNIC]:
    nics = ServerNIC.objects.filter(server__deleted=False).select_related("server")
    if ctx.is_admin:
        return nics
    return nics.filter(server__project=ctx.project)


def list_ports(ctx: AuthContext, params) -> list[ServerNIC]:
    """Visible ports filtered by ``device_id``, ``network_id``, ``mac_address``, ``id``."""
    nics = visible_ports(ctx)
    if device_ids := params.getlist("device_id"):
        numeric = [int(d) for d in device_ids if d.isascii() and d.isdigit() and len(d) < 19]
        nics = nics.filter(server_id__in=numeric)
    if network_ids := params.getlist("network_id"):
        nics = nics.filter(network_id__in=network_ids)
    if macs := params.getlist("mac_address"):
        nics = nics.filter(mac__in=[m.lower() for m in macs])
    if ids := params.getlist("id"):
        nics = nics.filter(pk__in=[u for u in map(parse_uuid, ids) if u is not None])
    return list(nics.order_by("server_id", "index"))


def get_port(ctx: AuthContext, port_id: object) -> ServerNIC:
    pk = parse_uuid(port_id)
    nic = visible_ports(ctx).filter(pk=pk).first() if pk is not None else None
    if nic is None:
        raise NotFoundError(f"Port {port_id} could not be found.")
    return nic


def for_ganeti_nic(network: str | None, link: str | None, mode: str | None) -> Network | None:
    """The API network behind a NIC Ganeti reports: by its Ganeti network, else by its link and mode."""
    return for_ganeti_network(network) if network else for_ganeti_link(link, mode)


class NicNetworks:
    """The API network behind each (Ganeti network, link, mode), looked up once: a cluster has a
    few networks and thousands of NICs (a reconciliation run, a dispatcher's batch)."""

    def __init__(self) -> None:
        self._found: dict[tuple, Network | None] = {}

    def for_nic(self, nic: dict) -> Network | None:
        if nic.get("network_id"):  # a libvirt host's NIC names the API network itself (no Ganeti network)
            key = ("id", str(nic["network_id"]))
            if key not in self._found:
                self._found[key] = Network.objects.filter(pk=key[1], deleted=False).first()
            return self._found[key]
        key = (nic.get("network"), nic.get("link"), nic.get("mode"))
        if key not in self._found:
            self._found[key] = for_ganeti_nic(*key)
        return self._found[key]

    def id_for(self, nic: dict) -> str | None:
        network = self.for_nic(nic)
        return str(network.pk) if network is not None else None


def for_ganeti_network(name: str | None) -> Network | None:
    """The network whose NICs join the Ganeti network ``name`` (for naming NICs Ganeti reports)."""
    if not name:
        return None
    return Network.objects.filter(ganeti_network=name, deleted=False).order_by("created_at").first()


def for_ganeti_link(link: str | None, mode: str | None) -> Network | None:
    """The network whose NICs sit on ``link`` in ``mode`` without a Ganeti network (None if none or ambiguous).

    A public network wins over private ones on the same link; two candidates of the
    same kind cannot be told apart, so the NIC is then not attributed to either.
    """
    if not link:
        return None
    candidates = Network.objects.filter(ganeti_network="", ganeti_link=link, deleted=False)
    if mode:
        candidates = candidates.filter(ganeti_mode=mode)
    found = list(candidates.order_by("-public", "created_at")[:2])
    if len(found) == 1 or (len(found) == 2 and found[0].public and not found[1].public):
        return found[0]
    return None
