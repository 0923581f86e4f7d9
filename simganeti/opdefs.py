"""The opcodes the simulator runs: their parameters, in Ganeti's order, with defaults.

A Ganeti job file shows an opcode's ``input`` in three shapes as the job moves on
(see ../shared/ganeti-sandbox/samples/job-queue): while *queued* only the
parameters that have a value, the common ones first; once *waiting* the same
keys with the opcode's own parameters first; once *running* every parameter of
the opcode (None included) followed by the common ones. ``OpDef`` keeps the
ordered parameter list so each shape can be produced from one description.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# Common parameters every opcode carries, in the order Ganeti writes them.
COMMON_RUNNING = ("dry_run", "debug_level", "priority", "depends", "comment", "reason", "OP_ID")
COMMON_QUEUED = ("dry_run", "priority", "depends", "comment", "reason", "OP_ID")


@dataclass(frozen=True)
class OpDef:
    """One opcode: OP_ID, ordered (name, default) parameters, how its summary reads."""

    op_id: str
    params: tuple[tuple[str, Any], ...]
    # Parameters filled in only once the opcode runs (None in the queued shape).
    runtime_only: frozenset[str] = field(default_factory=frozenset)
    summary_field: str | None = None
    # RAPI resource name used in the reason trail: gnt:library:rlib2:<resource>
    rapi_resource: str = ""

    @property
    def short(self) -> str:
        return self.op_id[3:]

    def reason_opcode(self) -> str:
        return "gnt:opcode:" + self.short.lower()

    def summary(self, values: dict[str, Any]) -> str:
        if self.summary_field and values.get(self.summary_field) is not None:
            return f"{self.short}({values[self.summary_field]})"
        return self.short


def _d(op_id: str, params: list[tuple[str, Any]], *, runtime: tuple[str, ...] = (), summary: str | None = None) -> OpDef:
    return OpDef(op_id, tuple(params), frozenset(runtime), summary)


INSTANCE_CREATE = _d(
    "OP_INSTANCE_CREATE",
    [
        ("instance_name", None),
        ("force_variant", False),
        ("wait_for_sync", True),
        ("name_check", True),
        ("ignore_ipolicy", False),
        ("opportunistic_locking", False),
        ("beparams", {}),
        ("disks", None),
        ("disk_template", None),
        ("group_name", None),
        ("file_driver", None),
        ("file_storage_dir", None),
        ("hvparams", {}),
        ("hypervisor", None),
        ("iallocator", None),
        ("identify_defaults", False),
        ("ip_check", True),
        ("conflicts_check", True),
        ("mode", None),
        ("nics", None),
        ("no_install", None),
        ("osparams", {}),
        ("osparams_private", None),
        ("osparams_secret", None),
        ("os_type", None),
        ("pnode", None),
        ("pnode_uuid", None),
        ("snode", None),
        ("snode_uuid", None),
        ("source_handshake", None),
        ("source_instance_name", None),
        ("source_shutdown_timeout", 120),
        ("source_x509_ca", None),
        ("src_node", None),
        ("src_node_uuid", None),
        ("src_path", None),
        ("compress", "none"),
        ("start", True),
        ("forthcoming", False),
        ("commit", False),
        ("tags", []),
        ("instance_communication", False),
        ("helper_startup_timeout", None),
        ("helper_shutdown_timeout", None),
    ],
    runtime=("helper_startup_timeout", "helper_shutdown_timeout"),
    summary="instance_name",
)
INSTANCE_REMOVE = _d(
    "OP_INSTANCE_REMOVE",
    [("instance_name", None), ("instance_uuid", None), ("shutdown_timeout", 120), ("ignore_failures", False)],
    summary="instance_name",
)
INSTANCE_STARTUP = _d(
    "OP_INSTANCE_STARTUP",
    [
        ("instance_name", None),
        ("instance_uuid", None),
        ("force", False),
        ("ignore_offline_nodes", False),
        ("hvparams", {}),
        ("beparams", {}),
        ("no_remember", False),
        ("startup_paused", False),
        ("shutdown_timeout", 120),
    ],
    summary="instance_name",
)
INSTANCE_SHUTDOWN = _d(
    "OP_INSTANCE_SHUTDOWN",
    [
        ("instance_name", None),
        ("instance_uuid", None),
        ("force", False),
        ("ignore_offline_nodes", False),
        ("timeout", 120),
        ("no_remember", False),
        ("admin_state_source", None),
    ],
    summary="instance_name",
)
INSTANCE_REBOOT = _d(
    "OP_INSTANCE_REBOOT",
    [
        ("instance_name", None),
        ("instance_uuid", None),
        ("shutdown_timeout", 120),
        ("ignore_secondaries", False),
        ("reboot_type", None),
    ],
    summary="instance_name",
)
INSTANCE_SET_PARAMS = _d(
    "OP_INSTANCE_SET_PARAMS",
    [
        ("instance_name", None),
        ("instance_uuid", None),
        ("force", False),
        ("force_variant", False),
        ("ignore_ipolicy", False),
        ("nics", []),
        ("disks", []),
        ("beparams", {}),
        ("runtime_mem", None),
        ("hvparams", {}),
        ("disk_template", None),
        ("ext_params", {}),
        ("file_driver", None),
        ("file_storage_dir", None),
        ("pnode", None),
        ("pnode_uuid", None),
        ("remote_node", None),
        ("remote_node_uuid", None),
        ("iallocator", None),
        ("os_name", None),
        ("osparams", {}),
        ("osparams_private", None),
        ("wait_for_sync", True),
        ("offline", None),
        ("conflicts_check", True),
        ("hotplug", False),
        ("hotplug_if_possible", False),
        ("instance_communication", None),
    ],
    summary="instance_name",
)
INSTANCE_REINSTALL = _d(
    "OP_INSTANCE_REINSTALL",
    [
        ("instance_name", None),
        ("instance_uuid", None),
        ("force_variant", False),
        ("os_type", None),
        ("osparams", None),
        ("osparams_private", None),
        ("osparams_secret", None),
    ],
    summary="instance_name",
)
INSTANCE_RENAME = _d(
    "OP_INSTANCE_RENAME",
    [("instance_name", None), ("instance_uuid", None), ("new_name", None), ("name_check", True), ("ip_check", True)],
    summary=None,  # Ganeti 3.0 summarises a rename as plain "INSTANCE_RENAME"
)
NETWORK_ADD = _d(
    "OP_NETWORK_ADD",
    [
        ("network_name", None),
        ("network", None),
        ("gateway", None),
        ("network6", None),
        ("gateway6", None),
        ("mac_prefix", None),
        ("add_reserved_ips", None),
        ("conflicts_check", True),
        ("tags", []),
    ],
    summary="network_name",
)
NETWORK_REMOVE = _d("OP_NETWORK_REMOVE", [("network_name", None), ("force", False)], summary="network_name")
NETWORK_CONNECT = _d(
    "OP_NETWORK_CONNECT",
    [
        ("group_name", None),
        ("network_name", None),
        ("network_mode", None),
        ("network_link", None),
        ("network_vlan", ""),
        ("conflicts_check", True),
    ],
    summary="network_name",
)
NETWORK_DISCONNECT = _d("OP_NETWORK_DISCONNECT", [("group_name", None), ("network_name", None)], summary="network_name")
TAGS_SET = _d("OP_TAGS_SET", [("kind", None), ("tags", None), ("name", None)], summary="name")
TAGS_DEL = _d("OP_TAGS_DEL", [("kind", None), ("tags", None), ("name", None)], summary="name")

BY_ID: dict[str, OpDef] = {
    d.op_id: d
    for d in (
        INSTANCE_CREATE,
        INSTANCE_REMOVE,
        INSTANCE_STARTUP,
        INSTANCE_SHUTDOWN,
        INSTANCE_REBOOT,
        INSTANCE_SET_PARAMS,
        INSTANCE_REINSTALL,
        INSTANCE_RENAME,
        NETWORK_ADD,
        NETWORK_REMOVE,
        NETWORK_CONNECT,
        NETWORK_DISCONNECT,
        TAGS_SET,
        TAGS_DEL,
    )
}


def submitted(opdef: OpDef, given: dict[str, Any], *, common: dict[str, Any]) -> dict[str, Any]:
    """The opcode as RAPI submits it: defaults merged in, only keys with a value, common first."""
    out: dict[str, Any] = {k: common[k] for k in COMMON_QUEUED if common.get(k) is not None or k in ("depends", "comment")}
    out["OP_ID"] = opdef.op_id
    for name, default in opdef.params:
        if name in opdef.runtime_only:
            continue
        value = given.get(name, default)
        if value is not None:
            out[name] = value
    return out


def waiting(queued_input: dict[str, Any]) -> dict[str, Any]:
    """The waiting shape: the same keys, the opcode's own parameters first."""
    common = [k for k in COMMON_QUEUED if k in queued_input]
    own = {k: v for k, v in queued_input.items() if k not in COMMON_QUEUED}
    return own | {k: queued_input[k] for k in common}


def running(opdef: OpDef, queued_input: dict[str, Any], filled: dict[str, Any]) -> dict[str, Any]:
    """The running shape: every parameter of the opcode (None included), then the common ones."""
    out: dict[str, Any] = {}
    for name, _default in opdef.params:
        if name in filled:
            out[name] = filled[name]
        else:
            out[name] = queued_input.get(name)
    out["dry_run"] = queued_input.get("dry_run")
    out["debug_level"] = 0
    for k in ("priority", "depends", "comment", "reason"):
        out[k] = queued_input.get(k)
    out["OP_ID"] = opdef.op_id
    return out


def rapi_view(op_input: dict[str, Any]) -> dict[str, Any]:
    """How GET /2/jobs/N shows an opcode: common keys first, None values left out."""
    out = {k: op_input[k] for k in COMMON_RUNNING if k in op_input and (op_input[k] is not None or k in ("depends", "comment"))}
    out.update((k, v) for k, v in op_input.items() if k not in COMMON_RUNNING and v is not None)
    return out
