"""Validation of flavor extra specs in Nova's known namespaces (Nova microversion 2.86).

From 2.86 Nova rejects an extra spec whose namespace it knows (``hw:``, ``hw_rng:``,
``hw_video:``, ``os:``, ``quota:``, ``resources``, ``trait``, ...) when the key is not
one of that namespace's or the value is not valid for it; keys in other namespaces
(``foo:bar``) and the legacy scoped ones (``aggregate_instance_extra_specs:``,
``capabilities:``) pass as they are. Ganeti placement reads none of them: they are
recorded and shown, and validated so that flavors stay portable to a Nova cloud.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from logic.errors import InvalidInput

Check = Callable[[str], bool]

_TRUE_FALSE = {"1", "0", "t", "f", "true", "false", "on", "off", "y", "n", "yes", "no"}


def _bool(value: str) -> bool:
    return value.strip().lower() in _TRUE_FALSE


def _int(minimum: int = 0, maximum: int | None = None) -> Check:
    def check(value: str) -> bool:
        try:
            number = int(value)
        except ValueError:
            return False
        return number >= minimum and (maximum is None or number <= maximum)

    return check


def _one_of(*choices: str) -> Check:
    return lambda value: value in choices


def _pattern(regex: str) -> Check:
    compiled = re.compile(regex)
    return lambda value: compiled.fullmatch(value) is not None


def _any(value: str) -> bool:
    return True


_CPU_SET = _pattern(r"\^?\d+(-\d+)?(,\s*\^?\d+(-\d+)?)*")
_MEM_PAGE = _pattern(r"(small|large|any|\d+([kKmMgG][iI]?)?[bB]?)")

# key (or key pattern) -> value check, by namespace
_HW: dict[str, Check] = {
    "cpu_policy": _one_of("dedicated", "shared", "mixed"),
    "cpu_thread_policy": _one_of("prefer", "isolate", "require"),
    "emulator_threads_policy": _one_of("share", "isolate"),
    "cpu_dedicated_mask": _CPU_SET,
    "cpu_realtime": _bool,
    "cpu_realtime_mask": _CPU_SET,
    "cpu_sockets": _int(1),
    "cpu_cores": _int(1),
    "cpu_threads": _int(1),
    "cpu_max_sockets": _int(1),
    "cpu_max_cores": _int(1),
    "cpu_max_threads": _int(1),
    "numa_nodes": _int(1),
    r"numa_cpus\.\d+": _CPU_SET,
    r"numa_mem\.\d+": _int(0),
    "mem_page_size": _MEM_PAGE,
    "locked_memory": _bool,
    "boot_menu": _bool,
    "vif_multiqueue_enabled": _bool,
    "pmu": _bool,
    "serial_port_count": _int(0),
    "tpm_model": _one_of("tpm-tis", "tpm-crb"),
    "tpm_version": _one_of("1.2", "2.0"),
    "watchdog_action": _one_of("none", "pause", "poweroff", "reset", "disabled"),
    "mem_encryption": _bool,
    "pci_numa_affinity_policy": _one_of("required", "legacy", "preferred", "socket"),
    "cpu_mode": _any,
    "cpu_model": _any,
    "cpu_model_extra_flags": _any,
    "machine_type": _any,
    "rescue_bus": _one_of("scsi", "virtio", "ide", "usb", "fdc", "sata"),
    "rescue_device": _one_of("cdrom", "disk", "floppy"),
    "ephemeral_encryption": _bool,
    "ephemeral_encryption_format": _one_of("luks", "plain"),
    "virtio_packed_ring": _bool,
    "maxphysaddr_mode": _one_of("emulate", "passthrough"),
    "maxphysaddr_bits": _int(1),
    "viommu_model": _one_of("intel", "smmuv3", "virtio", "auto"),
    "sound_model": _any,
    "usb_model": _any,
    "redirected_usb_ports": _int(0),
}
_NAMESPACES: dict[str, dict[str, Check]] = {
    "hw": _HW,
    "hw_rng": {"allowed": _bool, "rate_bytes": _int(0), "rate_period": _int(0)},
    "hw_video": {"ram_max_mb": _int(0)},
    "os": {"secure_boot": _one_of("required", "disabled", "optional"), "monitors": _int(0, 16)},
    "quota": {
        r"(cpu_shares|cpu_period|cpu_quota|cpu_limit|cpu_reservation|memory_limit|memory_reservation)": _int(0),
        r"(disk_read_bytes_sec|disk_read_iops_sec|disk_write_bytes_sec|disk_write_iops_sec|disk_total_bytes_sec"
        r"|disk_total_iops_sec|disk_io_limit|disk_io_reservation)": _int(0),
        r"(vif_inbound_average|vif_inbound_peak|vif_inbound_burst|vif_outbound_average|vif_outbound_peak"
        r"|vif_outbound_burst|vif_limit|vif_reservation)": _int(0),
        r"(cpu_shares_level|memory_shares_level|disk_io_shares_level|vif_shares_level)": _one_of(
            "custom", "high", "normal", "low"
        ),
        r"(cpu_shares_share|memory_shares_share|disk_io_shares_share|vif_shares_share)": _int(0),
    },
    "accel": {"device_profile": _any},
    "pci_passthrough": {"alias": _pattern(r"[^:,]+:\d+(,\s*[^:,]+:\d+)*")},
    "vmware": {"hw_version": _any, "storage_policy": _any},
}
# unscoped keys Nova knows
_TOP_LEVEL: dict[str, Check] = {"hide_hypervisor_id": _bool, "group_policy": _one_of("none", "isolate")}
_RESOURCES = re.compile(r"resources([1-9][0-9]*|_[a-zA-Z0-9_-]{1,64})?:[A-Z0-9_]+")
_TRAIT = re.compile(r"trait([1-9][0-9]*|_[a-zA-Z0-9_-]{1,64})?:[A-Z0-9_]+")


def _refuse(key: str) -> InvalidInput:
    return InvalidInput(f"Validation failed; extra spec {key!r} does not appear to be a valid extra spec.")


def validate(specs: dict[str, str]) -> None:
    """400 for a known-namespace extra spec that is unknown or has a bad value (Nova 2.86)."""
    for key, value in specs.items():
        if key in _TOP_LEVEL:
            check = _TOP_LEVEL[key]
        elif _RESOURCES.fullmatch(key):
            check = _int(0)
        elif _TRAIT.fullmatch(key):
            check = _one_of("required", "forbidden")
        elif (
            key.startswith(("resources", "trait"))
            and ":" in key
            and key.split(":", 1)[0].rstrip("0123456789_")
            in (
                "resources",
                "trait",
            )
        ):
            raise _refuse(key)
        else:
            namespace, _, name = key.partition(":")
            rules = _NAMESPACES.get(namespace) if name else None
            if rules is None:
                continue  # an unknown namespace (or a legacy scope): not Nova's to judge
            check = next((c for pattern, c in rules.items() if re.fullmatch(pattern, name)), None)
            if check is None:
                raise _refuse(key)
        if not check(value):
            raise InvalidInput(f"Validation failed; {value!r} is not a valid value for extra spec {key!r}.")
