"""Failed-login throttling per user name and per client address.

Counters live in the database (:class:`logic.models.LoginThrottle`), so several
API processes or nodes share them. A key's window starts at its first failure;
when the failures in the window reach the limit, logins for that key are refused
until the window ends. A successful login clears the user's counter but not the
address's (one valid account must not reset an address that is guessing others).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from logic.models import LoginThrottle

# Long keys are cut; a name that long is refused by the user model anyway.
_MAX_KEY = 300


@dataclass(frozen=True)
class Limit:
    key: str
    max_failures: int


def window() -> timedelta:
    return timedelta(seconds=settings.CYCLADES["LOGIN_FAILURE_WINDOW"])


def user_key(ident: str) -> str:
    """``ident``: the user's id when it exists, else what the caller typed (``<domain>/<name>``)."""
    return f"user:{ident}"[:_MAX_KEY]


def address_key(address: str) -> str:
    return f"addr:{address}"[:_MAX_KEY]


def limits_for(ident: str, address: str | None) -> list[Limit]:
    """The counters a password login for user ``ident`` from ``address`` is checked against."""
    conf = settings.CYCLADES
    limits = [Limit(user_key(ident), conf["LOGIN_MAX_FAILURES_PER_USER"])]
    if address:
        limits.append(Limit(address_key(address), conf["LOGIN_MAX_FAILURES_PER_ADDRESS"]))
    return limits


def retry_after(limits: list[Limit], now: datetime | None = None) -> int | None:
    """Seconds until a login may be tried again, or None if none of ``limits`` is exhausted."""
    now = now or timezone.now()
    span = window()
    rows = {r.key: r for r in LoginThrottle.objects.filter(key__in=[lim.key for lim in limits])}
    wait = 0.0
    for lim in limits:
        row = rows.get(lim.key)
        if row is None or row.failures < lim.max_failures:
            continue
        remaining = (row.window_start + span - now).total_seconds()
        wait = max(wait, remaining)
    return math.ceil(wait) if wait > 0 else None


def record_failure(limits: list[Limit], now: datetime | None = None) -> None:
    """Count one failed login against every key in ``limits`` (row-locked, so concurrent-safe)."""
    now = now or timezone.now()
    span = window()
    with transaction.atomic():
        for lim in sorted(limits, key=lambda lim: lim.key):  # same lock order everywhere
            row, created = LoginThrottle.objects.select_for_update().get_or_create(
                key=lim.key, defaults={"failures": 1, "window_start": now}
            )
            if created:
                continue
            if row.window_start + span <= now:
                row.failures, row.window_start = 1, now
            else:
                row.failures += 1
            row.save(update_fields=["failures", "window_start"])
        LoginThrottle.objects.filter(window_start__lte=now - span).exclude(key__in=[lim.key for lim in limits]).delete()


def clear(key: str) -> None:
    LoginThrottle.objects.filter(key=key).delete()


def client_address(meta: dict) -> str | None:
    """The caller's address: the TCP peer, or from X-Forwarded-For behind TRUSTED_PROXY_COUNT proxies."""
    hops = settings.CYCLADES["TRUSTED_PROXY_COUNT"]
    if hops > 0:
        forwarded = [part.strip() for part in meta.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
        if len(forwarded) >= hops:
            return forwarded[-hops]
    return meta.get("REMOTE_ADDR") or None
