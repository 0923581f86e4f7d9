"""Ganeti jobs for every server action: each function submits one job and returns its id.

The caller (the compute API) records the id on the server (``task_job_id``) and
answers at once; the event pipeline reports how the job went. Nothing here
waits for a job or changes a server's state.

Instances are named ``server.ganeti_name`` (``<GANETI_PREFIX>-<id>``) and carry
their ownership as tags (:func:`ownership_tags`), visible with
``gnt-instance list -o +tags``.

Secrets never reach Ganeti: the admin password (only its SHA-512 crypt hash is kept),
user data and keys stay in the product's database; for our OS definition they wait
on a one-time personalisation grant whose id alone is an OS parameter
(:mod:`logic.personalisation`). Only the image's own, non-secret OS parameters are
passed, and a parameter whose name looks like a secret is refused.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from typing import Any

from django.conf import settings

from cyclades.logs import request_id_var
from logic import image_deploy, personalisation, rapi, volume_rbd
from logic.backends import client_for
from logic.enums import OperState
from logic.errors import InvalidInput
from logic.image_stores.rbd import parse_location
from logic.models import Flavor, Image, Server
from logic.rapi import RapiClient, RapiError, RapiNotFound, RapiUnavailable

log = logging.getLogger(__name__)

_SECRET_PARAM = re.compile(r"pass|secret|user_?data|private|token|key_?data", re.IGNORECASE)


def ownership_tags(server: Server) -> list[str]:
    """``<prefix>:user:<id>``, ``<prefix>:project:<id>``, ``<prefix>:server:<id>``."""
    prefix = settings.CYCLADES["GANETI_PREFIX"]
    return [
        f"{prefix}:user:{server.user_id}",
        f"{prefix}:project:{server.project_id}",
        f"{prefix}:server:{server.id}",
    ]


def beparams_for(flavor: Flavor) -> dict[str, int]:
    """Ganeti backend parameters of a flavor: fixed memory (min = max) and vCPUs."""
    return {"vcpus": flavor.vcpus, "maxmem": flavor.ram, "minmem": flavor.ram}


def disks_for(flavor: Flavor, image: Image | None = None) -> list[dict[str, Any]]:
    """The instance's disks: none for ``diskless``, else one disk of the flavor's size (MiB).

    On the ``ext`` template the disk is an RBD image of our ``cyclades-rbd`` provider; from an
    image in the rbd store it is a copy-on-write clone of the image's protected snapshot
    (``origin``), so no byte is copied (see :func:`clones_image`).
    """
    if not flavor.has_disk:
        return []
    disk: dict[str, Any] = {"size": flavor.disk * 1024}
    if volume_rbd.is_rbd(flavor.disk_template):
        disk["provider"] = volume_rbd.provider()
        if image is not None and clones_image(flavor, image):
            pool, name, snap = parse_location(image.location)
            disk["origin"] = f"{pool}/{name}@{snap}"
            disk["name"] = CLONE_DISK_NAME  # our OS definition writes nothing onto a disk of this name
    return [disk]


#: The name of a server's disk that is an RBD clone of its image. Our OS definition (conf/ganeti-os) writes
#: nothing onto a disk 0 of this name, nor onto one named after a volume (boot from volume): it holds the
#: image already. The fetch grant is passed all the same (it expires unused), so an older OS definition
#: still deploys correctly, by writing the bytes.
CLONE_DISK_NAME = "cyclades-image-clone"


def clones_image(flavor: Flavor, image: Image) -> bool:
    """Whether the server's disk is an RBD clone of the image (ext flavor, image in the rbd store)."""
    return volume_rbd.is_rbd(flavor.disk_template) and image.store == "rbd" and image.location.startswith("rbd://")


def public_osparams(image: Image) -> dict[str, Any]:
    """The image's OS parameters, refusing any whose name looks like a secret."""
    params = dict(image.ganeti_osparams or {})
    leaked = sorted(k for k in params if _SECRET_PARAM.search(k))
    if leaked:
        raise InvalidInput(
            f"image {image.id} has OS parameters that look like secrets ({', '.join(leaked)}); "
            "secrets must not be passed to Ganeti"
        )
    return params


def osparams_for(image: Image, server: Server, action: str) -> dict[str, Any]:
    """The image's OS parameters, plus one-time grants (the data, the personalisation) when our OS definition deploys it.

    The personalisation carries the admin password's hash the API left on the server object
    (``server.admin_password_hash``, never a database column).
    """
    params = public_osparams(image)
    if image_deploy.uses_fetch(image):
        params |= image_deploy.deploy_osparams(image, purpose=f"{action} of {server.ganeti_name}")
        password_hash = getattr(server, "admin_password_hash", None)
        params |= personalisation.osparams(server, image, action=action, password_hash=password_hash)
    return params


def _client(server: Server) -> RapiClient:
    if server.backend is None:
        raise InvalidInput(f"server {server.id} has no backend yet")
    return client_for(server.backend)


def _submitted(server: Server, action: str, job_id: int) -> int:
    log.info("%s of %s submitted as job %s", action, server.ganeti_name, job_id, extra={"server_id": server.id, "job_id": job_id})
    return job_id


# ----------------------------------------------------------------------------- actions
def create_server(server: Server, *, nics: list[dict], depends: Sequence[int] = ()) -> int:
    """Create the server's instance: flavor → beparams/disks, image → OS, ownership tags; started when built.

    ``nics``: Ganeti NIC specs, e.g. ``{"network": "<prefix>-net-7", "ip": "pool"}``
    or ``{"link": "br0", "mode": "bridged"}``; may be empty. ``depends``: jobs that
    must succeed first (the connects of the NICs' networks).
    """
    after = {"depends": [[int(j), ["success"]] for j in depends]} if depends else {}
    if server.image is None:
        raise InvalidInput(f"server {server.id} has no image")
    flavor = server.flavor
    backend = server.backend
    from logic.servers import boot_volume

    boot = boot_volume.of(server)
    disks = [volume_rbd.disk_spec(boot.ganeti_name, boot.size)] if boot else disks_for(flavor, server.image)
    with _client(server) as client:
        job_id = client.create_instance(
            server.ganeti_name,
            disk_template=flavor.disk_template,
            disks=disks,
            nics=nics,
            os=server.image.ganeti_os,
            osparams=osparams_for(server.image, server, "create") or None,
            beparams=beparams_for(flavor),
            hypervisor=backend.hypervisor or None,
            tags=ownership_tags(server),
            start=True,
            **_nodes(server),
            **after,
        )
    return _submitted(server, "create", job_id)


def _nodes(server: Server) -> dict[str, str]:
    """``pnode`` (and for DRBD an ``snode``) when placement chose the node (:mod:`logic.placement`)."""
    pnode = getattr(server, "pnode", None)
    if not pnode:
        return {}
    if server.flavor.disk_template != "drbd":
        return {"pnode": pnode}
    from logic.models import ComputeNode

    others = ComputeNode.objects.filter(backend=server.backend, present=True).exclude(name=pnode).order_by("forced_down", "name")
    second = others.values_list("name", flat=True).first()
    return {"pnode": pnode, "snode": second} if second else {"pnode": pnode}


def start_server(server: Server) -> int:
    with _client(server) as client:
        return _submitted(server, "startup", client.startup_instance(server.ganeti_name))


def stop_server(server: Server, timeout: int | None = None) -> int:
    """Shut down; Ganeti forces the VM off after ``timeout`` s (default ``GANETI_SHUTDOWN_TIMEOUT``)."""
    if timeout is None:
        timeout = settings.CYCLADES.get("GANETI_SHUTDOWN_TIMEOUT", 60)
    with _client(server) as client:
        return _submitted(server, "shutdown", client.shutdown_instance(server.ganeti_name, timeout=timeout))


def reboot_server(server: Server, hard: bool) -> int:
    """Soft: the guest is asked to reboot; hard: Ganeti stops and starts the VM."""
    timeout = settings.CYCLADES.get("GANETI_SHUTDOWN_TIMEOUT", 60)
    with _client(server) as client:
        job_id = client.reboot_instance(server.ganeti_name, hard=hard, shutdown_timeout=timeout)
    return _submitted(server, "hard reboot" if hard else "soft reboot", job_id)


def resize_server(server: Server, flavor: Flavor, *, restart: bool = False) -> int:
    """Give the instance the new flavor's vCPUs and memory (no hotplug: they apply at the next start).

    ``restart``: also shut the instance down and start it again so it runs with the
    new size, as two more jobs that each depend on the previous one's success (a
    failed modify runs neither). Returns the id of the last job: it succeeds only
    if the whole resize did.
    """
    timeout = settings.CYCLADES.get("GANETI_SHUTDOWN_TIMEOUT", 60)
    with _client(server) as client:
        if not restart:
            job_id = client.modify_instance(server.ganeti_name, beparams=beparams_for(flavor), hotplug=False)
            return _submitted(server, f"resize to {flavor.name}", job_id)
        # Only the last job carries the API request id as a word of its reason: the event
        # pipeline may match a job to the pending task by that id (before the job id is
        # recorded), and the first two jobs ending must not end the task.
        rid = request_id_var.get()
        step = (lambda n: f"resize-step-{n}-of-3-for:{rid}") if rid else (lambda n: None)
        token = rapi.reason_carries_request_id.set(False)
        try:
            job_id = client.modify_instance(server.ganeti_name, beparams=beparams_for(flavor), hotplug=False, reason=step(1))
            job_id = client.shutdown_instance(server.ganeti_name, timeout=timeout, depends=[job_id], reason=step(2))
        finally:
            rapi.reason_carries_request_id.reset(token)
        job_id = client.startup_instance(server.ganeti_name, depends=[job_id])
    return _submitted(server, f"resize to {flavor.name} and restart", job_id)


def rebuild_server(server: Server, image: Image) -> int:
    """Reinstall with ``image``'s OS and parameters; Ganeti's job shuts the VM down and reinstalls it.

    The job starts it again unless it was stopped: as in Nova, a SHUTOFF server stays
    SHUTOFF after a rebuild (an ACTIVE or ERROR one comes back ACTIVE).
    """
    start = server.operstate != OperState.STOPPED
    with _client(server) as client:
        job_id = client.reinstall_instance(
            server.ganeti_name, os=image.ganeti_os, osparams=osparams_for(image, server, "rebuild"), start=start
        )
    return _submitted(server, f"rebuild from image {image.id}", job_id)


SNAPSHOT_OS = "cyclades-image+default"


def snapshot_server(server: Server, osparams: Mapping[str, str]) -> int:
    """Two chained jobs that take the server's first disk into a snapshot image; returns the export's job id.

    1. modify: our OS definition (when the instance has another) and ``osparams``
       (the upload grant; nothing secret);
    2. a local backup export on the primary node, which runs our OS's ``export``
       script: it streams the disk to the image API (the instance is shut down for the
       copy when it runs and its disks cannot be snapshotted, and started again).

    The spent grant stays in the OS parameters (removing it in a third job would race
    the next snapshot's modify); the export script asks the API first and makes a plain
    backup with a spent one.
    """
    timeout = settings.CYCLADES.get("GANETI_SHUTDOWN_TIMEOUT", 60)
    with _client(server) as client:
        info = client.get_instance(server.ganeti_name)
        os_name = None if str(info.get("os", "")).split("+", 1)[0] == "cyclades-image" else SNAPSHOT_OS
        prepare = client.modify_instance(
            server.ganeti_name, osparams=dict(osparams), os_name=os_name, reason="snapshot: set upload grant"
        )
        export = client.export_instance(
            server.ganeti_name,
            target_node=info["pnode"],
            shutdown=True,
            shutdown_timeout=timeout,
            long_sleep=True,
            reason="snapshot: export the disk",
            depends=[prepare],
        )
    return _submitted(server, "snapshot", export)


def destroy_server(server: Server) -> int:
    timeout = settings.CYCLADES.get("GANETI_SHUTDOWN_TIMEOUT", 60)
    with _client(server) as client:
        return _submitted(server, "remove", client.remove_instance(server.ganeti_name, shutdown_timeout=timeout))


def rename_server(server: Server, new_name: str) -> int:
    """Rename the Ganeti instance (operator use: instance names normally never change)."""
    with _client(server) as client:
        return _submitted(server, f"rename to {new_name}", client.rename_instance(server.ganeti_name, new_name))


def add_nic(
    server: Server,
    *,
    network: str | None = None,
    ip: str | None = None,
    mac: str | None = None,
    link: str | None = None,
    mode: str | None = None,
    name: str | None = None,
    extra: Mapping[str, Any] | None = None,
    depends: Sequence[int] = (),
) -> int:
    """Add a NIC at the end: on a Ganeti network (``ip="pool"`` takes one from its pool) or on a link.

    ``depends``: jobs (e.g. the network's connect) that must succeed first.
    """
    params = {"network": network, "ip": ip, "mac": mac, "link": link, "mode": mode, "name": name}
    nic = {k: v for k, v in params.items() if v is not None} | dict(extra or {})
    after = {"depends": [[int(j), ["success"]] for j in depends]} if depends else {}
    with _client(server) as client:
        job_id = client.modify_instance(server.ganeti_name, nics=[["add", -1, nic]], hotplug=False, **after)
    return _submitted(server, "add NIC", job_id)


def remove_nic(server: Server, index: int) -> int:
    """Remove the NIC at ``index`` (Ganeti renumbers the NICs after it)."""
    with _client(server) as client:
        job_id = client.modify_instance(server.ganeti_name, nics=[["remove", int(index), {}]], hotplug=False)
    return _submitted(server, f"remove NIC {index}", job_id)


def console_info(server: Server) -> dict[str, Any]:
    """How to reach the server's console: Ganeti's answer (``instance``, ``kind``, ``host``, ``port``, ...).

    Ganeti 3.0.2 answers 500 for kvm with VNC (it cannot parse the display):
    then the VNC endpoint is taken from the instance's ``network_port`` on its
    primary node.
    """
    with _client(server) as client:
        try:
            return client.get_instance_console(server.ganeti_name)
        except (RapiNotFound, RapiUnavailable):
            raise
        except RapiError as exc:
            if exc.status != 500:
                raise
            info = client.get_instance(server.ganeti_name)
            if not info.get("network_port"):
                raise
            log.info("console of %s read from instance info (Ganeti console call failed: %s)", server.ganeti_name, exc)
            return {
                "instance": server.ganeti_name,
                "kind": "vnc",
                "host": info["pnode"],
                "port": info["network_port"],
            }
