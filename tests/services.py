"""Finding the real services the tests use, and skipping or failing when one is missing.

Locally a test whose service is missing is skipped with the reason. With
``CYCLADES_REQUIRE_SERVICES=1`` (CI) it fails instead: CI must run everything.
"""

from __future__ import annotations

import functools
import os
import shutil
import ssl
import subprocess
import urllib.request
from base64 import b64encode

import pytest

PG_URL = os.environ.get("CYCLADES_TEST_PG_URL", "postgresql://root@127.0.0.1:5432/test")
AMQP_HOST = os.environ.get("CYCLADES_TEST_AMQP_HOST", "127.0.0.1:5672")
AMQP_CREDENTIALS = os.environ.get("CYCLADES_TEST_AMQP_CREDENTIALS", "guest:guest")
# The root namespace's side of the Ganeti sandbox's veth: how code running on the node reaches us.
GANETI_HOST_SIDE_IP = os.environ.get("CYCLADES_TEST_GANETI_HOST_IP", "198.51.100.1")
GANETI_ENV_FILE = os.environ.get("CYCLADES_TEST_GANETI_ENV", "/run/ganeti-sandbox/rapi.env")


def services_required() -> bool:
    return os.environ.get("CYCLADES_REQUIRE_SERVICES", "") in {"1", "true", "yes"}


def missing(service: str, reason: str):
    """Skip (locally) or fail (CI) a test because ``service`` is not available."""
    message = f"{service} not available: {reason}"
    if services_required():
        pytest.fail(message + " (CYCLADES_REQUIRE_SERVICES=1)", pytrace=False)
    pytest.skip(message)


@functools.cache
def postgres_problem() -> str | None:
    """None if PostgreSQL answers at PG_URL, else why not."""
    try:
        import psycopg2

        psycopg2.connect(PG_URL, connect_timeout=3).close()
        return None
    except Exception as exc:
        return f"{PG_URL}: {str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__}"


def amqp_url(vhost: str = "") -> str:
    return f"amqp://{AMQP_CREDENTIALS}@{AMQP_HOST}/{vhost}"


@functools.cache
def rabbitmq_problem() -> str | None:
    import pika

    try:
        pika.BlockingConnection(pika.URLParameters(amqp_url("%2F") + "?socket_timeout=3&connection_attempts=1")).close()
    except Exception as exc:
        return f"{AMQP_HOST}: {exc or type(exc).__name__}"
    if not shutil.which("rabbitmqctl"):
        return "rabbitmqctl not found (needed to create a test vhost)"
    return None


def rabbitmqctl(*args: str) -> None:
    subprocess.run(["rabbitmqctl", "-q", *args], check=True, capture_output=True, timeout=60)


def ganeti_env() -> dict[str, str]:
    env: dict[str, str] = {}
    with open(GANETI_ENV_FILE) as f:
        for line in f:
            if "=" in line and not line.startswith("#"):
                key, _, value = line.strip().partition("=")
                env[key] = value
    return env


@functools.cache
def ganeti_problem() -> str | None:
    """None if the Ganeti sandbox's RAPI answers /2/info, else why not."""
    try:
        env = ganeti_env()
    except OSError as exc:
        return f"{GANETI_ENV_FILE}: {exc.strerror} (run: sudo conf/ganeti-sandbox/setup.sh)"
    ctx = ssl.create_default_context(cafile=env["GANETI_RAPI_CERT"])
    ctx.check_hostname = False
    url = f"https://{env['GANETI_RAPI_HOST']}:{env['GANETI_RAPI_PORT']}/2/info"
    auth = b64encode(f"{env['GANETI_RAPI_USER']}:{env['GANETI_RAPI_PASSWORD']}".encode()).decode()
    try:
        urllib.request.urlopen(urllib.request.Request(url, headers={"Authorization": f"Basic {auth}"}), timeout=5, context=ctx)
    except Exception as exc:
        return f"{url}: {exc}"
    return None


CEPH_CONF = os.environ.get("CYCLADES_TEST_CEPH_CONF", "/var/lib/ceph-sandbox/ceph.conf")
CEPH_USER = os.environ.get("CYCLADES_TEST_CEPH_USER", "sandbox")
CEPH_POOL = os.environ.get("CYCLADES_TEST_CEPH_POOL", "rbd")


@functools.cache
def ceph_problem() -> str | None:
    """None if the Ceph sandbox answers through the rados/rbd bindings, else why not."""
    try:
        import rados
    except ImportError:
        return "the rados/rbd bindings are not importable (run: conf/ceph-sandbox/venv-add-ceph-bindings.sh .venv)"
    if not os.path.exists(CEPH_CONF):
        return f"{CEPH_CONF} missing (run: sudo conf/ceph-sandbox/setup.sh)"
    cluster = rados.Rados(conffile=CEPH_CONF, name=f"client.{CEPH_USER}")
    try:
        cluster.connect(timeout=10)
        cluster.open_ioctx(CEPH_POOL).close()
    except Exception as exc:
        return f"Ceph sandbox ({CEPH_CONF}, client.{CEPH_USER}, pool {CEPH_POOL}): {exc}"
    finally:
        cluster.shutdown()
    return None
