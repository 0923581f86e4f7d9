"""Finding the servers a caller may see, and the checks every change makes first."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils import timezone

from logic import server_rows
from logic.identity import AuthContext
from logic.models import Server, ServerMetadata
from logic.servers.errors import Conflict, Missing
from logic.servers.validation import DELETED_VISIBLE_FOR, parse_server_id


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
    if server is None or (server.deleted and not any_deleted and not (include_deleted and recently_deleted(server))):
        raise Missing(f"Instance {raw_id} could not be found.")
    return server


def get_server_row(
    ctx: AuthContext, raw_id: str, *, include_deleted: bool = False, with_tags: bool = False
) -> server_rows.ServerRow:
    """:func:`get_server` as a row for rendering (with NICs, metadata and, when asked, tags)."""
    row = server_rows.load_one(visible_servers(ctx, include_deleted=True), parse_server_id(raw_id), with_tags=with_tags)
    if row is None or (row.deleted and not (include_deleted and recently_deleted(row))):
        raise Missing(f"Instance {raw_id} could not be found.")
    return row


def metadata_of(server: Server) -> dict[str, str]:
    """A server's metadata as a dict (one query)."""
    return dict(ServerMetadata.objects.filter(server_id=server.pk).order_by("id").values_list("key", "value"))


def recently_deleted(server: Server | server_rows.ServerRow) -> bool:
    ended = server.terminated_at or server.updated_at
    return ended is not None and timezone.now() - ended < DELETED_VISIBLE_FOR


def check_unlocked(ctx: AuthContext, server: Server) -> None:
    if server.locked and not ctx.is_admin:
        raise Conflict(f"Instance {server.pk} is locked" + (f": {server.locked_reason}" if server.locked_reason else "."))
