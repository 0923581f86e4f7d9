"""Which hypervisor a backend's new servers get (``backend-modify --hypervisor``).

A backend's ``hypervisor`` starts as the cluster's default. An operator may pick any
other hypervisor the cluster has enabled (e.g. ``kvm`` beside ``fake`` on the sandbox,
``conf/ganeti-sandbox/enable-kvm.sh``): servers created afterwards are Ganeti
instances of that hypervisor, with the cluster's hvparams for it. Existing instances
keep theirs. A refresh of the backend keeps the choice while the cluster still has it
enabled, and falls back to the cluster's default when it does not.
"""

from __future__ import annotations

import logging

from logic.backends import BackendCheckFailed, client_for
from logic.models import Backend
from logic.rapi import RapiError

log = logging.getLogger(__name__)


def kept_hypervisor(current: str, default: str, enabled: list[str]) -> str:
    """The hypervisor after a refresh: the current choice if still enabled, else the cluster's default."""
    return current if current and current in enabled else default


def set_hypervisor(backend: Backend, hypervisor: str) -> Backend:
    """New servers on ``backend`` use ``hypervisor``; it must be enabled on the cluster (else nothing changes)."""
    try:
        with client_for(backend) as client:
            info = client.get_info()
    except RapiError as exc:
        raise BackendCheckFailed(f"backend {backend.name}: cannot read the cluster's hypervisors: {exc}") from exc
    enabled = list(info.get("enabled_hypervisors") or [])
    if hypervisor not in enabled:
        raise BackendCheckFailed(
            f"hypervisor {hypervisor!r} is not enabled on cluster {info.get('name', backend.name)} "
            f"(enabled: {', '.join(enabled) or 'none'})"
        )
    backend.hypervisor = hypervisor
    backend.save(update_fields=["hypervisor"])
    log.info("backend %s: new servers use hypervisor %s", backend.name, hypervisor)
    return backend
