"""Many transactions charging one project at the same time: the limit holds exactly.

Each thread has its own PostgreSQL connection and its own transaction, as
concurrent API requests do (the HTTP version is in test_http_concurrency.py).
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection, transaction

from logic import quotas
from logic.enums import CommissionState, QuotaResource
from logic.models import Commission

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True), pytest.mark.slow]

WORKERS = 40
ATTEMPTS = 200
LIMIT = 50


def test_200_concurrent_charges_against_a_limit_of_50(member):
    project_id, user_id = member.project_id, member.user_id
    quotas.set_limits(project_id, {QuotaResource.SERVERS: LIMIT, QuotaResource.TOTAL_CPU: -1})
    quotas.forget_known_holdings()  # every thread finds out for itself whether the rows exist
    start = threading.Barrier(WORKERS)

    def attempt(i: int) -> str:
        if i < WORKERS:
            start.wait(timeout=60)  # the first wave starts together
        try:
            with transaction.atomic():
                quotas.charge(project_id, user_id, {QuotaResource.SERVERS: 1, QuotaResource.TOTAL_CPU: 1}, reason=f"try {i}")
            return "accepted"
        except quotas.QuotaExceeded:
            return "refused"
        finally:
            connection.close()

    with ThreadPoolExecutor(WORKERS) as pool:
        results = list(pool.map(attempt, range(ATTEMPTS)))

    assert results.count("accepted") == LIMIT
    assert results.count("refused") == ATTEMPTS - LIMIT
    usage = quotas.usage(project_id)
    assert usage[QuotaResource.SERVERS].in_use == LIMIT
    assert usage[QuotaResource.TOTAL_CPU].in_use == LIMIT
    assert quotas.usage(project_id, user_id)[QuotaResource.SERVERS].in_use == LIMIT
    assert Commission.objects.filter(project_id=project_id, state=CommissionState.PENDING).count() == LIMIT


def test_concurrent_accepts_of_one_commission_count_once(member):
    """Two dispatchers applying the same job end at once (a redelivery racing the original)."""
    with transaction.atomic():
        commission = quotas.charge(member.project, member.user, {QuotaResource.SERVERS: 1}, reason="create")
    start = threading.Barrier(8)

    def settle(_: int) -> bool:
        start.wait(timeout=60)
        try:
            with transaction.atomic():
                return quotas.accept(commission)
        finally:
            connection.close()

    with ThreadPoolExecutor(8) as pool:
        outcomes = list(pool.map(settle, range(8)))
    assert outcomes.count(True) == 1
    u = quotas.usage(member.project)[QuotaResource.SERVERS]
    assert (u.committed, u.pending_up) == (1, 0)
