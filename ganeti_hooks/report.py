"""Build the ``ganeti-hook`` message from the environment Ganeti gives a hook. Stdlib only.

Ganeti runs hooks with ``GANETI_*`` variables: the hook path (``instance-add``),
phase, opcode, cluster, master, and the object's description — for an instance
``GANETI_INSTANCE_NAME``, ``..._NIC<n>_{MAC,IP,MODE,LINK,NAME,UUID,NETWORK_NAME,
NETWORK_UUID,VLAN,BRIDGE}``, ``..._DISK<n>_*``, ``..._BE_<param>``,
``..._STATUS``; for a network ``GANETI_NETWORK_{NAME,SUBNET,GATEWAY,...}`` and for
connect/disconnect ``GANETI_GROUP_*``. In the post phase the same variables
also appear as ``GANETI_POST_*`` describing the object *after* the operation
(``GANETI_INSTANCE_STATUS=up`` but ``GANETI_POST_INSTANCE_STATUS=down`` after a
stop); this module prefers the ``POST_`` values.

The message (routing key ``ganeti.<cluster>.hook``)::

    {"type": "ganeti-hook",
     "id": "<cluster>:hook:<hook path>:<instance or network>:<unique>",
     "cluster": "cluster.ganeti.test", "hook": "instance-add", "phase": "post",
     "operation": "OP_INSTANCE_CREATE", "status": "success",
     "instance": "snf-42" | null, "network": "snf-net-1" | null,
     "event_time": [s, us],                         # when the hook ran
     "nics": [{"index", "mac", "ip", "network", "network_uuid", "mode", "link", "vlan", "name", "uuid"}],
     "disks": [{"index", "size", "mode", "name", "uuid"}],
     "beparams": {...},                             # values typed: ints, booleans
     "instance_status": "up" | "down" | null,       # Ganeti's True/False normalised to up/down
     "new_name": "..." | null,                      # instance-rename
     "network_info": {"subnet", "gateway", "mac_prefix", "tags", ...} | null,   # network hooks
     "group": {"name", "mode", "link", "vlan"} | null,                          # network connect/disconnect
     "master": "node1.ganeti.test"}

``status`` is always ``success``: Ganeti runs post hooks only after the opcode succeeded.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Mapping
from typing import Any

from bus import topology

HOOK = "ganeti-hook"

# The hook paths (Ganeti's HPATH) the product installs post hooks for.
INSTANCE_HOOKS = (
    "instance-add",
    "instance-modify",
    "instance-remove",
    "instance-start",
    "instance-stop",
    "instance-reboot",
    "instance-rename",
)
NETWORK_HOOKS = ("network-add", "network-connect", "network-disconnect", "network-remove")
HOOK_PATHS = INSTANCE_HOOKS + NETWORK_HOOKS

_NIC_RE = re.compile(r"^NIC(\d+)_(.+)$")
_DISK_RE = re.compile(r"^DISK(\d+)_(.+)$")


class HookEnvError(ValueError):
    """The environment does not describe a Ganeti hook run."""


def typed(value: str) -> Any:
    """Ganeti writes every value as text: ``True``/``False``/numbers become Python values."""
    if value in ("True", "False"):
        return value == "True"
    if value in ("None", ""):
        return None
    if re.fullmatch(r"-?\d+", value):
        return int(value)
    return value


def object_vars(env: Mapping[str, str], prefix: str) -> dict[str, str]:
    """``GANETI_POST_<prefix>*`` if any, else ``GANETI_<prefix>*`` (prefix stripped)."""
    for full in (f"GANETI_POST_{prefix}", f"GANETI_{prefix}"):
        found = {k[len(full) :]: v for k, v in env.items() if k.startswith(full)}
        if found:
            return found
    return {}


def _indexed(values: Mapping[str, str], pattern: re.Pattern[str]) -> dict[int, dict[str, str]]:
    out: dict[int, dict[str, str]] = {}
    for key, value in values.items():
        match = pattern.match(key)
        if match:
            out.setdefault(int(match.group(1)), {})[match.group(2)] = value
    return out


def nics(instance: Mapping[str, str]) -> list[dict[str, Any]]:
    out = []
    for index, nic in sorted(_indexed(instance, _NIC_RE).items()):
        out.append(
            {
                "index": index,
                "mac": nic.get("MAC") or None,
                "ip": nic.get("IP") or None,
                "network": nic.get("NETWORK_NAME") or nic.get("NETWORK_UUID") or None,
                "network_uuid": nic.get("NETWORK_UUID") or None,
                "mode": nic.get("MODE") or None,
                "link": nic.get("LINK") or None,
                "vlan": nic.get("VLAN") or None,
                "name": nic.get("NAME") or None,
                "uuid": nic.get("UUID") or None,
            }
        )
    return out


def disks(instance: Mapping[str, str]) -> list[dict[str, Any]]:
    out = []
    for index, disk in sorted(_indexed(instance, _DISK_RE).items()):
        out.append(
            {
                "index": index,
                "size": typed(disk.get("SIZE", "")),
                "mode": disk.get("MODE") or None,
                "name": disk.get("NAME") or None,
                "uuid": disk.get("UUID") or None,
            }
        )
    return out


def _status(value: str | None) -> str | None:
    if value is None or value == "":
        return None
    return {"True": "up", "False": "down"}.get(value, value)


def _network_info(network: Mapping[str, str]) -> dict[str, Any] | None:
    if not network:
        return None
    info = {k.lower(): (v or None) for k, v in network.items() if k != "NAME"}
    if info.get("tags"):
        info["tags"] = info["tags"].split()
    return info


def build(env: Mapping[str, str], *, now_ns: int | None = None, unique: str | None = None) -> tuple[str, dict[str, Any]]:
    """(routing key, message) for a hook run described by ``env``; HookEnvError if it is not one."""
    hook = env.get("GANETI_HOOKS_PATH")
    cluster = env.get("GANETI_CLUSTER")
    if not hook or not cluster:
        raise HookEnvError("GANETI_HOOKS_PATH / GANETI_CLUSTER missing: not run by Ganeti")
    phase = env.get("GANETI_HOOKS_PHASE", "post")
    now_ns = time.time_ns() if now_ns is None else now_ns
    unique = unique or f"{now_ns}-{uuid.uuid4().hex[:12]}"

    instance_vars = object_vars(env, "INSTANCE_")
    network_vars = object_vars(env, "NETWORK_")
    group_vars = object_vars(env, "GROUP_")
    instance = instance_vars.get("NAME") or None
    network = network_vars.get("NAME") or None
    if instance is None and env.get("GANETI_OBJECT_TYPE") == "INSTANCE":
        instance = env.get("GANETI_POST_OP_TARGET") or env.get("GANETI_OP_TARGET") or None
    if network is None and hook.startswith("network-"):
        network = env.get("GANETI_POST_OP_TARGET") or env.get("GANETI_OP_TARGET") or None

    beparams = {k[3:]: typed(v) for k, v in instance_vars.items() if k.startswith("BE_")}
    new_name = env.get("GANETI_POST_INSTANCE_NEW_NAME") or env.get("GANETI_INSTANCE_NEW_NAME") or None
    group = None
    if group_vars:
        group = {
            "name": group_vars.get("NAME") or None,
            "mode": group_vars.get("NETWORK_MODE") or None,
            "link": group_vars.get("NETWORK_LINK") or None,
            "vlan": group_vars.get("NETWORK_VLAN") or None,
        }
    target = instance or network or env.get("GANETI_OP_TARGET") or "-"
    body: dict[str, Any] = {
        "type": HOOK,
        "id": f"{cluster}:hook:{hook}:{target}:{unique}",
        "cluster": cluster,
        "hook": hook,
        "phase": phase,
        "operation": env.get("GANETI_OP_CODE"),
        "status": "success",
        "instance": instance,
        "network": network,
        "event_time": [now_ns // 1_000_000_000, (now_ns // 1000) % 1_000_000],
        "nics": nics(instance_vars),
        "disks": disks(instance_vars),
        "beparams": beparams,
        "instance_status": _status(instance_vars.get("STATUS")),
        "new_name": new_name,
        "network_info": _network_info(network_vars),
        "group": group,
        "master": env.get("GANETI_MASTER") or None,
    }
    return topology.routing_key(cluster, "hook"), body
