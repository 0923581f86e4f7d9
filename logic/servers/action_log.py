"""A server's action log as Nova lists it from microversion 2.58: newest first, paged, changes-since.

``updated_at`` is the last time an action's record changed: when its job ended
(``finish_time``), else when it was asked (``start_time``). ``marker`` is the
request id of the last action of the previous page (an unknown one is a 400, as in
Nova); ``limit`` is capped at the API's maximum page size.
"""

from __future__ import annotations

from datetime import datetime

from django.db.models import F, QuerySet
from django.db.models.functions import Coalesce

from logic.models import Server, ServerAction
from logic.servers.errors import Invalid
from logic.servers.listing import parse_changes_since, parse_limit


def updated_at(action: ServerAction) -> datetime:
    return action.finish_time or action.start_time


def _ordered(server: Server) -> QuerySet[ServerAction]:
    return server.actions.annotate(updated=Coalesce(F("finish_time"), F("start_time"))).order_by("-start_time", "-id")


def page(server: Server, params, max_limit: int) -> tuple[list[ServerAction], bool]:
    """One page of the log (``params``: limit, marker, changes-since) and whether more follow."""
    qs = _ordered(server)
    if since := params.get("changes-since"):
        qs = qs.filter(updated__gte=parse_changes_since(since))
    if before := params.get("changes-before"):  # 2.66
        if since and parse_changes_since(since) > parse_changes_since(before):
            raise Invalid("The value of changes-since must be less than or equal to changes-before.")
        qs = qs.filter(updated__lte=parse_changes_since(before))
    if marker := params.get("marker"):
        anchor = server.actions.filter(request_id=marker).order_by("-start_time", "-id").first()
        if anchor is None:
            raise Invalid(f"Marker {marker} could not be found.")
        qs = qs.filter(start_time__lte=anchor.start_time).exclude(start_time=anchor.start_time, id__gte=anchor.id)
    limit = parse_limit(params, max_limit)
    rows = list(qs[: limit + 1])
    return rows[:limit], len(rows) > limit
