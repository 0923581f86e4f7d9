"""Create, update and delete of servers."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from logic.enums import OperState, ServerTask
from logic.identity import AuthContext
from logic.models import Server, ServerMetadata, ServerTag
from logic.neutron import server_ports
from logic.servers import boot_volume, nics, nova_options
from logic.servers import volumes as server_volumes
from logic.servers.create_request import CreateRequest
from logic.servers.errors import Invalid
from logic.servers.lookup import check_unlocked, get_server
from logic.servers.submit import backend_jobs, log_action, make_fault, submit_job
from logic.servers.validation import canonical_ip, reservation_id, validate_description, validate_name


def create(ctx: AuthContext, req: CreateRequest, *, request_id: str) -> list[Server]:
    """Create ``req.count`` servers: intent rows in one transaction, then one Ganeti job each.

    Quota is charged in the same transaction (over quota: 403, nothing written).
    When no backend can take a server, it is recorded in ERROR with a "No valid
    host" fault, as Nova does, rather than failing the whole request.
    """
    from logic import allocator, compute_nodes, server_groups, server_quotas
    from logic.personalisation import hash_password
    from logic.placement import Placement

    servers: list[Server] = []
    reservation = reservation_id()
    password_hash = hash_password(req.admin_pass)  # the clear text goes only into the API's answer
    if req.group is not None:
        compute_nodes.known_nodes()  # the group's rules are checked against the nodes' rows
    with transaction.atomic():
        group = server_groups.lock(req.group) if req.group is not None else None
        if group is not None:
            server_groups.check_room(group, req.count)
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
                "hostname": req.hostname,
                "pinned_availability_zone": req.pinned_availability_zone,
                "scheduler_hints": req.scheduler_hints,
            }
            try:
                with transaction.atomic():
                    backend, node = allocator.place(
                        flavor=req.flavor, project=ctx.project, placement=Placement(group), host=req.host
                    )
            except allocator.NoBackendAvailable as exc:
                server = Server.objects.create(**fields, operstate=OperState.ERROR, fault=make_fault(500, str(exc)))
                log_action(ctx, server, "create", request_id, finished=True, result="Error", message=str(exc))
                node = None
            else:
                server = Server.objects.create(**fields, backend=backend, operstate=OperState.BUILD, task=ServerTask.BUILD)
                server.pnode = node  # the Ganeti node placement chose (None: Ganeti chooses)
                server.commission = server_quotas.charge_create(server, request_id=request_id)
                if req.boot is not None:
                    boot_volume.attach_at_create(ctx, server, req.boot, request_id=request_id)
                nics.bind_ports(ctx, server, req.networks, req.security_groups)
                log_action(ctx, server, "create", request_id)
            if group is not None:
                server_groups.join(group, server, node)
            ServerMetadata.objects.bulk_create(ServerMetadata(server=server, key=k, value=v) for k, v in req.metadata.items())
            ServerTag.objects.bulk_create(ServerTag(server=server, tag=tag) for tag in req.tags)
            servers.append(server)
    for server in servers:
        if server.task == ServerTask.BUILD:
            server.admin_password_hash = password_hash  # for the personalisation grant; never stored on the row
            submit_job(
                server,
                ServerTask.BUILD,
                request_id,
                lambda s=server: backend_jobs().create_server(s, **nics.job_args(s, req.networks)),
            )
    return servers


def update(ctx: AuthContext, server: Server, body: object) -> Server:
    """Rename, set access IPs or the description (DB only, no Ganeti job)."""
    if not isinstance(body, dict) or not isinstance(body.get("server"), dict):
        raise Invalid('The request body must be {"server": {...}}.')
    spec = body["server"]
    allowed = {"name", "accessIPv4", "accessIPv6", "description", "OS-DCF:diskConfig", "hostname"}
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
    if "hostname" in spec:
        server.hostname = nova_options.validate_hostname(spec["hostname"], fqdn=True)
        fields.append("hostname")
    if fields:
        server.save(update_fields=[*fields, "updated_at"])
    return server


def delete(ctx: AuthContext, raw_id: str, *, request_id: str) -> None:
    """Delete a server: destroy its Ganeti instance (or just the row, when none was ever submitted)."""
    from logic import server_quotas

    with transaction.atomic():
        server = get_server(ctx, raw_id, for_update=True)
        check_unlocked(ctx, server)
        if server.task == ServerTask.DESTROY:
            return  # already being deleted: deleting again is a no-op
        never_submitted = server.operstate == OperState.ERROR and server.task_job_id is None and server.backend_job_id is None
        if never_submitted or server.backend_id is None:
            now = timezone.now()
            Server.objects.filter(pk=server.pk).update(deleted=True, terminated_at=now, task=None, updated_at=now)
            server_ports.release([server.pk])
            log_action(ctx, server, "delete", request_id, finished=True)
            return
        keep = server_volumes.prepare_delete(server)
        Server.objects.filter(pk=server.pk).update(
            task=ServerTask.DESTROY, task_request_id=request_id, task_job_id=None, updated_at=timezone.now()
        )
        server.commission = server_quotas.charge_delete(server, request_id=request_id)
        log_action(ctx, server, "delete", request_id)
    server.task = ServerTask.DESTROY
    submit = (lambda: server_volumes.destroy_keeping(server, keep)) if keep else (lambda: backend_jobs().destroy_server(server))
    submit_job(server, ServerTask.DESTROY, request_id, submit)
