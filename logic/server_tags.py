"""Server tags (Nova's microversion 2.26): validation, changes and the list filters.

A tag is 1 to 60 characters without ``/`` or ``,`` (the list filters split on
commas); a server holds at most :data:`MAX_TAGS`. Tags change only while the
server is running or stopped (Nova: active, paused, suspended, stopped), 409 otherwise.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import Count, Q, QuerySet

from logic.enums import OperState
from logic.identity import AuthContext
from logic.models import Server, ServerTag
from logic.servers import Conflict, Invalid, Missing, get_server

MAX_TAGS = 50
MAX_LENGTH = 60


def validate_tag(tag: object) -> str:
    if not isinstance(tag, str) or not 1 <= len(tag) <= MAX_LENGTH or "/" in tag or "," in tag:
        raise Invalid(f"Invalid tag {tag!r}: 1 to {MAX_LENGTH} characters, without '/' or ','.")
    return tag


def validate_tags(tags: object) -> list[str]:
    """A whole tag list (PUT /tags): unique tags in order, at most :data:`MAX_TAGS`."""
    if not isinstance(tags, list):
        raise Invalid('The request body must be {"tags": [...]}.')
    result = list(dict.fromkeys(validate_tag(t) for t in tags))
    if len(result) > MAX_TAGS:
        raise Invalid(f"A server has at most {MAX_TAGS} tags.")
    return result


def tags_of(server: Server) -> list[str]:
    return list(ServerTag.objects.filter(server=server).order_by("tag").values_list("tag", flat=True))


def _changeable(ctx: AuthContext, raw_id: str) -> Server:
    server = get_server(ctx, raw_id, for_update=True)
    if server.awaiting_resize_confirm or server.operstate not in (OperState.STARTED, OperState.STOPPED):
        raise Conflict(f"Cannot change the tags of instance {server.pk} while it is in state {server.operstate}.")
    return server


def replace_all(ctx: AuthContext, raw_id: str, body: object) -> list[str]:
    if not isinstance(body, dict) or set(body) != {"tags"}:
        raise Invalid('The request body must be {"tags": [...]}.')
    tags = validate_tags(body["tags"])
    with transaction.atomic():
        server = _changeable(ctx, raw_id)
        ServerTag.objects.filter(server=server).delete()
        ServerTag.objects.bulk_create(ServerTag(server=server, tag=t) for t in tags)
        return tags_of(server)


def delete_all(ctx: AuthContext, raw_id: str) -> None:
    with transaction.atomic():
        ServerTag.objects.filter(server=_changeable(ctx, raw_id)).delete()


def add(ctx: AuthContext, raw_id: str, tag: str) -> bool:
    """Add one tag; True when it is new (201), False when the server had it (204)."""
    validate_tag(tag)
    with transaction.atomic():
        server = _changeable(ctx, raw_id)
        existing = set(tags_of(server))
        if tag in existing:
            return False
        if len(existing) >= MAX_TAGS:
            raise Invalid(f"Instance {server.pk} already has the maximum of {MAX_TAGS} tags.")
        ServerTag.objects.create(server=server, tag=tag)
        return True


def remove(ctx: AuthContext, raw_id: str, tag: str) -> None:
    with transaction.atomic():
        deleted, _ = ServerTag.objects.filter(server=_changeable(ctx, raw_id), tag=tag).delete()
    if not deleted:
        raise Missing(f"Tag {tag} could not be found on instance {raw_id}.")


def has(ctx: AuthContext, raw_id: str, tag: str) -> bool:
    return ServerTag.objects.filter(server=get_server(ctx, raw_id), tag=tag).exists()


def _split(value: str) -> list[str]:
    return [t for t in (part.strip() for part in value.split(",")) if t]


def filter_by_tags(qs: QuerySet[Server], params) -> QuerySet[Server]:
    """``tags`` (all of), ``tags-any``, ``not-tags`` (not all of), ``not-tags-any`` (none of): comma lists."""
    if value := params.get("tags"):
        for tag in _split(value):
            qs = qs.filter(pk__in=ServerTag.objects.filter(tag=tag).values("server_id"))
    if value := params.get("tags-any"):
        qs = qs.filter(pk__in=ServerTag.objects.filter(tag__in=_split(value)).values("server_id"))
    if value := params.get("not-tags"):
        wanted = set(_split(value))
        having_all = (
            ServerTag.objects.filter(tag__in=wanted)
            .values("server_id")
            .annotate(n=Count("tag", distinct=True))
            .filter(n=len(wanted))
            .values("server_id")
        )
        qs = qs.exclude(pk__in=having_all) if wanted else qs
    if value := params.get("not-tags-any"):
        qs = qs.exclude(Q(pk__in=ServerTag.objects.filter(tag__in=_split(value)).values("server_id")))
    return qs
