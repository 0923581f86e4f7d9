"""Backend drivers: which module submits a server's operations, chosen by its backend's kind.

Every driver module has the operations of :mod:`logic.ganeti_jobs` (the Ganeti
driver) with the same signatures: each takes the server first, submits one
operation and returns its job id; the outcome arrives later as events in the
message contract (:mod:`logic.event_messages`), applied by :mod:`logic.events`.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any

from logic.models import Backend, Server

#: backend kind -> module implementing the operations
DRIVERS: dict[str, str] = {
    Backend.Kind.GANETI: "logic.ganeti_jobs",
    Backend.Kind.LIBVIRT: "logic.drivers.libvirt.jobs",
}

#: the operations every driver implements (server first)
OPERATIONS = frozenset(
    {
        "create_server",
        "start_server",
        "stop_server",
        "reboot_server",
        "resize_server",
        "rebuild_server",
        "destroy_server",
        "rename_server",
        "add_nic",
        "remove_nic",
        "console_info",
    }
)


def driver_for(server: Server) -> ModuleType:
    """The driver module of the server's backend (Ganeti when it has none yet: that driver says so)."""
    backend = server.backend if server.backend_id is not None else None
    kind = backend.kind if backend is not None else Backend.Kind.GANETI
    return importlib.import_module(DRIVERS[kind])


class Dispatch:
    """``dispatch.<operation>(server, ...)`` calls that operation of the server's driver."""

    def __getattr__(self, name: str) -> Any:
        if name not in OPERATIONS:
            raise AttributeError(name)

        def call(server: Server, *args: Any, **kwargs: Any) -> Any:
            return getattr(driver_for(server), name)(server, *args, **kwargs)

        call.__name__ = name
        return call


dispatch = Dispatch()
