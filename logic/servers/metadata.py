"""Server metadata: replace, merge, set and delete items."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from logic.identity import AuthContext
from logic.models import Server, ServerMetadata
from logic.servers.errors import Invalid, Missing
from logic.servers.lookup import check_unlocked
from logic.servers.validation import validate_metadata


def set_metadata(ctx: AuthContext, server: Server, metadata: object, *, replace: bool) -> dict[str, str]:
    """Replace (PUT) or merge (POST) a server's metadata; returns the result."""
    check_unlocked(ctx, server)
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
    check_unlocked(ctx, server)
    exists = ServerMetadata.objects.filter(server=server, key=key).exists()
    validate_metadata(meta, existing=ServerMetadata.objects.filter(server=server).count() - (1 if exists else 0))
    ServerMetadata.objects.update_or_create(server=server, key=key, defaults={"value": meta[key]})
    Server.objects.filter(pk=server.pk).update(updated_at=timezone.now())
    return dict(meta)


def delete_metadata_item(ctx: AuthContext, server: Server, key: str) -> None:
    check_unlocked(ctx, server)
    deleted, _ = ServerMetadata.objects.filter(server=server, key=key).delete()
    if not deleted:
        raise Missing(f"Metadata item was not found: {key}.")
    Server.objects.filter(pk=server.pk).update(updated_at=timezone.now())
