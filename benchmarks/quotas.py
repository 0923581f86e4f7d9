"""Benchmark: server-create throughput with quotas on and off, in the same run (target: on >= 80% of off).

``POST /compute/v2.1/servers`` through the whole Django stack (token check,
validation, allocator, intent rows, quota charge under row locks, action log)
from several threads at once on PostgreSQL, all in ONE project (the worst case
for quotas: every create queues on the same holding rows). Ganeti job
submission is replaced by a stub that hands out job ids, so the figure is the
API's own cost, not Ganeti's. Rounds alternate off/on to cancel drift; the
best round of each mode is compared, and the median too.

Usage: ``.venv/bin/python benchmarks/quotas.py [--creates 300] [--threads 8] [--rounds 3]``
Needs PostgreSQL (``CYCLADES_BENCH_PG``, default postgresql://root@127.0.0.1:5432/postgres);
creates and drops its own database. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import itertools
import os
import statistics
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, HERE)

from benchmarks.servers_api import drop_database, make_database  # noqa: E402


def setup_django(db_url: str, data_dir: str) -> None:
    """Django on the benchmark database, tables made from the models as they are in this checkout."""
    os.environ.update(
        {
            "CYCLADES_SECRET_KEY": "bench-only-secret-key-0123456789abcdef0123456789",
            "CYCLADES_DATA_DIR": data_dir,
            "CYCLADES_DATABASE_URL": db_url,
            "CYCLADES_LOG_LEVEL": "WARNING",
            "CYCLADES_LOG_FORMAT": "text",
            "DJANGO_SETTINGS_MODULE": "cyclades.settings",
        }
    )
    import django

    django.setup()
    from django.apps import apps
    from django.db import connection

    with connection.schema_editor() as editor:
        for model in apps.get_models():
            editor.create_model(model)


def populate():
    """A member of a fresh project, a backend with room for everything, a flavor and an image."""
    from logic import identity
    from logic.enums import Role
    from logic.models import Backend, Domain, Flavor, Image, Membership, Project, User

    Domain.objects.get_or_create(id="default", defaults={"name": "Default"})  # what the migration adds
    user = User.objects.create_user(f"bench{uuid.uuid4().hex[:6]}", "secret")
    project = Project.objects.create(name=f"bench{uuid.uuid4().hex[:6]}")
    Membership.objects.create(user=user, project=project, role=Role.MEMBER)
    token, _ = identity.issue_token(user, project)
    Backend.objects.create(
        name="bench.example.org",
        rapi_host="127.0.0.1",
        rapi_user="u",
        rapi_password_encrypted="x",
        disk_templates=["diskless"],
        mem_total=1 << 40,
        mem_free=1 << 40,
        disk_total=1 << 50,
        disk_free=1 << 50,
        cpu_total=1 << 30,
        cpu_free=1 << 30,
    )
    flavor = Flavor.objects.create(name=f"b{uuid.uuid4().hex[:6]}", vcpus=1, ram=128, disk=1)
    image = Image.objects.create(name="bench", ganeti_os="noop")
    return token, project, flavor, image


def stub_job_submission() -> None:
    from logic import ganeti_jobs

    ids = itertools.count(1)
    lock = threading.Lock()

    def submit(*args, **kwargs):
        with lock:
            return next(ids)

    ganeti_jobs.create_server = submit


def run_round(token: str, flavor, image, creates: int, threads: int) -> float:
    """Creates per second for ``creates`` POSTs from ``threads`` threads."""
    from django.db import connection
    from django.test import Client

    body = {"server": {"name": "vm", "flavorRef": str(flavor.pk), "imageRef": str(image.pk)}}
    headers = {"HTTP_X_AUTH_TOKEN": token, "HTTP_X_OPENSTACK_NOVA_API_VERSION": "2.1"}
    local = threading.local()
    failures: list[int] = []

    def create(_: int) -> None:
        client = getattr(local, "client", None) or Client()
        local.client = client
        resp = client.post("/compute/v2.1/servers", body, content_type="application/json", **headers)
        if resp.status_code != 202:
            failures.append(resp.status_code)

    def close(_: int) -> None:
        connection.close()

    started = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(create, range(creates)))
        list(pool.map(close, range(threads)))
    elapsed = time.perf_counter() - started
    if failures:
        raise SystemExit(f"{len(failures)} creates failed: statuses {sorted(set(failures))}")
    return creates / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--creates", type=int, default=300, help="creates per round")
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3, help="rounds per mode (alternating off/on)")
    args = parser.parse_args()

    name, url = make_database()
    try:
        setup_django(url, tempfile.mkdtemp(prefix="bench-quotas-"))
        from django.conf import settings

        from logic import quotas
        from logic.enums import QuotaResource
        from logic.models import Server

        token, project, flavor, image = populate()
        stub_job_submission()
        quotas.set_limits(project, dict.fromkeys(quotas.RESOURCES, quotas.UNLIMITED))
        run_round(token, flavor, image, max(20, args.threads * 2), args.threads)  # warm-up (connections, caches)

        figures: dict[bool, list[float]] = {False: [], True: []}
        for _ in range(args.rounds):
            for enabled in (False, True):
                settings.CYCLADES["QUOTA_ENABLED"] = enabled
                figures[enabled].append(run_round(token, flavor, image, args.creates, args.threads))

        off, on = figures[False], figures[True]
        print(
            f"server creates, {args.creates} per round, {args.threads} threads, one project, PostgreSQL, {args.rounds} rounds each"
        )
        print(
            f"  quotas off (baseline): best {max(off):7.1f}/s  median {statistics.median(off):7.1f}/s  rounds {[round(x, 1) for x in off]}"
        )
        print(
            f"  quotas on:             best {max(on):7.1f}/s  median {statistics.median(on):7.1f}/s  rounds {[round(x, 1) for x in on]}"
        )
        ratio_best, ratio_median = max(on) / max(off), statistics.median(on) / statistics.median(off)
        verdict = "OK" if ratio_median >= 0.8 else "BELOW TARGET"
        print(f"  on/off: best {ratio_best:.0%}  median {ratio_median:.0%}  (target >= 80%: {verdict})")
        charged = quotas.usage(project)[QuotaResource.SERVERS].in_use
        counted = args.rounds * args.creates
        print(f"  check: servers created with quotas on {counted}, charged {charged}; rows {Server.objects.count()}")
    finally:
        from django.db import connections

        connections.close_all()
        drop_database(name)


if __name__ == "__main__":
    main()
