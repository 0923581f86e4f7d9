"""What each opcode does to the simulated cluster, and what it logs on the way.

An opcode runs in two phases, as in Ganeti: ``prepare`` (name lookups done while
the job is still waiting for its locks; a failure here leaves ``exec_timestamp``
null) and ``run``, a generator that yields ``Log`` / ``Sleep`` / ``Fill`` steps and
returns the opcode's result. Failures raise :class:`OpError` with Ganeti's error
class and arguments, which end up verbatim in the job file's ``result``.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import Any

from simganeti.cluster import Cluster, Disk, Instance, Network, Nic, PoolExhausted


class OpError(Exception):
    """An opcode failure as Ganeti reports it: ``[error_class, [args...]]``."""

    def __init__(self, error_class: str, *args: Any) -> None:
        super().__init__(f"{error_class}: {args}")
        self.error_class = error_class
        self.args_ = list(args)

    def encode(self) -> list[Any]:
        return [self.error_class, self.args_]


def prereq(message: str, code: str) -> OpError:
    return OpError("OpPrereqError", message, code)


@dataclass
class Log:
    message: str


@dataclass
class Sleep:
    seconds: float


@dataclass
class Fill:
    """Parameters Ganeti fills in while the opcode runs (hypervisor, pnode, ...)."""

    values: dict[str, Any]


Step = Log | Sleep | Fill
Runner = Generator[Step, None, Any]


@dataclass
class Context:
    """What an opcode may touch: the cluster (guarded by ``lock`` by the caller)."""

    cluster: Cluster


# ------------------------------------------------------------------ helpers
def _instance(ctx: Context, name: str | None) -> Instance:
    inst = ctx.cluster.instances.get(name or "")
    if inst is None:
        raise prereq(f"Instance '{name}' not known", "unknown_entity")
    return inst


def _network(ctx: Context, name: str | None) -> Network:
    net = ctx.cluster.networks.get(name or "")
    if net is None:
        raise prereq(f"Network '{name}' not found", "unknown_entity")
    return net


def _instance_prepare(ctx: Context, op: dict[str, Any]) -> dict[str, Any]:
    inst = ctx.cluster.instances.get(op.get("instance_name") or "")
    filled = {"instance_uuid": inst.uuid if inst else None}
    if op["OP_ID"] == "OP_INSTANCE_SHUTDOWN":
        filled["admin_state_source"] = "admin"
    if inst is None:
        raise _Early(filled, prereq(f"Instance '{op.get('instance_name')}' not known", "unknown_entity"))
    return filled


class _Early(Exception):
    """A failure during lock acquisition: carries the fields filled so far."""

    def __init__(self, filled: dict[str, Any], error: OpError) -> None:
        super().__init__(str(error))
        self.filled = filled
        self.error = error


def _make_nic(ctx: Context, owner: str, spec: dict[str, Any], index: int) -> tuple[Nic, list[str]]:
    """Build a NIC from an opcode's NIC dict; returns it and the log lines Ganeti prints."""
    logs: list[str] = []
    net_name = spec.get("network")
    mode = spec.get("mode") or "bridged"
    link = spec.get("link") or "br-gnt"
    vlan = spec.get("vlan") or ""
    net: Network | None = None
    if net_name:
        net = ctx.cluster.networks.get(net_name)
        if net is None:
            raise prereq(f"Network '{net_name}' not found", "unknown_entity")
        params = net.groups.get(ctx.cluster.group_name)
        if params is None:
            raise prereq(f"Network '{net_name}' is not connected to node group '{ctx.cluster.group_name}'", "wrong_state")
        mode, link, vlan = params
        logs.append(f" - INFO: NIC/{index} inherits netparams {[link, mode, vlan]!r}")
    ip = spec.get("ip")
    if ip is not None and ip.lower() == "none":
        ip = None
    if ip == "pool":
        if net is None:
            raise prereq("if ip=pool, parameter network must be passed too", "wrong_input")
        try:
            ip = net.take(owner)
        except PoolExhausted:
            raise prereq(f"Unable to get a free IP from network '{net.name}'", "wrong_state") from None
        logs.append(f" - INFO: Chose IP {ip} from network {net.name}")
    elif ip is not None:
        try:
            ipaddress.IPv4Address(ip)
        except ValueError:
            raise prereq(f"Invalid IP address '{ip}'", "wrong_input") from None
        if net is not None:
            if not net.is_free(ip):
                raise prereq(f"IP address {ip} already in use or does not belong to network {net.name}", "already_exists")
            net.take(owner, ip)
    mac = spec.get("mac")
    if not mac or mac in ("auto", "generate"):
        mac = ctx.cluster.new_mac(net.mac_prefix if net else None)
    nic = Nic(
        mac=mac,
        ip=ip,
        mode=mode,
        link=link,
        vlan=vlan,
        network_uuid=net.uuid if net else None,
        network_name=net.name if net else None,
        name=spec.get("name"),
    )
    return nic, logs


def _release_nics(ctx: Context, nics: list[Nic]) -> None:
    for nic in nics:
        if nic.network_name and nic.network_name in ctx.cluster.networks:
            ctx.cluster.networks[nic.network_name].release(nic.ip)


# ------------------------------------------------------------------ instances
def _create_prepare(ctx: Context, op: dict[str, Any]) -> dict[str, Any]:
    name = op.get("instance_name")
    if name in ctx.cluster.instances:
        raise _Early({}, prereq(f"Instance '{name}' is already in the cluster", "already_exists"))
    return {"iallocator": op.get("iallocator") or "hail", "helper_startup_timeout": 300, "helper_shutdown_timeout": 7200}


def _create_run(ctx: Context, op: dict[str, Any]) -> Runner:
    c = ctx.cluster
    name = op["instance_name"]
    if op.get("os_type") not in c.os_list:
        raise prereq(f"OS '{op.get('os_type')}' not in supported OS list for cluster nodes", "environment_error")
    template = op.get("disk_template")
    if template not in c.enabled_disk_templates:
        raise prereq(f"Disk template '{template}' is not enabled in cluster", "wrong_input")
    be = dict(op.get("beparams") or {})
    memory = int(be.get("maxmem", be.get("memory", 128)))
    yield Sleep(0.11)
    node = c.node(op["pnode"]) if op.get("pnode") else c.allocate_node(memory)
    if node is None:
        raise prereq(
            "Can't compute nodes using iallocator 'hail': Request failed: Group default: FailMem", "insufficient_resources"
        )
    yield Fill({"hypervisor": "fake", "osparams_private": {}, "osparams_secret": {}, "pnode": node.name, "pnode_uuid": node.uuid})
    yield Log(f" - INFO: Selected nodes for instance {name} via iallocator {op.get('iallocator') or 'hail'}: {node.name}")
    nics: list[Nic] = []
    try:
        for index, spec in enumerate(op.get("nics") or []):
            nic, logs = _make_nic(ctx, name, spec, index)
            nics.append(nic)
            for line in logs:
                yield Log(line)
    except OpError:
        _release_nics(ctx, nics)
        raise
    yield Sleep(0.25)
    disks = [Disk(size=int(d.get("size", 0)), name=d.get("name"), mode=d.get("mode", "rw")) for d in op.get("disks") or []]
    yield Log("* creating instance disks...")
    inst = Instance(
        name=name,
        os=op["os_type"],
        pnode=node.name,
        disk_template=template,
        disks=disks,
        nics=nics,
        custom_beparams=be,
        custom_hvparams=dict(op.get("hvparams") or {}),
        admin_up=bool(op.get("start", True)),
        tags=list(op.get("tags") or []),
    )
    c.instances[name] = inst
    yield Log(f"adding instance {name} to cluster config")
    yield Log("adding disks to cluster config")
    if template != "diskless" and not op.get("no_install"):
        yield Sleep(0.2)
        yield Log("* running the instance OS create scripts...")
    yield Sleep(0.3)
    if op.get("start", True):
        yield Log("* starting instance...")
        yield Sleep(0.1)
        inst.set_running(True)
    inst.touch()
    return [node.name]


def _remove_run(ctx: Context, op: dict[str, Any]) -> Runner:
    inst = _instance(ctx, op["instance_name"])
    yield Sleep(0.3)
    inst.set_running(False)
    _release_nics(ctx, inst.nics)
    del ctx.cluster.instances[inst.name]
    return None


def _startup_run(ctx: Context, op: dict[str, Any]) -> Runner:
    inst = _instance(ctx, op["instance_name"])
    yield Sleep(0.25)
    inst.admin_up = True
    inst.set_running(True)
    inst.touch()
    return None


def _shutdown_run(ctx: Context, op: dict[str, Any]) -> Runner:
    inst = _instance(ctx, op["instance_name"])
    yield Sleep(0.12 if not op.get("timeout") else 0.3)
    inst.admin_up = False
    inst.set_running(False)
    inst.touch()
    return None


def _reboot_run(ctx: Context, op: dict[str, Any]) -> Runner:
    inst = _instance(ctx, op["instance_name"])
    # Like Ganeti: rebooting a stopped instance starts it and marks it up.
    if not inst.running:
        yield Log(f" - INFO: Instance {inst.name} was already stopped, starting now")
    elif op.get("reboot_type") == "full":
        yield Sleep(0.2)
        inst.set_running(False)
    yield Sleep(0.3)
    inst.admin_up = True
    inst.set_running(True)
    inst.touch()
    return None


def _set_params_run(ctx: Context, op: dict[str, Any]) -> Runner:
    inst = _instance(ctx, op["instance_name"])
    changes: list[list[Any]] = []
    for key, value in (op.get("beparams") or {}).items():
        inst.custom_beparams[key] = value
        changes.append([f"be/{key}", value])
    for key, value in (op.get("hvparams") or {}).items():
        inst.custom_hvparams[key] = value
        changes.append([f"hv/{key}", value])
    for mod in op.get("nics") or []:
        action, index, params = _modification(mod)
        if action == "add":
            nic, logs = _make_nic(ctx, inst.name, params, len(inst.nics))
            for line in logs:
                yield Log(line)
            inst.nics.append(nic)
            changes.append(
                [
                    f"nic.{len(inst.nics) - 1}",
                    f"add:mac={nic.mac},ip={nic.ip},mode={nic.mode},link={nic.link},network={nic.network_name}",
                ]
            )
        elif action == "remove":
            pos = _index(inst.nics, index, "NIC")
            _release_nics(ctx, [inst.nics[pos]])
            del inst.nics[pos]
            changes.append([f"nic.{pos}", "remove"])
        else:
            pos = _index(inst.nics, index, "NIC")
            for key in ("mac", "name"):
                if key in params:
                    setattr(inst.nics[pos], key, params[key])
                    changes.append([f"nic.{key}/{pos}", params[key]])
    for mod in op.get("disks") or []:
        action, index, params = _modification(mod)
        if action == "add":
            disk = Disk(size=int(params.get("size", 0)), name=params.get("name"), mode=params.get("mode", "rw"))
            inst.disks.append(disk)
            yield Log(f" - INFO: Creating disk {len(inst.disks) - 1} of size {disk.size} MiB")
            changes.append([f"disk/{len(inst.disks) - 1}", f"add:size={disk.size},mode={disk.mode}"])
        elif action == "remove":
            pos = _index(inst.disks, index, "disk")
            del inst.disks[pos]
            changes.append([f"disk/{pos}", "remove"])
    if op.get("os_name"):
        if op["os_name"] not in ctx.cluster.os_list:
            raise prereq(f"OS '{op['os_name']}' not in supported OS list", "environment_error")
        inst.os = op["os_name"]
        changes.append(["os", op["os_name"]])
    yield Sleep(0.3)
    inst.touch()  # like Ganeti, a running instance keeps its live oper_ram until restarted
    return changes


def _modification(mod: Any) -> tuple[str, Any, dict[str, Any]]:
    if isinstance(mod, list | tuple) and len(mod) == 3:
        return str(mod[0]), mod[1], dict(mod[2] or {})
    if isinstance(mod, list | tuple) and len(mod) == 2:
        action = mod[0] if mod[0] in ("add", "remove") else "modify"
        return str(action), (-1 if action == "add" else mod[0]), dict(mod[1] or {})
    raise prereq(f"Invalid modification {mod!r}", "wrong_input")


def _index(items: list[Any], index: Any, what: str) -> int:
    try:
        pos = int(index)
    except (TypeError, ValueError):
        names = [getattr(i, "name", None) for i in items]
        if index in names:
            return names.index(index)
        raise prereq(f"Cannot find {what} '{index}'", "wrong_input") from None
    if pos == -1 and items:
        return len(items) - 1
    if not 0 <= pos < len(items):
        raise prereq(f"Invalid {what} index {pos}, valid values are 0 to {len(items) - 1}", "wrong_input")
    return pos


def _reinstall_run(ctx: Context, op: dict[str, Any]) -> Runner:
    inst = _instance(ctx, op["instance_name"])
    if inst.running or inst.admin_up:
        raise prereq(f"Instance '{inst.name}' is marked to be up, cannot reinstall", "wrong_state")
    if not inst.disks:
        raise prereq(f"Instance '{inst.name}' has no disks", "wrong_input")
    os_type = op.get("os_type") or inst.os
    if os_type not in ctx.cluster.os_list:
        raise prereq(f"OS '{os_type}' not in supported OS list", "environment_error")
    yield Log("Running the instance OS create scripts...")
    yield Sleep(0.6)
    inst.os = os_type
    inst.touch()
    return None


def _rename_run(ctx: Context, op: dict[str, Any]) -> Runner:
    inst = _instance(ctx, op["instance_name"])
    new = op.get("new_name")
    if inst.admin_up:
        raise prereq(f"Instance '{inst.name}' is marked to be up, cannot rename", "wrong_state")
    if new in ctx.cluster.instances:
        raise prereq(f"Instance '{new}' is already in the cluster", "already_exists")
    yield Sleep(0.4)
    del ctx.cluster.instances[inst.name]
    for nic in inst.nics:
        net = ctx.cluster.networks.get(nic.network_name or "")
        if net and nic.ip and net.reservations.get(nic.ip) == inst.name:
            net.reservations[nic.ip] = new
    inst.name = new
    ctx.cluster.instances[new] = inst
    inst.touch()
    return new


# ------------------------------------------------------------------ networks
def _network_prepare(ctx: Context, op: dict[str, Any]) -> dict[str, Any]:
    if op["OP_ID"] != "OP_NETWORK_ADD" and op.get("network_name") not in ctx.cluster.networks:
        raise _Early({}, prereq(f"Network '{op.get('network_name')}' not found", "unknown_entity"))
    return {}


def _network_add_run(ctx: Context, op: dict[str, Any]) -> Runner:
    name = op["network_name"]
    if name in ctx.cluster.networks:
        raise prereq(f"Network '{name}' already defined", "already_exists")
    try:
        net = ipaddress.IPv4Network(op.get("network") or "")
    except ValueError:
        raise prereq(f"Invalid network '{op.get('network')}'", "wrong_input") from None
    if net.prefixlen > 30:
        raise prereq("Network is too small (at least /30 needed)", "wrong_input")
    yield Sleep(0.15)
    network = Network(
        name=name,
        network=str(net),
        gateway=op.get("gateway"),
        network6=op.get("network6"),
        gateway6=op.get("gateway6"),
        mac_prefix=op.get("mac_prefix"),
        tags=list(op.get("tags") or []),
    )
    for address in op.get("add_reserved_ips") or []:
        network.reservations[address] = None
    ctx.cluster.networks[name] = network
    return None


def _network_remove_run(ctx: Context, op: dict[str, Any]) -> Runner:
    net = _network(ctx, op["network_name"])
    if net.groups:
        yield Log(f" - WARNING: Network '{net.name}' is connected to the following node groups: {', '.join(sorted(net.groups))}")
        raise prereq("Network still connected", "wrong_state")
    yield Sleep(0.2)
    del ctx.cluster.networks[net.name]
    return None


def _network_connect_run(ctx: Context, op: dict[str, Any]) -> Runner:
    net = _network(ctx, op["network_name"])
    group = op.get("group_name")
    if group != ctx.cluster.group_name:
        raise prereq(f"Group '{group}' not found", "unknown_entity")
    if group in net.groups:
        yield Log(f" - WARNING: Network '{net.name}' is already mapped to group '{group}'")
        return None
    yield Sleep(0.08)
    net.groups[group] = [op.get("network_mode") or "bridged", op.get("network_link") or "br-gnt", op.get("network_vlan") or ""]
    return None


def _network_disconnect_run(ctx: Context, op: dict[str, Any]) -> Runner:
    net = _network(ctx, op["network_name"])
    group = op.get("group_name")
    if group not in net.groups:
        yield Log(f" - WARNING: Network '{net.name}' is not mapped to group '{group}'")
        return None
    users = [
        f"{i.name}: nic{idx}/{nic.ip}"
        for i in ctx.cluster.instances.values()
        for idx, nic in enumerate(i.nics)
        if nic.network_uuid == net.uuid
    ]
    if users:
        yield Log(
            f" - WARNING: IP addresses from network '{net.name}', which is about to disconnect from node group "
            f"'{group}', are in use: {', '.join(users)}"
        )
        raise prereq("Conflicting IP addresses found;  remove/modify the corresponding network interfaces", "wrong_state")
    yield Sleep(0.08)
    del net.groups[group]
    return None


# ------------------------------------------------------------------ tags
def _tag_target(ctx: Context, op: dict[str, Any]) -> list[str]:
    kind, name = op.get("kind"), op.get("name")
    if kind == "instance":
        return _instance(ctx, name).tags
    if kind == "network":
        return _network(ctx, name).tags
    raise prereq(f"Tags of {kind!r} objects are not simulated", "wrong_input")


def _tags_set_run(ctx: Context, op: dict[str, Any]) -> Runner:
    tags = _tag_target(ctx, op)
    yield Sleep(0.04)
    for tag in op.get("tags") or []:
        if tag not in tags:
            tags.append(tag)
    return None


def _tags_del_run(ctx: Context, op: dict[str, Any]) -> Runner:
    tags = _tag_target(ctx, op)
    missing = [t for t in op.get("tags") or [] if t not in tags]
    if missing:
        raise prereq(f"Tag(s) {', '.join(repr(t) for t in missing)} not found", "wrong_input")
    yield Sleep(0.04)
    for tag in op.get("tags") or []:
        tags.remove(tag)
    return None


def _tags_prepare(ctx: Context, op: dict[str, Any]) -> dict[str, Any]:
    return {}


@dataclass(frozen=True)
class Semantics:
    prepare: Callable[[Context, dict[str, Any]], dict[str, Any]]
    run: Callable[[Context, dict[str, Any]], Runner]


SEMANTICS: dict[str, Semantics] = {
    "OP_INSTANCE_CREATE": Semantics(_create_prepare, _create_run),
    "OP_INSTANCE_REMOVE": Semantics(_instance_prepare, _remove_run),
    "OP_INSTANCE_STARTUP": Semantics(_instance_prepare, _startup_run),
    "OP_INSTANCE_SHUTDOWN": Semantics(_instance_prepare, _shutdown_run),
    "OP_INSTANCE_REBOOT": Semantics(_instance_prepare, _reboot_run),
    "OP_INSTANCE_SET_PARAMS": Semantics(_instance_prepare, _set_params_run),
    "OP_INSTANCE_REINSTALL": Semantics(_instance_prepare, _reinstall_run),
    "OP_INSTANCE_RENAME": Semantics(_instance_prepare, _rename_run),
    "OP_NETWORK_ADD": Semantics(_network_prepare, _network_add_run),
    "OP_NETWORK_REMOVE": Semantics(_network_prepare, _network_remove_run),
    "OP_NETWORK_CONNECT": Semantics(_network_prepare, _network_connect_run),
    "OP_NETWORK_DISCONNECT": Semantics(_network_prepare, _network_disconnect_run),
    "OP_TAGS_SET": Semantics(_tags_prepare, _tags_set_run),
    "OP_TAGS_DEL": Semantics(_tags_prepare, _tags_del_run),
}

EarlyFailure = _Early
