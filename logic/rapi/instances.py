"""Instance calls: list, show, create, start, stop, reboot, modify, reinstall, rename, remove, tags."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from logic.rapi.transport import (
    Transport,
    api_path,
)

log = logging.getLogger(__name__)


class InstanceCalls(Transport):
    """Instance calls of :class:`logic.rapi.RapiClient`."""

    def list_instance_names(self) -> list[str]:
        return [item["id"] for item in self.request("GET", api_path("instances"))]

    def list_instances(self) -> list[dict]:
        """Every instance with its details (``GET /2/instances?bulk=1``), one call."""
        return self.request("GET", api_path("instances"), query={"bulk": 1})

    def get_instance(self, name: str) -> dict:
        """An instance's configuration and state (``GET /2/instances/<name>``)."""
        return self.request("GET", api_path("instances", name))

    def create_instance(
        self,
        name: str,
        *,
        disk_template: str,
        disks: Sequence[Mapping[str, Any]] = (),
        nics: Sequence[Mapping[str, Any]] = (),
        os: str | None = None,
        osparams: Mapping[str, Any] | None = None,
        beparams: Mapping[str, Any] | None = None,
        hvparams: Mapping[str, Any] | None = None,
        hypervisor: str | None = None,
        tags: Sequence[str] = (),
        start: bool = True,
        pnode: str | None = None,
        iallocator: str | None = None,
        ip_check: bool = False,
        name_check: bool = False,
        wait_for_sync: bool = False,
        dry_run: bool = False,
        reason: str | None = None,
        **extra: Any,
    ) -> int:
        """Create an instance (``POST /2/instances``, request format version 1)."""
        body: dict[str, Any] = {
            "__version__": 1,
            "mode": "create",
            "name": name,
            "disk_template": disk_template,
            "disks": [dict(d) for d in disks],
            "nics": [dict(n) for n in nics],
            "start": start,
            "ip_check": ip_check,
            "name_check": name_check,
            "wait_for_sync": wait_for_sync,
            "tags": list(tags),
        }
        optional = {
            "os_type": os,
            "osparams": dict(osparams) if osparams else None,
            "beparams": dict(beparams) if beparams else None,
            "hvparams": dict(hvparams) if hvparams else None,
            "hypervisor": hypervisor,
            "pnode": pnode,
            "iallocator": iallocator,
        }
        body.update({k: v for k, v in optional.items() if v is not None})
        body.update(extra)
        return self._submit("POST", api_path("instances"), body=body, reason=reason, query=[("dry-run", 1)] if dry_run else [])

    def startup_instance(
        self, name: str, *, no_remember: bool = False, reason: str | None = None, depends: Sequence[int] = ()
    ) -> int:
        query = [("no_remember", 1)] if no_remember else []
        return self._submit("PUT", api_path("instances", name, "startup"), reason=reason, query=query, depends=depends)

    def shutdown_instance(
        self,
        name: str,
        *,
        timeout: int | None = None,
        no_remember: bool = False,
        reason: str | None = None,
        depends: Sequence[int] = (),
    ) -> int:
        """Shut an instance down; ``timeout`` (seconds before forcing) goes in the BODY (Ganeti ignores ?timeout=)."""
        body = {"timeout": int(timeout)} if timeout is not None else {}
        query = [("no_remember", 1)] if no_remember else []
        return self._submit(
            "PUT", api_path("instances", name, "shutdown"), body=body, reason=reason, query=query, depends=depends
        )

    def reboot_instance(
        self, name: str, *, hard: bool = False, shutdown_timeout: int | None = None, reason: str | None = None
    ) -> int:
        """Reboot: soft (the guest reboots itself) or hard (stop + start by Ganeti)."""
        body = {"shutdown_timeout": int(shutdown_timeout)} if shutdown_timeout is not None else {}
        query = [("type", "hard" if hard else "soft")]
        return self._submit("POST", api_path("instances", name, "reboot"), body=body, reason=reason, query=query)

    def modify_instance(
        self,
        name: str,
        *,
        beparams: Mapping[str, Any] | None = None,
        nics: Sequence[Sequence[Any]] | None = None,
        disks: Sequence[Sequence[Any]] | None = None,
        hvparams: Mapping[str, Any] | None = None,
        osparams: Mapping[str, Any] | None = None,
        os_name: str | None = None,
        hotplug: bool = False,
        reason: str | None = None,
        **extra: Any,
    ) -> int:
        """Change an instance (``PUT /2/instances/<name>/modify``).

        ``nics``/``disks`` are Ganeti's modification lists: ``[["add", -1, {...}]]``,
        ``[["remove", 1, {}]]``, ``[["modify", 0, {...}]]``. ``hotplug`` defaults to
        False: hypervisors without hotplug (fake, and kvm when not enabled) refuse it.
        """
        body: dict[str, Any] = {"hotplug": hotplug}
        optional = {
            "beparams": dict(beparams) if beparams else None,
            "nics": [list(m) for m in nics] if nics else None,
            "disks": [list(m) for m in disks] if disks else None,
            "hvparams": dict(hvparams) if hvparams else None,
            "osparams": dict(osparams) if osparams else None,
            "os_name": os_name,
        }
        body.update({k: v for k, v in optional.items() if v is not None})
        body.update(extra)
        return self._submit("PUT", api_path("instances", name, "modify"), body=body, reason=reason)

    def reinstall_instance(
        self,
        name: str,
        *,
        os: str | None = None,
        osparams: Mapping[str, Any] | None = None,
        start: bool = True,
        reason: str | None = None,
    ) -> int:
        """Reinstall the instance's OS (body: os, osparams, start).

        Ganeti submits one job: shutdown, reinstall, then startup when ``start``.
        It refuses query parameters next to a body, so no ``reason`` reaches
        Ganeti for this call (it is still logged here).
        """
        body: dict[str, Any] = {"start": start}
        if os is not None:
            body["os"] = os
        if osparams is not None:
            body["osparams"] = dict(osparams)
        if reason:
            log.info("reinstall of %s: %s", name, reason)
        return int(self.request("POST", api_path("instances", name, "reinstall"), body=body))

    def export_instance(
        self,
        name: str,
        *,
        target_node: str,
        shutdown: bool = True,
        shutdown_timeout: int | None = None,
        long_sleep: bool = False,
        reason: str | None = None,
        depends: Sequence[int] = (),
    ) -> int:
        """A local backup export (``PUT /2/instances/<name>/export``): Ganeti runs the OS's export script per disk.

        ``long_sleep``: allow the instance to stay down for the whole transfer when its
        disks cannot be snapshotted (file disks); it is started again afterwards if it ran.
        """
        body: dict[str, Any] = {"mode": "local", "destination": target_node, "shutdown": shutdown, "long_sleep": long_sleep}
        if shutdown_timeout is not None:
            body["shutdown_timeout"] = int(shutdown_timeout)
        return self._submit("PUT", api_path("instances", name, "export"), body=body, reason=reason, depends=depends)

    def rename_instance(
        self, name: str, new_name: str, *, ip_check: bool = False, name_check: bool = False, reason: str | None = None
    ) -> int:
        body = {"new_name": new_name, "ip_check": ip_check, "name_check": name_check}
        return self._submit("PUT", api_path("instances", name, "rename"), body=body, reason=reason)

    def remove_instance(
        self, name: str, *, shutdown_timeout: int | None = None, reason: str | None = None, depends: Sequence[int] = ()
    ) -> int:
        body = {"shutdown_timeout": int(shutdown_timeout)} if shutdown_timeout is not None else None
        return self._submit("DELETE", api_path("instances", name), body=body, reason=reason, depends=depends)

    def get_instance_console(self, name: str) -> dict:
        """Console connection info (``GET /2/instances/<name>/console``).

        Ganeti 3.0.2 answers 500 here for kvm with VNC; callers wanting VNC can
        read ``network_port`` and ``pnode`` from :meth:`get_instance` instead.
        """
        return self.request("GET", api_path("instances", name, "console"))

    def get_instance_tags(self, name: str) -> list[str]:
        return self.request("GET", api_path("instances", name, "tags"))

    def add_instance_tags(self, name: str, tags: Sequence[str], *, reason: str | None = None) -> int:
        return self._submit("PUT", api_path("instances", name, "tags"), reason=reason, query=[("tag", t) for t in tags])

    def delete_instance_tags(self, name: str, tags: Sequence[str], *, reason: str | None = None) -> int:
        return self._submit("DELETE", api_path("instances", name, "tags"), reason=reason, query=[("tag", t) for t in tags])
