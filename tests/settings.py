"""Django settings for the test suite: PostgreSQL when it answers, else SQLite.

Each test process gets its own test database name, so several runs can share one
PostgreSQL server.
"""

import os
import tempfile

from tests import services

os.environ.setdefault("CYCLADES_SECRET_KEY", "tests-only-secret-key-0123456789abcdef0123456789")
os.environ.setdefault("CYCLADES_DATA_DIR", tempfile.mkdtemp(prefix="cyclades-test-"))
os.environ.setdefault("CYCLADES_LOG_FORMAT", "text")
os.environ.setdefault("CYCLADES_LOG_LEVEL", "WARNING")
# Test databases of different runs all start server ids at 1, and the Ganeti sandbox is
# shared: a per-run prefix keeps their instance names (<prefix>-<id>) apart.
os.environ.setdefault("CYCLADES_GANETI_PREFIX", f"t{os.getpid()}")
os.environ.setdefault("CYCLADES_NETWORK_LINK", "br-gnt")  # the Ganeti sandbox's bridge
if "CYCLADES_DATABASE_URL" not in os.environ:
    if services.postgres_problem() is None:
        os.environ["CYCLADES_DATABASE_URL"] = services.PG_URL
    else:
        os.environ["CYCLADES_DATABASE_URL"] = "sqlite:///" + os.path.join(os.environ["CYCLADES_DATA_DIR"], "test.sqlite3")

from cyclades.settings import *  # noqa: F403
from cyclades.settings import DATABASES

DATABASES["default"]["TEST"] = {"NAME": f"test_cyclades_{os.getpid()}"}
DATABASES["default"]["CONN_MAX_AGE"] = 0
# Fast hashing: tests create many users. Production hashers are in cyclades.settings.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
