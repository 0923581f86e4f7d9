"""Which tap device carries which NIC: the records the ifup script leaves for the agent. Stdlib only.

Ganeti's KVM hypervisor runs its ifup script for every NIC it plugs, with the
NIC in the environment (``INTERFACE`` the tap, ``MAC``, ``IP``, ``MODE``,
``LINK``, ``INSTANCE``, ``INTERFACE_INDEX``/``_UUID``/``_NAME``, the network's
``NETWORK_*``). The script writes one JSON file per tap in ``<state dir>/taps``
(atomically: write then rename); the agent reads them all, and forgets a
record whose device no longer exists on the node (the VM stopped, migrated or
lost the NIC). Records live on disk, so an agent restart loses nothing.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass

_IFACE = re.compile(r"^[A-Za-z0-9_.:-]{1,15}$")
_MAC = re.compile(r"^[0-9a-f]{2}(:[0-9a-f]{2}){5}$")


class TapError(ValueError):
    """The environment does not describe a NIC."""


@dataclass(frozen=True)
class Tap:
    iface: str
    mac: str
    instance: str = ""
    index: str = ""
    nic_uuid: str = ""
    nic_name: str = ""
    ip: str = ""
    mode: str = ""
    link: str = ""
    network: str = ""

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Tap:
        iface, mac = env.get("INTERFACE", ""), env.get("MAC", "").lower()
        if not _IFACE.match(iface):
            raise TapError(f"INTERFACE {iface!r} is not a device name")
        if not _MAC.match(mac):
            raise TapError(f"MAC {mac!r} of {iface} is not a MAC address")
        return cls(
            iface=iface,
            mac=mac,
            instance=env.get("INSTANCE", ""),
            index=env.get("INTERFACE_INDEX", ""),
            nic_uuid=env.get("INTERFACE_UUID", ""),
            nic_name=env.get("INTERFACE_NAME", ""),
            ip=env.get("IP", ""),
            mode=env.get("MODE", ""),
            link=env.get("LINK", ""),
            network=env.get("NETWORK_NAME", ""),
        )


class TapStore:
    """``<state dir>/taps/<iface>.json``, one record per tap device."""

    def __init__(self, state_dir: str) -> None:
        self.path = os.path.join(state_dir, "taps")

    def _file(self, iface: str) -> str:
        if not _IFACE.match(iface):
            raise TapError(f"bad interface name {iface!r}")
        return os.path.join(self.path, f"{iface}.json")

    def put(self, tap: Tap) -> str:
        os.makedirs(self.path, mode=0o750, exist_ok=True)
        target = self._file(tap.iface)
        tmp = f"{target}.{os.getpid()}.tmp"
        with open(tmp, "w") as f:
            json.dump(asdict(tap), f, sort_keys=True)
        os.rename(tmp, target)
        self.touch()
        return target

    def touch(self) -> None:
        """Tell a waiting agent that something changed (it watches the directory's mtime)."""
        os.utime(self.path)

    def all(self) -> list[Tap]:
        try:
            names = sorted(os.listdir(self.path))
        except FileNotFoundError:
            return []
        taps = []
        for name in names:
            if not name.endswith(".json"):
                continue
            try:
                with open(os.path.join(self.path, name)) as f:
                    taps.append(Tap(**json.load(f)))
            except FileNotFoundError:  # removed since the listing
                continue
        return taps

    def forget(self, ifaces: Iterable[str]) -> None:
        for iface in ifaces:
            try:
                os.unlink(self._file(iface))
            except FileNotFoundError:
                continue

    def stamp(self) -> float:
        """The directory's mtime: changes whenever a record is written or removed."""
        try:
            return os.stat(self.path).st_mtime_ns
        except FileNotFoundError:
            return 0
