"""Server actions: reboot, start, stop, resize, rebuild, lock, console."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone

from logic import server_status
from logic.admin.suspension import check_not_suspended
from logic.enums import OperState, ServerTask
from logic.identity import AuthContext
from logic.models import Flavor, Server, ServerMetadata
from logic.servers import rebuild_options
from logic.servers.errors import Conflict, Invalid
from logic.servers.lookup import check_unlocked, get_server
from logic.servers.submit import backend_jobs, log_action, submit_job
from logic.servers.validation import (
    canonical_ip,
    generate_password,
    resolve_flavor,
    resolve_image,
    validate_description,
    validate_metadata,
    validate_name,
)

log = logging.getLogger(__name__)

# Nova's action names (os-instance-actions) for the tasks the API starts.
_IDLE_STATES = {
    "reboot_soft": {OperState.STARTED},
    "reboot_hard": {OperState.STARTED, OperState.STOPPED, OperState.ERROR},
    "start": {OperState.STOPPED},
    "stop": {OperState.STARTED},
    "resize": {OperState.STARTED, OperState.STOPPED},
    "rebuild": {OperState.STARTED, OperState.STOPPED, OperState.ERROR},
}

# Actions that may leave a stopped server running: refused while it is suspended (logic.admin.suspension).
STARTS_THE_SERVER = {"start", "reboot_hard", "reboot_soft", "rebuild"}


def _check_state(server: Server, rule: str, action: str, *, allow_tasks: Iterable[str] = ()) -> None:
    status = server_status.server_status(server)
    if server.task and server.task not in allow_tasks:
        raise Conflict(
            f"Cannot '{action}' instance {server.pk} while it is in task_state {server_status.task_state(server.task) or server.task}."
        )
    if server.awaiting_resize_confirm and rule != "resize_confirm":
        raise Conflict(
            f"Cannot '{action}' instance {server.pk} while it is in VERIFY_RESIZE: confirm or revert the resize first."
        )
    if server.operstate not in _IDLE_STATES[rule]:
        raise Conflict(f"Cannot '{action}' instance {server.pk} while it is in status {status}.")


def _start_task(
    ctx: AuthContext,
    raw_id: str,
    *,
    rule: str,
    action: str,
    task: str,
    request_id: str,
    prepare=None,
    allow_tasks=(),
    charge=None,
):
    """Lock the row, check lock + state, write the task, the quota charge and the action log."""
    with transaction.atomic():
        server = get_server(ctx, raw_id, for_update=True)
        check_unlocked(ctx, server)
        if rule in STARTS_THE_SERVER:
            check_not_suspended(server, action)
        _check_state(server, rule, action, allow_tasks=allow_tasks)
        extra = prepare(server) if prepare else {}
        Server.objects.filter(pk=server.pk).update(
            task=task, task_request_id=request_id, task_job_id=None, updated_at=timezone.now(), **extra
        )
        for key, value in extra.items():
            setattr(server, key, value)
        server.task = task
        server.commission = charge(server) if charge else None
        log_action(ctx, server, action, request_id)
    return server


def reboot(ctx: AuthContext, raw_id: str, kind: object, *, request_id: str) -> None:
    if not isinstance(kind, str) or kind.upper() not in ("SOFT", "HARD"):
        raise Invalid("Invalid reboot type: it must be SOFT or HARD.")
    hard = kind.upper() == "HARD"
    task = ServerTask.REBOOT_HARD if hard else ServerTask.REBOOT_SOFT
    server = _start_task(
        ctx,
        raw_id,
        rule="reboot_hard" if hard else "reboot_soft",
        action="reboot",
        task=task,
        request_id=request_id,
        allow_tasks=(ServerTask.REBOOT_SOFT,) if hard else (),
    )
    submit_job(server, task, request_id, lambda: backend_jobs().reboot_server(server, hard=hard))


def start(ctx: AuthContext, raw_id: str, *, request_id: str) -> None:
    from logic import server_quotas

    server = _start_task(
        ctx,
        raw_id,
        rule="start",
        action="start",
        task=ServerTask.START,
        request_id=request_id,
        charge=lambda s: server_quotas.charge_start(s, request_id=request_id),
    )
    submit_job(server, ServerTask.START, request_id, lambda: backend_jobs().start_server(server))


def stop(ctx: AuthContext, raw_id: str, *, request_id: str) -> None:
    from logic import server_quotas

    server = _start_task(
        ctx,
        raw_id,
        rule="stop",
        action="stop",
        task=ServerTask.STOP,
        request_id=request_id,
        charge=lambda s: server_quotas.charge_stop(s, request_id=request_id),
    )
    submit_job(server, ServerTask.STOP, request_id, lambda: backend_jobs().stop_server(server))


def resize(ctx: AuthContext, raw_id: str, flavor_ref: object, *, request_id: str) -> None:
    """Resize: Ganeti modify (+ restart when running); the server then waits in VERIFY_RESIZE for confirm/revert.

    The pipeline (``logic.events``) sets VERIFY_RESIZE when the last job succeeds, or
    restores the old flavor when it fails.
    """
    from logic import server_quotas

    if flavor_ref is None:
        raise Invalid("Resize requires a flavorRef.")
    flavor = resolve_flavor(ctx, flavor_ref)
    old_flavors: list[Flavor] = []

    def prepare(server: Server) -> dict:
        if server.flavor_id == flavor.pk:
            raise Invalid("When resizing, instances must change flavor.")
        if flavor.disk < server.flavor.disk:
            raise Invalid("Resizing to a smaller disk is not possible: Ganeti disks only grow.")
        old_flavors.append(server.flavor)
        return {"old_flavor_id": server.flavor_id, "flavor_id": flavor.pk}

    server = _start_task(
        ctx,
        raw_id,
        rule="resize",
        action="resize",
        task=ServerTask.RESIZE,
        request_id=request_id,
        prepare=prepare,
        charge=lambda s: server_quotas.charge_resize(s, old_flavors[0], flavor, request_id=request_id),
    )
    server.flavor = flavor
    restart = server.operstate == OperState.STARTED  # a running server runs with the new size when done
    submit_job(server, ServerTask.RESIZE, request_id, lambda: backend_jobs().resize_server(server, flavor, restart=restart))


def confirm_resize(ctx: AuthContext, raw_id: str, *, request_id: str) -> None:
    """Accept a finished resize (no Ganeti job: the instance already has the new size)."""
    with transaction.atomic():
        server = get_server(ctx, raw_id, for_update=True)
        check_unlocked(ctx, server)
        if not server.awaiting_resize_confirm or server.task:
            raise Conflict(f"Cannot 'confirmResize' instance {server.pk}: it is not in VERIFY_RESIZE.")
        Server.objects.filter(pk=server.pk).update(awaiting_resize_confirm=False, old_flavor=None, updated_at=timezone.now())
        log_action(ctx, server, "confirmResize", request_id, finished=True)


def revert_resize(ctx: AuthContext, raw_id: str, *, request_id: str) -> None:
    """Undo a finished resize: modify the instance back to the old flavor and restart it."""
    from logic import server_quotas

    with transaction.atomic():
        server = get_server(ctx, raw_id, for_update=True)
        check_unlocked(ctx, server)
        if not server.awaiting_resize_confirm or server.task or server.old_flavor_id is None:
            raise Conflict(f"Cannot 'revertResize' instance {server.pk}: it is not in VERIFY_RESIZE.")
        old = Flavor.objects.get(pk=server.old_flavor_id)
        server.commission = server_quotas.charge_resize(
            server, server.flavor, old, request_id=request_id, action=ServerTask.REVERT_RESIZE
        )
        Server.objects.filter(pk=server.pk).update(
            task=ServerTask.REVERT_RESIZE,
            task_request_id=request_id,
            task_job_id=None,
            awaiting_resize_confirm=False,
            flavor=old,
            old_flavor=None,
            updated_at=timezone.now(),
        )
        server.flavor = old
        log_action(ctx, server, "revertResize", request_id)
    restart = server.operstate == OperState.STARTED
    submit_job(server, ServerTask.REVERT_RESIZE, request_id, lambda: backend_jobs().resize_server(server, old, restart=restart))


def rebuild(ctx: AuthContext, raw_id: str, spec: object, *, request_id: str) -> tuple[Server, str]:
    """Reinstall with an image (Ganeti reinstall); returns (server, admin password)."""
    if not isinstance(spec, dict) or "imageRef" not in spec:
        raise Invalid('Rebuild requires {"imageRef": ...}.')
    image = resolve_image(ctx, spec["imageRef"])
    name = validate_name(spec["name"]) if "name" in spec else None
    metadata = validate_metadata(spec["metadata"]) if spec.get("metadata") is not None else None
    ipv4 = canonical_ip(spec["accessIPv4"], 4, what="accessIPv4") if "accessIPv4" in spec else None
    ipv6 = canonical_ip(spec["accessIPv6"], 6, what="accessIPv6") if "accessIPv6" in spec else None
    has_description = "description" in spec
    description = validate_description(spec["description"]) if has_description else None
    admin_pass = spec.get("adminPass") or generate_password()
    extras = rebuild_options.changes(ctx, spec)

    def prepare(server: Server) -> dict:
        if not server.flavor.has_disk:
            # Ganeti refuses to reinstall an instance without disks, after the job has already shut it down.
            raise Conflict(
                f"Cannot 'rebuild' instance {server.pk}: its flavor {server.flavor.name} is diskless, so there is no disk to reinstall."
            )
        if server.flavor.disk_template == "ext":
            # its disk is an RBD clone of the image or a boot volume, which the OS definition leaves as it is
            raise Conflict(
                f"Cannot 'rebuild' instance {server.pk}: its disk is on RBD (flavor {server.flavor.name}, a clone of its "
                "image or a boot volume), and rebuilding one is not supported."
            )
        if image.min_ram and server.flavor.ram < image.min_ram:
            raise Invalid("Flavor's memory is too small for the requested image.")
        changes: dict = {"image_id": image.pk, **extras}
        if name is not None:
            changes["name"] = name
        if ipv4 is not None:
            changes["access_ipv4"] = ipv4
        if ipv6 is not None:
            changes["access_ipv6"] = ipv6
        if has_description:
            changes["description"] = description
        if metadata is not None:
            server.metadata.all().delete()
            ServerMetadata.objects.bulk_create(ServerMetadata(server=server, key=k, value=v) for k, v in metadata.items())
        return changes

    server = _start_task(
        ctx, raw_id, rule="rebuild", action="rebuild", task=ServerTask.REBUILD, request_id=request_id, prepare=prepare
    )
    server.image = image
    from logic.personalisation import hash_password

    server.admin_password_hash = hash_password(admin_pass)  # for the personalisation grant; never stored on the row
    submit_job(server, ServerTask.REBUILD, request_id, lambda: backend_jobs().rebuild_server(server, image))
    return server, admin_pass


def set_lock(ctx: AuthContext, raw_id: str, locked: bool, *, reason: object = None, request_id: str) -> None:
    """Lock (non-admins then cannot act on the server) or unlock; a DB flag only."""
    if reason is not None and (not isinstance(reason, str) or len(reason) > 255):
        raise Invalid("locked_reason must be a string of at most 255 characters.")
    with transaction.atomic():
        server = get_server(ctx, raw_id, for_update=True)
        Server.objects.filter(pk=server.pk).update(
            locked=locked, locked_reason=reason if locked else None, updated_at=timezone.now()
        )
        log_action(ctx, server, "lock" if locked else "unlock", request_id, finished=True)
