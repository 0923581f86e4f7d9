"""The simulated cluster's configuration: nodes, a node group, networks, instances.

Plain data with the rendering Ganeti's RAPI gives it (``GET /2/instances/<name>``,
``/2/networks/<name>``, ``/2/nodes?bulk=1``, ``/2/groups?bulk=1``). Field names and
value types follow the real Ganeti 3.0 responses recorded in
../shared/ganeti-sandbox/samples and checked by tests/contract.
"""

from __future__ import annotations

import ipaddress
import random
import time
import uuid
from dataclasses import asdict, dataclass, field
from typing import Any

DEFAULT_NIC_LINK = "br-gnt"
DEFAULT_NIC_MODE = "bridged"
BEPARAM_DEFAULTS = {"always_failover": False, "auto_balance": True, "maxmem": 128, "minmem": 128, "spindle_use": 1, "vcpus": 1}


def _uuid() -> str:
    return str(uuid.uuid4())


@dataclass
class Nic:
    mac: str
    ip: str | None = None
    mode: str = DEFAULT_NIC_MODE
    link: str = DEFAULT_NIC_LINK
    vlan: str = ""
    network_uuid: str | None = None
    network_name: str | None = None
    name: str | None = None
    uuid: str = field(default_factory=_uuid)


@dataclass
class Disk:
    size: int
    name: str | None = None
    mode: str = "rw"
    spindles: int | None = None
    uuid: str = field(default_factory=_uuid)


@dataclass
class Instance:
    name: str
    os: str
    pnode: str
    disk_template: str
    disks: list[Disk] = field(default_factory=list)
    nics: list[Nic] = field(default_factory=list)
    custom_beparams: dict[str, Any] = field(default_factory=dict)
    custom_hvparams: dict[str, Any] = field(default_factory=dict)
    admin_up: bool = True
    running: bool = False
    tags: list[str] = field(default_factory=list)
    uuid: str = field(default_factory=_uuid)
    ctime: float = field(default_factory=time.time)
    mtime: float = field(default_factory=time.time)
    serial_no: int = 1
    oper_ram: int | None = None
    oper_vcpus: int | None = None

    def touch(self) -> None:
        self.mtime = time.time()
        self.serial_no += 1

    @property
    def beparams(self) -> dict[str, Any]:
        merged = dict(BEPARAM_DEFAULTS) | self.custom_beparams
        merged["memory"] = merged["maxmem"]
        return dict(sorted(merged.items()))

    @property
    def status(self) -> str:
        if self.admin_up:
            return "running" if self.running else "ERROR_down"
        return "ERROR_up" if self.running else "ADMIN_down"

    def set_running(self, running: bool) -> None:
        self.running = running
        be = self.beparams
        self.oper_ram = be["maxmem"] if running else None
        self.oper_vcpus = be["vcpus"] if running else None

    def rapi(self) -> dict[str, Any]:
        """``GET /2/instances/<name>`` (and one element of ``?bulk=1``)."""
        return {
            "name": self.name,
            "admin_state": "up" if self.admin_up else "down",
            "os": self.os,
            "pnode": self.pnode,
            "snodes": [],
            "disk_template": self.disk_template,
            "nic.ips": [n.ip for n in self.nics],
            "nic.macs": [n.mac for n in self.nics],
            "nic.modes": [n.mode for n in self.nics],
            "nic.uuids": [n.uuid for n in self.nics],
            "nic.names": [n.name for n in self.nics],
            "nic.links": [n.link for n in self.nics],
            "nic.networks": [n.network_uuid for n in self.nics],
            "nic.networks.names": [n.network_name for n in self.nics],
            "nic.bridges": [n.link if n.mode == "bridged" else None for n in self.nics],
            "network_port": None,
            "disk.sizes": [d.size for d in self.disks],
            "disk.spindles": [d.spindles for d in self.disks],
            "disk_usage": sum(d.size for d in self.disks) if self.disk_template != "diskless" else 0,
            "disk.uuids": [d.uuid for d in self.disks],
            "disk.names": [d.name for d in self.disks],
            "beparams": self.beparams,
            "hvparams": dict(self.custom_hvparams),
            "oper_state": self.running,
            "oper_ram": self.oper_ram,
            "oper_vcpus": self.oper_vcpus,
            "status": self.status,
            "custom_hvparams": dict(self.custom_hvparams),
            "custom_beparams": dict(self.custom_beparams),
            "custom_nicparams": [{"mode": n.mode, "link": n.link, "vlan": n.vlan} for n in self.nics],
            "ctime": self.ctime,
            "mtime": self.mtime,
            "uuid": self.uuid,
            "serial_no": self.serial_no,
            "tags": sorted(self.tags),
        }


class PoolExhausted(Exception):
    """No free address left in a network's pool."""


@dataclass
class Network:
    """A Ganeti network with its IPv4 address pool."""

    name: str
    network: str
    gateway: str | None = None
    network6: str | None = None
    gateway6: str | None = None
    mac_prefix: str | None = None
    tags: list[str] = field(default_factory=list)
    # group name -> [mode, link, vlan]
    groups: dict[str, list[str]] = field(default_factory=dict)
    # address -> instance name (None for an external reservation)
    reservations: dict[str, str | None] = field(default_factory=dict)
    uuid: str = field(default_factory=_uuid)
    ctime: float = field(default_factory=time.time)
    mtime: float = field(default_factory=time.time)
    serial_no: int = 1

    def __post_init__(self) -> None:
        if not self.reservations:
            net = ipaddress.IPv4Network(self.network)
            self.reservations[str(net.network_address)] = None
            if self.gateway:
                self.reservations[self.gateway] = None
            self.reservations[str(net.broadcast_address)] = None

    def _addresses(self) -> list[str]:
        return [str(a) for a in ipaddress.IPv4Network(self.network)]

    def contains(self, address: str) -> bool:
        return ipaddress.IPv4Address(address) in ipaddress.IPv4Network(self.network)

    def is_free(self, address: str) -> bool:
        return self.contains(address) and address not in self.reservations

    def take(self, owner: str, address: str | None = None) -> str:
        """Reserve ``address`` (or the first free one) for instance ``owner``."""
        if address is None:
            address = next((a for a in self._addresses() if a not in self.reservations), None)
            if address is None:
                raise PoolExhausted(self.name)
        self.reservations[address] = owner
        return address

    def release(self, address: str | None) -> None:
        if address and self.reservations.get(address) is not None:
            del self.reservations[address]

    def rapi(self, instances: list[str]) -> dict[str, Any]:
        addresses = self._addresses()
        external = [a for a, owner in self.reservations.items() if owner is None]
        return {
            "name": self.name,
            "network": self.network,
            "gateway": self.gateway,
            "network6": self.network6,
            "gateway6": self.gateway6,
            "mac_prefix": self.mac_prefix,
            "free_count": sum(1 for a in addresses if a not in self.reservations),
            "reserved_count": sum(1 for a in addresses if a in self.reservations),
            "map": "".join("X" if a in self.reservations else "." for a in addresses),
            "group_list": [[g, *params] for g, params in sorted(self.groups.items())],
            "inst_list": sorted(instances),
            "external_reservations": ", ".join(sorted(external, key=ipaddress.IPv4Address)),
            "ctime": self.ctime,
            "mtime": self.mtime,
            "uuid": self.uuid,
            "serial_no": self.serial_no,
            "tags": list(self.tags),
        }


@dataclass
class Node:
    name: str
    pip: str
    mtotal: int = 32768
    dtotal: int = 512000
    ctotal: int = 8
    uuid: str = field(default_factory=_uuid)
    group_uuid: str = ""
    offline: bool = False
    drained: bool = False
    ctime: float = field(default_factory=time.time)


@dataclass
class Cluster:
    """Everything the simulated master knows; mutated only by running jobs."""

    name: str = "sim.ganeti.local"
    nodes: list[Node] = field(default_factory=list)
    group_name: str = "default"
    group_uuid: str = field(default_factory=_uuid)
    instances: dict[str, Instance] = field(default_factory=dict)
    networks: dict[str, Network] = field(default_factory=dict)
    os_list: list[str] = field(default_factory=lambda: ["noop", "snf-image+default"])
    enabled_disk_templates: list[str] = field(default_factory=lambda: ["diskless", "file", "sharedfile", "plain"])
    mac_prefix: str = "aa:00:00"
    uuid: str = field(default_factory=_uuid)
    ctime: float = field(default_factory=time.time)

    def __post_init__(self) -> None:
        if not self.nodes:
            self.nodes = [Node("node1.sim.ganeti.local", "192.0.2.11"), Node("node2.sim.ganeti.local", "192.0.2.12")]
        for node in self.nodes:
            node.group_uuid = self.group_uuid

    # ---------------------------------------------------------------- placement
    def node(self, name: str) -> Node | None:
        return next((n for n in self.nodes if n.name == name), None)

    def used_memory(self, node: str) -> int:
        return sum(i.beparams["maxmem"] for i in self.instances.values() if i.pnode == node and i.running)

    def allocate_node(self, memory: int) -> Node | None:
        """Pick the online, undrained node with the most free memory that fits (hail's spirit)."""
        candidates = [n for n in self.nodes if not n.offline and not n.drained]
        candidates.sort(key=lambda n: n.mtotal - self.used_memory(n.name), reverse=True)
        for n in candidates:
            if n.mtotal - self.used_memory(n.name) >= memory:
                return n
        return None

    def new_mac(self, prefix: str | None = None) -> str:
        used = {nic.mac for i in self.instances.values() for nic in i.nics}
        while True:
            mac = f"{prefix or self.mac_prefix}:" + ":".join(f"{random.randint(0, 255):02x}" for _ in range(3))
            if mac not in used:
                return mac

    def network_instances(self, network: Network) -> list[str]:
        return [i.name for i in self.instances.values() if any(n.network_uuid == network.uuid for n in i.nics)]

    # ---------------------------------------------------------------- RAPI views
    def info(self) -> dict[str, Any]:
        """``GET /2/info``: the keys and types of Ganeti 3.0's answer (samples/info.json)."""
        return {
            "architecture": ["64bits", "x86_64"],
            "beparams": {"default": dict(BEPARAM_DEFAULTS)},
            "blacklisted_os": [],
            "candidate_pool_size": 10,
            "compression_tools": ["gzip", "gzip-fast", "gzip-slow"],
            "config_version": 3000000,
            "ctime": self.ctime,
            "data_collector_interval": {"cpu-avg-load": 5000000, "diskstats": 5000000, "lv": 5000000},
            "default_hypervisor": "fake",
            "default_iallocator": "hail",
            "default_iallocator_params": {},
            "diskparams": {t: {} for t in self.enabled_disk_templates},
            "drbd_helper": None,
            "drbd_usermode_helper": None,
            "enabled_data_collectors": {"cpu-avg-load": True, "diskstats": True, "lv": True},
            "enabled_disk_templates": list(self.enabled_disk_templates),
            "enabled_hypervisors": ["fake"],
            "enabled_user_shutdown": False,
            "export_version": 0,
            "file_storage_dir": "/srv/ganeti/file-storage",
            "gluster_storage_dir": "/var/run/ganeti/gluster",
            "hidden_os": [],
            "hvparams": {"fake": {"migration_mode": "live"}},
            "install_image": "",
            "instance_communication_network": "",
            "ipolicy": {
                "disk-templates": list(self.enabled_disk_templates),
                "minmax": [
                    {
                        "max": {
                            "cpu-count": 64,
                            "disk-count": 16,
                            "disk-size": 1048576,
                            "memory-size": 262144,
                            "nic-count": 32,
                            "spindle-use": 64,
                        },
                        "min": {
                            "cpu-count": 1,
                            "disk-count": 0,
                            "disk-size": 4,
                            "memory-size": 4,
                            "nic-count": 0,
                            "spindle-use": 0,
                        },
                    }
                ],
                "spindle-ratio": 64,
                "std": {
                    "cpu-count": 1,
                    "disk-count": 1,
                    "disk-size": 1024,
                    "memory-size": 128,
                    "nic-count": 1,
                    "spindle-use": 1,
                },
                "vcpu-ratio": 64,
            },
            "mac_prefix": self.mac_prefix,
            "maintain_node_health": False,
            "master": self.nodes[0].name,
            "master_netdev": "sim0",
            "master_netmask": 32,
            "max_running_jobs": 20,
            "max_tracked_jobs": 25,
            "modify_ssh_setup": False,
            "mtime": self.ctime,
            "name": self.name,
            "ndparams": self._ndparams(),
            "nicparams": {"default": {"link": DEFAULT_NIC_LINK, "mode": DEFAULT_NIC_MODE, "vlan": ""}},
            "os_api_version": 20,
            "os_hvp": {},
            "osparams": {},
            "prealloc_wipe_disks": False,
            "primary_ip_version": 4,
            "protocol_version": 3000000,
            "reserved_lvs": [],
            "shared_file_storage_dir": "/srv/ganeti/shared-file-storage",
            "software_version": "3.0.2",
            "ssh_key_bits": 2048,
            "ssh_key_type": "rsa",
            "tags": [],
            "uid_pool": [],
            "use_external_mip_script": False,
            "uuid": self.uuid,
            "vcs_version": "(ganeti) version 3.0.2-simulated",
            "vg_name": None,
            "volume_group_name": None,
            "zeroing_image": "",
        }

    @staticmethod
    def _ndparams() -> dict[str, Any]:
        return {
            "cpu_speed": 1,
            "exclusive_storage": False,
            "oob_program": "",
            "ovs": False,
            "ovs_link": "",
            "ovs_name": "switch1",
            "spindle_count": 1,
            "ssh_port": 22,
        }

    def node_rapi(self, node: Node) -> dict[str, Any]:
        mine = [i for i in self.instances.values() if i.pnode == node.name]
        used_disk = sum(d.size for i in mine for d in i.disks)
        used_mem = self.used_memory(node.name)
        return {
            "name": node.name,
            "offline": node.offline,
            "master_candidate": True,
            "drained": node.drained,
            "dtotal": node.dtotal,
            "dfree": node.dtotal - used_disk,
            "sptotal": None,
            "spfree": None,
            "mtotal": node.mtotal,
            "mnode": 512,
            "mfree": node.mtotal - 512 - used_mem,
            "pinst_cnt": len(mine),
            "sinst_cnt": 0,
            "ctotal": node.ctotal,
            "cnos": node.ctotal,
            "cnodes": 1,
            "csockets": 1,
            "pip": node.pip,
            "sip": node.pip,
            "role": "M" if node is self.nodes[0] else "C",
            "pinst_list": sorted(i.name for i in mine),
            "sinst_list": [],
            "master_capable": True,
            "vm_capable": True,
            "ndparams": self._ndparams(),
            "group.uuid": node.group_uuid,
            "ctime": node.ctime,
            "mtime": node.ctime,
            "uuid": node.uuid,
            "serial_no": 1,
            "tags": [],
        }

    def group_rapi(self) -> dict[str, Any]:
        info = self.info()
        return {
            "alloc_policy": "preferred",
            "name": self.group_name,
            "node_cnt": len(self.nodes),
            "node_list": [n.name for n in self.nodes],
            "ipolicy": info["ipolicy"],
            "custom_ipolicy": {},
            "diskparams": info["diskparams"],
            "custom_diskparams": {},
            "ndparams": self._ndparams(),
            "custom_ndparams": {},
            "ctime": 0,
            "mtime": self.ctime,
            "uuid": self.group_uuid,
            "serial_no": 1,
            "tags": [],
        }

    # ---------------------------------------------------------------- persistence
    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Cluster:
        data = dict(data)
        nodes = [Node(**n) for n in data.pop("nodes")]
        instances = {}
        for name, raw in data.pop("instances").items():
            raw = dict(raw)
            raw["disks"] = [Disk(**d) for d in raw["disks"]]
            raw["nics"] = [Nic(**n) for n in raw["nics"]]
            instances[name] = Instance(**raw)
        networks = {name: Network(**raw) for name, raw in data.pop("networks").items()}
        return cls(nodes=nodes, instances=instances, networks=networks, **data)
