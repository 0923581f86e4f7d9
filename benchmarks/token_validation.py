"""What token validation costs every API request, next to a request that does no authentication.

Two DRF views that differ only in authentication run through Django's test
client in the same process, against PostgreSQL (a throw-away database created for
the run): one with no authentication, one with ``api.auth.TokenAuthentication``
and ``ProjectReader`` (exactly what compute/image/network views use). The
difference is the per-request price of ``X-Auth-Token``. The token table is
filled with other tokens first so the lookup is not on an empty table.

    .venv/bin/python benchmarks/token_validation.py [--requests 3000] [--tokens 20000]

Prints the time per request of both (median and 10th percentile: the machine may
be shared), the ratio, the added microseconds, the queries per authenticated
request, the API process's CPU time per request (insensitive to other load; the
database's own work is not in it), the cost of ``logic.identity.authenticate``
alone and, for scale, of one database round trip. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import types
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("CYCLADES_SECRET_KEY", "benchmark-only-secret-key-0123456789abcdef")
os.environ.setdefault("CYCLADES_DATA_DIR", "/tmp/cyclades-benchmark")
os.environ.setdefault("CYCLADES_DATABASE_URL", "postgresql://root@127.0.0.1:5432/test")
os.environ.setdefault("CYCLADES_LOG_LEVEL", "WARNING")
os.environ.setdefault("CYCLADES_LOG_FORMAT", "text")
os.environ["DJANGO_SETTINGS_MODULE"] = "cyclades.settings"


def build_urlconf() -> str:
    """A URL module with the two views (identical but for authentication)."""
    from django.urls import path
    from rest_framework.response import Response
    from rest_framework.views import APIView

    from api.auth import ProjectReader, TokenAuthentication

    class NoAuth(APIView):
        authentication_classes: list = []
        permission_classes: list = []

        def get(self, request):
            return Response({"ok": True})

    class WithToken(APIView):
        authentication_classes = [TokenAuthentication]
        permission_classes = [ProjectReader]

        def get(self, request):
            return Response({"ok": True})

    module = types.ModuleType("benchmark_urls")
    module.urlpatterns = [path("none", NoAuth.as_view()), path("token", WithToken.as_view())]
    sys.modules[module.__name__] = module
    return module.__name__


def seed(other_tokens: int) -> str:
    """One member with a scoped token, plus ``other_tokens`` tokens of other users."""
    from django.utils import timezone

    from logic import identity
    from logic.enums import Role
    from logic.models import Membership, Project, Token, User

    project = Project.objects.create(name="bench")
    user = User.objects.create_user(name="bench", password=None)
    Membership.objects.create(user=user, project=project, role=Role.MEMBER)
    filler_users = User.objects.bulk_create([User(name=f"filler{i}") for i in range(100)])
    now = timezone.now()
    Token.objects.bulk_create(
        [
            Token(
                digest=identity.digest(f"filler-{i}"),
                user=filler_users[i % 100],
                project=project,
                methods=["password"],
                audit_id=f"{i:022d}",
                issued_at=now,
                expires_at=now + identity.token_lifetime(),
            )
            for i in range(other_tokens)
        ],
        batch_size=5000,
    )
    token, _ = identity.issue_token(user, project)
    return token


def time_requests(client, path: str, headers: dict, count: int) -> list[float]:
    samples = []
    for _ in range(count):
        start = time.perf_counter()
        response = client.get(path, headers=headers)
        samples.append(time.perf_counter() - start)
        if response.status_code != 200:
            raise SystemExit(f"{path}: HTTP {response.status_code} {response.content[:200]!r}")
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000, help="requests per variant (default 3000)")
    parser.add_argument("--tokens", type=int, default=20000, help="other tokens in the table (default 20000)")
    args = parser.parse_args()

    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, setup_test_environment

    from logic import identity

    if connection.vendor != "postgresql":
        raise SystemExit(f"this benchmark is meant for PostgreSQL; CYCLADES_DATABASE_URL is {connection.vendor}")
    connection.settings_dict["TEST"].update(NAME=f"bench_cyclades_{os.getpid()}", MIGRATE=False)
    settings.ROOT_URLCONF = build_urlconf()
    setup_test_environment()
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    try:
        token = seed(args.tokens)
        client = Client()
        auth = {"X-Auth-Token": token}
        time_requests(client, "/none", {}, 200)  # warm up both paths and the connection
        time_requests(client, "/token", auth, 200)

        none_samples, token_samples = [], []
        none_cpu = token_cpu = 0.0
        block = 100
        for _ in range(max(1, args.requests // block)):  # interleaved, so load changes hit both alike
            cpu = time.process_time()
            none_samples += time_requests(client, "/none", {}, block)
            none_cpu += time.process_time() - cpu
            cpu = time.process_time()
            token_samples += time_requests(client, "/token", auth, block)
            token_cpu += time.process_time() - cpu
        none_cpu /= len(none_samples)
        token_cpu /= len(token_samples)
        with CaptureQueriesContext(connection) as queries:
            client.get("/token", headers=auth)

        validate_only, round_trip = [], []
        with connection.cursor() as cursor:
            for _ in range(args.requests):  # interleaved as well
                start = time.perf_counter()
                identity.authenticate(token)
                validate_only.append(time.perf_counter() - start)
                start = time.perf_counter()
                cursor.execute("SELECT 1")
                cursor.fetchone()
                round_trip.append(time.perf_counter() - start)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)

    def us(seconds: float) -> str:
        return f"{seconds * 1e6:8.1f} µs"

    def p10(samples: list[float]) -> float:
        return statistics.quantiles(samples, n=10)[0]

    none_med, token_med = statistics.median(none_samples), statistics.median(token_samples)
    none_p10, token_p10 = p10(none_samples), p10(token_samples)
    print(f"PostgreSQL, {len(none_samples)} requests per variant, {args.tokens} other tokens in the table")
    print(f"load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs")
    print(f"request without authentication    median {us(none_med)}   p10 {us(none_p10)}")
    print(f"request with X-Auth-Token          median {us(token_med)}   p10 {us(token_p10)}")
    print(f"ratio (with token / without)       median {token_med / none_med:8.2f}x    p10 {token_p10 / none_p10:8.2f}x")
    print(f"added per request by validation    median {us(token_med - none_med)}   p10 {us(token_p10 - none_p10)}")
    print(f"API process CPU per request        without {us(none_cpu)}   with {us(token_cpu)}   ratio {token_cpu / none_cpu:.2f}x")
    print(f"SQL queries per authenticated request: {len(queries.captured_queries)}")
    print(f"logic.identity.authenticate alone  median {us(statistics.median(validate_only))}   p10 {us(p10(validate_only))}")
    print(f"one database round trip (SELECT 1) median {us(statistics.median(round_trip))}   p10 {us(p10(round_trip))}")


if __name__ == "__main__":
    main()
