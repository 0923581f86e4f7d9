"""Server rules: create, update, delete, actions, metadata, listing filters.

Every change follows the core loop (DESIGN.md): validate, write the intent (task
pending, an action-log row) in a transaction, submit the Ganeti job through
:mod:`logic.ganeti_jobs`, record the job id, return. Ganeti is never polled here;
what Ganeti reports comes back through the event pipeline (``logic.events``).

Errors are :mod:`logic.errors` subclasses that the API maps to OpenStack faults
(400 :class:`Invalid`, 404 :class:`Missing`, 409 :class:`Conflict`, 501
:class:`NotSupported`, 403 for quotas). A rejected request changes nothing.
"""

from __future__ import annotations

import ipaddress
import logging
import re
import secrets
import string
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from logic import networks as network_rules
from logic import server_rows, server_status
from logic.enums import JobStatus, OpCode, OperState, ServerTask
from logic.errors import ConflictError, InvalidInput, LogicError, NotFoundError, OverQuotaError
from logic.identity import AuthContext
from logic.ids import parse_uuid
from logic.models import Flavor, Image, Keypair, Server, ServerAction, ServerMetadata, ServerNIC

log = logging.getLogger(__name__)

NAME_MAX = 255
METADATA_MAX_ITEMS = 128
METADATA_FIELD_MAX = 255
# How long a deleted server stays visible (as DELETED) on the Synnefo personality.
DELETED_VISIBLE_FOR = timedelta(hours=1)


# ----------------------------------------------------------------------------- errors
class Invalid(InvalidInput):
    """Bad input (400)."""


class Missing(NotFoundError):
    """No such server (or not visible to the caller) (404)."""


class Conflict(ConflictError):
    """Not possible in the server's current state or with its pending task (409)."""


class NotSupported(LogicError):
    """A known request this cloud does not implement (501)."""


# ----------------------------------------------------------------------------- validation
def validate_name(name: object, *, what: str = "name") -> str:
    """A server name: a string of 1-255 characters, not starting or ending with whitespace."""
    if not isinstance(name, str):
        raise Invalid(f"Invalid input for field/attribute {what}: {name!r} is not a string.")
    if not name.strip():
        raise Invalid(f"Invalid input for field/attribute {what}: it must not be empty or only whitespace.")
    if len(name) > NAME_MAX:
        raise Invalid(f"Invalid input for field/attribute {what}: longer than {NAME_MAX} characters.")
    if name != name.strip():
        raise Invalid(f"Invalid input for field/attribute {what}: leading or trailing whitespace is not allowed.")
    if any(not ch.isprintable() for ch in name):
        raise Invalid(f"Invalid input for field/attribute {what}: control characters are not allowed.")
    return name


def validate_metadata(metadata: object, *, existing: int = 0) -> dict[str, str]:
    """Metadata: an object of string keys (1-255 chars) to string values (0-255 chars)."""
    if not isinstance(metadata, dict):
        raise Invalid("Invalid input for field/attribute metadata: it must be an object of strings.")
    for key, value in metadata.items():
        if not isinstance(key, str) or not key or len(key) > METADATA_FIELD_MAX:
            raise Invalid(f"Invalid metadata key {key!r}: it must be 1 to {METADATA_FIELD_MAX} characters.")
        if not isinstance(value, str):
            raise Invalid(f"Invalid metadata value for {key!r}: it must be a string.")
        if len(value) > METADATA_FIELD_MAX:
            raise Invalid(f"Invalid metadata value for {key!r}: longer than {METADATA_FIELD_MAX} characters.")
    if existing + len(metadata) > METADATA_MAX_ITEMS:
        # a quota in Nova's terms (metadata_items): 403, not 400
        raise OverQuotaError(f"Quota exceeded for metadata_items: a server may have at most {METADATA_MAX_ITEMS} items.")
    return dict(metadata)


def validate_description(value: object) -> str | None:
    """A server description: null or a string of at most 255 characters."""
    if value is not None and (not isinstance(value, str) or len(value) > 255):
        raise Invalid("Invalid input for field/attribute description: a string of at most 255 characters.")
    return value


def canonical_ip(value: object, version: int, *, what: str) -> str:
    """An access IP in canonical form ('' clears it); IPv6 per RFC 5952."""
    if value is None or value == "":
        return ""
    if not isinstance(value, str):
        raise Invalid(f"Invalid input for field/attribute {what}: {value!r} is not a string.")
    try:
        address = ipaddress.IPv4Address(value) if version == 4 else ipaddress.IPv6Address(value)
    except ValueError:
        raise Invalid(f"Invalid input for field/attribute {what}: {value!r} is not a valid IPv{version} address.") from None
    return str(address)


def parse_server_id(raw: str) -> int:
    """A server id from a URL: a positive integer, else no such server (404, never 400)."""
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 18:  # "²".isdigit() is True
        raise Missing(f"Instance {raw} could not be found.")
    return int(raw)


def reservation_id() -> str:
    """Nova's reservation id (``r-`` and 8 characters), shared by the servers of one create request."""
    alphabet = string.ascii_lowercase + string.digits
    return "r-" + "".join(secrets.choice(alphabet) for _ in range(8))


def generate_password(length: int = 16) -> str:
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(length))


# ----------------------------------------------------------------------------- lookups
def visible_servers(ctx: AuthContext, *, include_deleted: bool = False) -> QuerySet[Server]:
    """The caller's project's servers (rows for responses come from :func:`logic.server_rows.load`)."""
    qs = Server.objects.filter(project=ctx.project)
    if not include_deleted:
        qs = qs.filter(deleted=False)
    return qs


def get_server(
    ctx: AuthContext, raw_id: str, *, include_deleted: bool = False, for_update: bool = False, any_deleted: bool = False
) -> Server:
    """The caller's server by URL id; 404 for a bad id, another project's or a deleted server.

    ``include_deleted``: a recently deleted server still answers (the Synnefo personality);
    ``any_deleted``: a deleted server answers however long ago (the action log from 2.21).
    """
    server_id = parse_server_id(raw_id)
    qs = Server.objects.filter(project=ctx.project, pk=server_id)
    if for_update:
        qs = qs.select_for_update(of=("self",)).select_related("flavor", "image")
    server = qs.first()
    if server is None or (server.deleted and not any_deleted and not (include_deleted and _recently_deleted(server))):
        raise Missing(f"Instance {raw_id} could not be found.")
    return server


def get_server_row(
    ctx: AuthContext, raw_id: str, *, include_deleted: bool = False, with_tags: bool = False
) -> server_rows.ServerRow:
    """:func:`get_server` as a row for rendering (with NICs, metadata and, when asked, tags)."""
    row = server_rows.load_one(visible_servers(ctx, include_deleted=True), parse_server_id(raw_id), with_tags=with_tags)
    if row is None or (row.deleted and not (include_deleted and _recently_deleted(row))):
        raise Missing(f"Instance {raw_id} could not be found.")
    return row


def metadata_of(server: Server) -> dict[str, str]:
    """A server's metadata as a dict (one query)."""
    return dict(ServerMetadata.objects.filter(server_id=server.pk).order_by("id").values_list("key", "value"))


def _recently_deleted(server: Server | server_rows.ServerRow) -> bool:
    ended = server.terminated_at or server.updated_at
    return ended is not None and timezone.now() - ended < DELETED_VISIBLE_FOR


def resolve_flavor(ctx: AuthContext, ref: object) -> Flavor:
    """The flavor a request names (id or link), usable by the caller; else 400."""
    text = _ref_id(ref)
    flavor = None
    if text.isdigit() and len(text) < 18:
        flavor = Flavor.objects.filter(pk=int(text), disabled=False).first()
    if flavor is None or not (
        flavor.is_public or ctx.is_admin or flavor.projects.filter(pk=getattr(ctx.project, "pk", None)).exists()
    ):
        raise Invalid(f"Flavor {text} could not be found.")
    return flavor


def resolve_image(ctx: AuthContext, ref: object) -> Image:
    """The image a request names (uuid or link), visible to the caller and active; else 400."""
    text = _ref_id(ref)
    try:
        image_id = uuid.UUID(text)
    except ValueError:
        raise Invalid(f"Invalid imageRef {text!r}: it must be an image id.") from None
    image = Image.objects.filter(pk=image_id).first()
    visible = image is not None and (
        image.visibility in (Image.Visibility.PUBLIC, Image.Visibility.COMMUNITY)
        or image.owner_id == getattr(ctx.project, "id", None)
        or ctx.is_admin
    )
    if not visible:
        raise Invalid(f"Image {text} could not be found.")
    if image.status != "active":
        raise Invalid(f"Image {text} is not active.")
    return image


def _ref_id(ref: object) -> str:
    if isinstance(ref, bool) or not isinstance(ref, str | int):
        raise Invalid(f"Invalid reference {ref!r}: expected an id.")
    text = str(ref).strip()
    # a link (http://H/compute/v2.1/flavors/1) names the resource by its last segment
    return text.rstrip("/").rsplit("/", 1)[-1]


# ----------------------------------------------------------------------------- create
@dataclass
class NetworkRequest:
    """One requested NIC: a network (None: the cluster's default NIC) and an optional fixed IP."""

    network: object | None = None  # logic.models.networks.Network
    fixed_ip: str | None = None
    port: str | None = None

    def as_job_arg(self) -> dict:
        """The Ganeti NIC spec: the Ganeti network (IP from its pool) or the network's link/mode."""
        network = self.network
        spec: dict = {}
        if network is not None and network.ganeti_network:
            spec = {"network": network.ganeti_network, "ip": self.fixed_ip or "pool"}
        elif network is not None:
            spec = {"mode": network.ganeti_mode, **({"link": network.ganeti_link} if network.ganeti_link else {})}
            if self.fixed_ip:
                spec["ip"] = self.fixed_ip
        return spec


def parse_networks(ctx: AuthContext, networks: object) -> list[NetworkRequest]:
    """``networks``: "auto" (the default network), "none" (no NIC) or a list of {uuid, fixed_ip, port}."""
    if networks is None or networks == "auto":
        return [NetworkRequest(network=network_rules.default_for(ctx))]
    if networks == "none":
        return []
    if not isinstance(networks, list):
        raise Invalid("Invalid input for field/attribute networks: expected 'auto', 'none' or a list.")
    result = []
    for entry in networks:
        if not isinstance(entry, dict) or not set(entry) <= {"uuid", "fixed_ip", "port", "tag"}:
            raise Invalid(f"Invalid network entry {entry!r}: expected {{uuid, fixed_ip, port}}.")
        net, port, fixed = entry.get("uuid"), entry.get("port"), entry.get("fixed_ip")
        if net is None and port is None:
            raise Invalid(f"Invalid network entry {entry!r}: a uuid or a port is required.")
        for label, value in (("uuid", net), ("port", port)):
            if value is not None and parse_uuid(value) is None:
                raise Invalid(f"Bad networks format: network {label} {value!r} is not in proper format.")
        if port is not None:
            raise Invalid("Booting with a pre-created port is not supported: pass the network uuid.")
        try:
            network = network_rules.get(ctx, net)
        except NotFoundError:
            raise Invalid(f"Network {net} could not be found.") from None
        if fixed is not None:
            fixed = canonical_ip(fixed, 6 if ":" in str(fixed) else 4, what="fixed_ip")
        result.append(NetworkRequest(network=network, fixed_ip=fixed or None))
    return result


def _image_from_bdm(bdm: object) -> str | None:
    """The image a ``block_device_mapping_v2`` boots from (image source, boot index 0), if any."""
    if bdm is None:
        return None
    if not isinstance(bdm, list) or not all(isinstance(d, dict) for d in bdm):
        raise Invalid("Invalid input for field/attribute block_device_mapping_v2: expected a list of objects.")
    for device in bdm:
        source = device.get("source_type")
        if source not in (None, "image", "blank"):
            raise Invalid(f"Block device source_type {source!r} is not supported: volumes are not available.")
        if device.get("destination_type") not in (None, "local"):
            raise Invalid("Block devices with destination_type 'volume' are not supported.")
        if source == "image" and str(device.get("boot_index", 0)) == "0":
            return device.get("uuid")
    return None


@dataclass
class CreateRequest:
    """A validated server create request."""

    name: str
    flavor: Flavor
    image: Image
    metadata: dict[str, str] = field(default_factory=dict)
    keypair: Keypair | None = None
    networks: list[NetworkRequest] = field(default_factory=list)
    admin_pass: str = ""
    user_data: str | None = None
    access_ipv4: str = ""
    access_ipv6: str = ""
    description: str | None = None
    count: int = 1


def parse_create(ctx: AuthContext, body: object) -> CreateRequest:
    """Validate a ``{"server": {...}}`` create body; 400 with the first problem found."""
    if not isinstance(body, dict) or not isinstance(body.get("server"), dict):
        raise Invalid('The request body must be {"server": {...}}.')
    spec = body["server"]
    if "name" not in spec:
        raise Invalid("Invalid input: 'name' is a required property.")
    name = validate_name(spec["name"])
    if "flavorRef" not in spec:
        raise Invalid("Invalid input: 'flavorRef' is a required property.")
    flavor = resolve_flavor(ctx, spec["flavorRef"])
    image_ref = spec.get("imageRef") or _image_from_bdm(spec.get("block_device_mapping_v2"))
    if spec.get("imageRef"):
        _image_from_bdm(spec.get("block_device_mapping_v2"))  # still validated
    if not image_ref:
        raise Invalid("An imageRef (or an image block device) is required: booting from volume is not supported.")
    image = resolve_image(ctx, image_ref)
    if image.min_ram and flavor.ram < image.min_ram:
        raise Invalid(f"Flavor's memory is too small for the requested image (needs {image.min_ram} MiB).")
    if image.min_disk and flavor.disk < image.min_disk:
        raise Invalid(f"Flavor's disk is too small for the requested image (needs {image.min_disk} GiB).")
    metadata = validate_metadata(spec.get("metadata") or {})
    keypair = None
    if spec.get("key_name") is not None:
        keypair = Keypair.objects.filter(user=ctx.user, name=spec["key_name"]).first()
        if keypair is None:
            raise Invalid(f"Invalid key_name provided: keypair {spec['key_name']!r} not found.")
    for group in spec.get("security_groups") or []:
        if not isinstance(group, dict) or group.get("name", "default") != "default":
            raise Invalid(f"Security group {group!r} not found: only 'default' exists.")
    admin_pass = spec.get("adminPass")
    if admin_pass is not None and not isinstance(admin_pass, str):
        raise Invalid("Invalid input for field/attribute adminPass: it must be a string.")
    user_data = spec.get("user_data")
    if user_data is not None and not isinstance(user_data, str):
        raise Invalid("Invalid input for field/attribute user_data: it must be a base64 string.")
    if user_data and len(user_data) > 65535:
        raise Invalid("user_data is too large (max 65535 bytes).")
    description = validate_description(spec.get("description"))
    count = _count(spec)
    return CreateRequest(
        name=name,
        flavor=flavor,
        image=image,
        metadata=metadata,
        keypair=keypair,
        networks=parse_networks(ctx, spec.get("networks")),
        admin_pass=admin_pass or generate_password(),
        user_data=user_data,
        access_ipv4=canonical_ip(spec.get("accessIPv4"), 4, what="accessIPv4"),
        access_ipv6=canonical_ip(spec.get("accessIPv6"), 6, what="accessIPv6"),
        description=description,
        count=count,
    )


def _count(spec: dict) -> int:
    def as_int(key: str, default: int) -> int:
        value = spec.get(key, default)
        try:
            number = int(value)
        except (TypeError, ValueError):
            raise Invalid(f"Invalid input for field/attribute {key}: {value!r} is not an integer.") from None
        if number < 1:
            raise Invalid(f"Invalid input for field/attribute {key}: it must be at least 1.")
        return number

    lo, hi = as_int("min_count", 1), as_int("max_count", as_int("min_count", 1))
    if lo > hi:
        raise Invalid("min_count must be <= max_count.")
    return hi


def _jobs():
    """The Ganeti job module (imported late: it is the backend engineers' module)."""
    from logic import ganeti_jobs

    return ganeti_jobs


def create(ctx: AuthContext, req: CreateRequest, *, request_id: str) -> list[Server]:
    """Create ``req.count`` servers: intent rows in one transaction, then one Ganeti job each.

    Quota is charged in the same transaction (over quota: 403, nothing written).
    When no backend can take a server, it is recorded in ERROR with a "No valid
    host" fault, as Nova does, rather than failing the whole request.
    """
    from logic import allocator, server_quotas

    servers: list[Server] = []
    reservation = reservation_id()
    with transaction.atomic():
        for index in range(req.count):
            name = req.name if req.count == 1 else f"{req.name}-{index + 1}"
            fields = {
                "name": name,
                "description": req.description,
                "user": ctx.user,
                "project": ctx.project,
                "flavor": req.flavor,
                "image": req.image,
                "key_name": req.keypair.name if req.keypair else None,
                "key_data": req.keypair.public_key if req.keypair else None,
                "user_data": req.user_data,
                "access_ipv4": req.access_ipv4,
                "access_ipv6": req.access_ipv6,
                "task_request_id": request_id,
                "reservation_id": reservation,
                "launch_index": index,
            }
            try:
                with transaction.atomic():
                    backend = allocator.allocate(flavor=req.flavor, project=ctx.project)
            except allocator.NoBackendAvailable as exc:
                server = Server.objects.create(**fields, operstate=OperState.ERROR, fault=_fault(500, str(exc)))
                _log_action(ctx, server, "create", request_id, finished=True, result="Error", message=str(exc))
            else:
                server = Server.objects.create(**fields, backend=backend, operstate=OperState.BUILD, task=ServerTask.BUILD)
                server.commission = server_quotas.charge_create(server, request_id=request_id)
                _log_action(ctx, server, "create", request_id)
            ServerMetadata.objects.bulk_create(ServerMetadata(server=server, key=k, value=v) for k, v in req.metadata.items())
            servers.append(server)
    nics = [n.as_job_arg() for n in req.networks]
    for server in servers:
        if server.task == ServerTask.BUILD:
            _submit(server, ServerTask.BUILD, request_id, lambda s=server: _jobs().create_server(s, nics=nics))
    return servers


def _fault(code: int, message: str) -> dict:
    return {"code": code, "message": message[:255], "created": timezone.now().strftime("%Y-%m-%dT%H:%M:%SZ")}


# ----------------------------------------------------------------------------- submit
def _log_action(
    ctx: AuthContext,
    server: Server,
    action: str,
    request_id: str,
    *,
    finished: bool = False,
    result: str = "Success",
    message: str | None = None,
) -> ServerAction:
    return ServerAction.objects.create(
        server=server,
        action=action,
        request_id=request_id,
        user_id=ctx.user.pk,
        project_id=server.project_id,
        finish_time=timezone.now() if finished else None,
        result=result if finished else None,
        message=message,
    )


def _submit(server: Server, task: str, request_id: str, submit) -> int | None:
    """Submit a Ganeti job for an intent already committed; record its id, or record the failure.

    A failed submission leaves the server in ERROR with a fault naming the cause
    (for a build), or clears the task and records the failure in the action log
    (for other actions: the server is as it was). Its quota charge is released.
    """
    from logic import quotas

    commission = getattr(server, "commission", None)
    try:
        job_id = submit()
    except Exception as exc:  # every failure is recorded below: the request must not be a 500
        log.warning("job submission for server %s (%s) failed: %s", server.pk, task, exc, exc_info=True)
        _submission_failed(server, task, request_id, exc)
        return None
    job_id = int(job_id) if job_id is not None else None
    with transaction.atomic():
        # The job may already have ended and been applied (its event matched the task by
        # request id): then the task is gone and must not come back.
        recorded = Server.objects.filter(pk=server.pk, task=task, task_request_id=request_id, task_job_id__isnull=True).update(
            task_job_id=job_id
        )
        ServerAction.objects.filter(server=server, request_id=request_id, job_id__isnull=True).update(job_id=job_id)
        if commission is not None and job_id is not None:
            quotas.bind_job(commission, job_id)
    if recorded:
        server.task_job_id = job_id
    else:
        log.info("job %s of server %s (%s) ended before its id was recorded", job_id, server.pk, task)
    return job_id


def _submission_failed(server: Server, task: str, request_id: str, exc: Exception) -> None:
    from logic import quotas

    message = f"Could not submit the Ganeti job: {exc}"
    now = timezone.now()
    with transaction.atomic():
        changes: dict = {"task": None, "task_job_id": None, "task_request_id": None, "updated_at": now}
        if task == ServerTask.BUILD:
            # No job exists: nothing from Ganeti will ever move this server, so the intent fails here.
            changes.update(operstate=OperState.ERROR, fault=_fault(500, message))
        if task in (ServerTask.RESIZE, ServerTask.REVERT_RESIZE) and server.old_flavor_id:
            changes.update(flavor_id=server.old_flavor_id, old_flavor_id=None)
        Server.objects.filter(pk=server.pk, task=task, task_request_id=request_id).update(**changes)
        # finish_time unset: if the RAPI call timed out after Ganeti took the job, its
        # event may already have finished the action; that outcome stands.
        ServerAction.objects.filter(server=server, request_id=request_id, finish_time__isnull=True).update(
            finish_time=now, result="Error", message=message[:1000]
        )
        quotas.release(getattr(server, "commission", None))
    for key, value in changes.items():
        setattr(server, key, value)


# ----------------------------------------------------------------------------- update / delete
def update(ctx: AuthContext, server: Server, body: object) -> Server:
    """Rename, set access IPs or the description (DB only, no Ganeti job)."""
    if not isinstance(body, dict) or not isinstance(body.get("server"), dict):
        raise Invalid('The request body must be {"server": {...}}.')
    spec = body["server"]
    allowed = {"name", "accessIPv4", "accessIPv6", "description", "OS-DCF:diskConfig"}
    if unknown := set(spec) - allowed:
        raise Invalid(f"Additional properties are not allowed: {', '.join(sorted(unknown))}.")
    fields = []
    if "name" in spec:
        server.name = validate_name(spec["name"])
        fields.append("name")
    if "accessIPv4" in spec:
        server.access_ipv4 = canonical_ip(spec["accessIPv4"], 4, what="accessIPv4")
        fields.append("access_ipv4")
    if "accessIPv6" in spec:
        server.access_ipv6 = canonical_ip(spec["accessIPv6"], 6, what="accessIPv6")
        fields.append("access_ipv6")
    if "description" in spec:
        server.description = validate_description(spec["description"])
        fields.append("description")
    if fields:
        server.save(update_fields=[*fields, "updated_at"])
    return server


def delete(ctx: AuthContext, raw_id: str, *, request_id: str) -> None:
    """Delete a server: destroy its Ganeti instance (or just the row, when none was ever submitted)."""
    from logic import server_quotas

    with transaction.atomic():
        server = get_server(ctx, raw_id, for_update=True)
        _check_unlocked(ctx, server)
        if server.task == ServerTask.DESTROY:
            return  # already being deleted: deleting again is a no-op
        never_submitted = server.operstate == OperState.ERROR and server.task_job_id is None and server.backend_job_id is None
        if never_submitted or server.backend_id is None:
            now = timezone.now()
            Server.objects.filter(pk=server.pk).update(deleted=True, terminated_at=now, task=None, updated_at=now)
            _log_action(ctx, server, "delete", request_id, finished=True)
            return
        Server.objects.filter(pk=server.pk).update(
            task=ServerTask.DESTROY, task_request_id=request_id, task_job_id=None, updated_at=timezone.now()
        )
        server.commission = server_quotas.charge_delete(server, request_id=request_id)
        _log_action(ctx, server, "delete", request_id)
    server.task = ServerTask.DESTROY
    _submit(server, ServerTask.DESTROY, request_id, lambda: _jobs().destroy_server(server))


# ----------------------------------------------------------------------------- actions
# Nova's action names (os-instance-actions) for the tasks the API starts.
_IDLE_STATES = {
    "reboot_soft": {OperState.STARTED},
    "reboot_hard": {OperState.STARTED, OperState.STOPPED, OperState.ERROR},
    "start": {OperState.STOPPED},
    "stop": {OperState.STARTED},
    "resize": {OperState.STARTED, OperState.STOPPED},
    "rebuild": {OperState.STARTED, OperState.STOPPED, OperState.ERROR},
}


def _check_unlocked(ctx: AuthContext, server: Server) -> None:
    if server.locked and not ctx.is_admin:
        raise Conflict(f"Instance {server.pk} is locked" + (f": {server.locked_reason}" if server.locked_reason else "."))


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
        _check_unlocked(ctx, server)
        _check_state(server, rule, action, allow_tasks=allow_tasks)
        extra = prepare(server) if prepare else {}
        Server.objects.filter(pk=server.pk).update(
            task=task, task_request_id=request_id, task_job_id=None, updated_at=timezone.now(), **extra
        )
        for key, value in extra.items():
            setattr(server, key, value)
        server.task = task
        server.commission = charge(server) if charge else None
        _log_action(ctx, server, action, request_id)
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
    _submit(server, task, request_id, lambda: _jobs().reboot_server(server, hard=hard))


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
    _submit(server, ServerTask.START, request_id, lambda: _jobs().start_server(server))


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
    _submit(server, ServerTask.STOP, request_id, lambda: _jobs().stop_server(server))


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
    _submit(server, ServerTask.RESIZE, request_id, lambda: _jobs().resize_server(server, flavor, restart=restart))


def confirm_resize(ctx: AuthContext, raw_id: str, *, request_id: str) -> None:
    """Accept a finished resize (no Ganeti job: the instance already has the new size)."""
    with transaction.atomic():
        server = get_server(ctx, raw_id, for_update=True)
        _check_unlocked(ctx, server)
        if not server.awaiting_resize_confirm or server.task:
            raise Conflict(f"Cannot 'confirmResize' instance {server.pk}: it is not in VERIFY_RESIZE.")
        Server.objects.filter(pk=server.pk).update(awaiting_resize_confirm=False, old_flavor=None, updated_at=timezone.now())
        _log_action(ctx, server, "confirmResize", request_id, finished=True)


def revert_resize(ctx: AuthContext, raw_id: str, *, request_id: str) -> None:
    """Undo a finished resize: modify the instance back to the old flavor and restart it."""
    from logic import server_quotas

    with transaction.atomic():
        server = get_server(ctx, raw_id, for_update=True)
        _check_unlocked(ctx, server)
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
        _log_action(ctx, server, "revertResize", request_id)
    restart = server.operstate == OperState.STARTED
    _submit(server, ServerTask.REVERT_RESIZE, request_id, lambda: _jobs().resize_server(server, old, restart=restart))


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

    def prepare(server: Server) -> dict:
        if not server.flavor.has_disk:
            # Ganeti refuses to reinstall an instance without disks, after the job has already shut it down.
            raise Conflict(
                f"Cannot 'rebuild' instance {server.pk}: its flavor {server.flavor.name} is diskless, so there is no disk to reinstall."
            )
        if image.min_ram and server.flavor.ram < image.min_ram:
            raise Invalid("Flavor's memory is too small for the requested image.")
        changes: dict = {"image_id": image.pk}
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
    _submit(server, ServerTask.REBUILD, request_id, lambda: _jobs().rebuild_server(server, image))
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
        _log_action(ctx, server, "lock" if locked else "unlock", request_id, finished=True)


def console(ctx: AuthContext, raw_id: str, kind: object) -> dict:
    """Synnefo's console action: where and how to connect to the VNC console."""
    if kind not in ("vnc", "vnc-ws", "vnc-wss"):
        raise Invalid("Console type must be one of vnc, vnc-ws, vnc-wss.")
    server = get_server(ctx, raw_id)
    if server.operstate != OperState.STARTED:
        raise Conflict(f"Cannot get the console of instance {server.pk}: it is not running.")
    info = _jobs().console_info(server)
    return {"type": kind, **info}


# ----------------------------------------------------------------------------- metadata
def set_metadata(ctx: AuthContext, server: Server, metadata: object, *, replace: bool) -> dict[str, str]:
    """Replace (PUT) or merge (POST) a server's metadata; returns the result."""
    _check_unlocked(ctx, server)
    with transaction.atomic():
        current = dict(ServerMetadata.objects.filter(server=server).values_list("key", "value"))
        if replace:
            validate_metadata(metadata)
            result = dict(metadata)
        else:
            new_keys = [k for k in metadata if k not in current] if isinstance(metadata, dict) else []
            validate_metadata(
                metadata, existing=len(current) - (len(metadata) - len(new_keys)) if isinstance(metadata, dict) else 0
            )
            result = {**current, **metadata}
        ServerMetadata.objects.filter(server=server).exclude(key__in=list(result)).delete()
        for key, value in result.items():
            if current.get(key) != value:
                ServerMetadata.objects.update_or_create(server=server, key=key, defaults={"value": value})
        Server.objects.filter(pk=server.pk).update(updated_at=timezone.now())
    return result


def set_metadata_item(ctx: AuthContext, server: Server, key: str, body: object) -> dict[str, str]:
    if not isinstance(body, dict) or not isinstance(body.get("meta"), dict):
        raise Invalid('The request body must be {"meta": {key: value}}.')
    meta = body["meta"]
    if len(meta) != 1:
        raise Invalid("Request body must contain exactly one metadata item.")
    if key not in meta:
        raise Invalid("Request body and URI mismatch.")
    _check_unlocked(ctx, server)
    exists = ServerMetadata.objects.filter(server=server, key=key).exists()
    validate_metadata(meta, existing=ServerMetadata.objects.filter(server=server).count() - (1 if exists else 0))
    ServerMetadata.objects.update_or_create(server=server, key=key, defaults={"value": meta[key]})
    Server.objects.filter(pk=server.pk).update(updated_at=timezone.now())
    return dict(meta)


def delete_metadata_item(ctx: AuthContext, server: Server, key: str) -> None:
    _check_unlocked(ctx, server)
    deleted, _ = ServerMetadata.objects.filter(server=server, key=key).delete()
    if not deleted:
        raise Missing(f"Metadata item was not found: {key}.")
    Server.objects.filter(pk=server.pk).update(updated_at=timezone.now())


# ----------------------------------------------------------------------------- listing
STATUS_NAMES = set(server_status.STATUSES) | {"STOPPED"}
_JOB_IN_PROGRESS = [JobStatus.QUEUED, JobStatus.WAITING, JobStatus.RUNNING, JobStatus.CANCELING]
_TRANSITION_TASKS = [
    ServerTask.REBOOT_SOFT,
    ServerTask.REBOOT_HARD,
    ServerTask.RESIZE,
    ServerTask.REVERT_RESIZE,
    ServerTask.REBUILD,
]


def status_q(status: str) -> Q | None:
    """A filter matching exactly the servers :func:`server_status.server_status` calls ``status``.

    None for an unknown status (the list is then empty, as Nova does below 2.38).
    """
    status = status.upper()
    not_deleted = Q(deleted=False) & ~Q(operstate=OperState.DESTROYED)
    idle = ~Q(task__in=_TRANSITION_TASKS) | Q(task__isnull=True)
    live = Q(operstate__in=[OperState.STARTED, OperState.STOPPED])
    # a reboot Ganeti runs that the API did not ask for (an operator's, the watcher's)
    operator_reboot = Q(task__isnull=True, backend_opcode=OpCode.INSTANCE_REBOOT, backend_jobstatus__in=_JOB_IN_PROGRESS)
    soft_reboot = Q(backend_reboot_type="soft")
    steady = not_deleted & idle & ~operator_reboot & Q(awaiting_resize_confirm=False)
    by_task = {
        "REBOOT": Q(task=ServerTask.REBOOT_SOFT) | (operator_reboot & soft_reboot),
        "HARD_REBOOT": Q(task=ServerTask.REBOOT_HARD) | (operator_reboot & ~soft_reboot),
        "RESIZE": Q(task__in=[ServerTask.RESIZE, ServerTask.REVERT_RESIZE]),
        "REBUILD": Q(task=ServerTask.REBUILD),
    }
    if status == "ACTIVE":
        return steady & Q(operstate=OperState.STARTED)
    if status in ("SHUTOFF", "STOPPED"):
        return steady & Q(operstate=OperState.STOPPED)
    if status == "BUILD":
        return not_deleted & Q(operstate=OperState.BUILD)
    if status == "ERROR":
        return not_deleted & Q(operstate=OperState.ERROR)
    if status == "DELETED":
        return Q(deleted=True) | Q(operstate=OperState.DESTROYED)
    if status == "VERIFY_RESIZE":
        return not_deleted & live & idle & ~operator_reboot & Q(awaiting_resize_confirm=True)
    if status in by_task:
        return not_deleted & live & by_task[status]
    return None


def parse_changes_since(value: str) -> datetime:
    parsed = None
    try:
        parsed = parse_datetime(value.replace(" ", "+"))
    except ValueError:
        parsed = None
    if parsed is None:
        raise Invalid(f"Invalid changes-since value {value!r}: expected an ISO 8601 date and time.")
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed


def filter_servers(qs: QuerySet[Server], params, *, include_deleted_recent: bool = False) -> QuerySet[Server] | None:
    """Apply the list filters in ``params`` (a QueryDict); None when nothing can match."""
    since = params.get("changes-since") or params.get("changes_since")
    if since:
        qs = qs.filter(updated_at__gte=parse_changes_since(since))
    elif include_deleted_recent:
        qs = qs.filter(Q(deleted=False) | Q(terminated_at__gte=timezone.now() - DELETED_VISIBLE_FOR))
    else:
        qs = qs.filter(deleted=False)
    if name := params.get("name"):
        try:
            re.compile(name)
        except re.error:
            raise Invalid(f"Invalid name filter {name!r}: not a valid regular expression.") from None
        qs = qs.filter(name__regex=name)
    statuses = params.getlist("status") if hasattr(params, "getlist") else [params["status"]] if "status" in params else []
    if statuses:
        combined = Q()
        matched = False
        for status in statuses:
            q = status_q(status)
            if q is not None:
                combined |= q
                matched = True
        if not matched:
            return None
        qs = qs.filter(combined)
    if image := params.get("image"):
        image_id = _ref_id(image)
        try:
            qs = qs.filter(image_id=uuid.UUID(image_id))
        except ValueError:
            return None
    if flavor := params.get("flavor"):
        flavor_id = _ref_id(flavor)
        if not flavor_id.isdigit():
            return None
        qs = qs.filter(flavor_id=int(flavor_id))
    for param, column in (("ip", "ipv4"), ("ip6", "ipv6")):
        if pattern := params.get(param):
            try:
                re.compile(pattern)
            except re.error:
                raise Invalid(f"Invalid {param} filter {pattern!r}: not a valid regular expression.") from None
            qs = qs.filter(pk__in=ServerNIC.objects.filter(**{f"{column}__regex": pattern}).values("server_id"))
    if (locked := params.get("locked")) is not None and locked.lower() in ("true", "false", "1", "0"):
        qs = qs.filter(locked=locked.lower() in ("true", "1"))
    return qs


def parse_limit(params, max_limit: int) -> int:
    raw = params.get("limit")
    if raw is None:
        return max_limit
    try:
        limit = int(raw)
    except ValueError:
        raise Invalid(f"Invalid limit {raw!r}: it must be a non-negative integer.") from None
    if limit < 0:
        raise Invalid(f"Invalid limit {raw!r}: it must be a non-negative integer.")
    return min(limit, max_limit)


def paginate(
    qs: QuerySet[Server], params, max_limit: int, *, with_tags: bool = False
) -> tuple[list[server_rows.ServerRow], bool]:
    """Newest first (Nova's order), ``limit``/``marker``; returns (page as rows, whether more exist)."""
    limit = parse_limit(params, max_limit)
    qs = qs.order_by("-created_at", "-id")
    if marker := params.get("marker"):
        anchor = (
            Server.objects.filter(pk=int(marker) if marker.isdigit() and len(marker) < 18 else -1)
            .values("created_at", "id")
            .first()
        )
        if anchor is None:
            raise Invalid(f"marker [{marker}] not found")
        qs = qs.filter(Q(created_at__lt=anchor["created_at"]) | Q(created_at=anchor["created_at"], id__lt=anchor["id"]))
    if limit == 0:
        return [], False
    page = server_rows.load(qs, limit=limit + 1, with_tags=with_tags)
    return page[:limit], len(page) > limit
