"""Fixtures of the quota tests: a project with a member, and flavors."""

from __future__ import annotations

import itertools
import threading

import pytest

from logic import quotas
from logic.enums import ServerTask
from logic.models import Backend
from tests.factories import FlavorFactory, MembershipFactory, ServerFactory
from tests.quotas.flow import CLUSTER


@pytest.fixture(autouse=True)
def _fresh_holding_cache():
    """Tables are emptied between tests; the cache of existing holding rows must be too."""
    quotas.forget_known_holdings()
    yield
    quotas.forget_known_holdings()


@pytest.fixture
def member():
    """A membership: ``member.user`` in ``member.project``."""
    return MembershipFactory()


@pytest.fixture
def small_flavor():
    return FlavorFactory(vcpus=1, ram=512, disk=5)


@pytest.fixture
def big_flavor():
    return FlavorFactory(vcpus=4, ram=2048, disk=20)


@pytest.fixture
def backend(db):
    return Backend.objects.create(name=CLUSTER, rapi_host="192.0.2.1", rapi_user="u", rapi_password_encrypted="x")


@pytest.fixture
def server(member, backend, small_flavor):
    return ServerFactory(user=member.user, project=member.project, backend=backend, flavor=small_flavor, task=ServerTask.BUILD)


@pytest.fixture
def api_server(transactional_db):
    """The API on a threaded WSGI server in this process, like ``live_server`` but with a listen
    backlog deep enough for many clients connecting at the same instant (Django's is 10)."""
    import threading

    from django.core.handlers.wsgi import WSGIHandler
    from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler

    class Quiet(WSGIRequestHandler):
        def log_message(self, *args):  # the test asserts on responses; no access log on stderr
            pass

    class Server(ThreadedWSGIServer):
        request_queue_size = 512

    httpd = Server(("127.0.0.1", 0), Quiet, allow_reuse_address=False)
    httpd.set_app(WSGIHandler())
    thread = threading.Thread(target=httpd.serve_forever, name="quota-api-server", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()
    thread.join(timeout=10)


@pytest.fixture
def fake_jobs(monkeypatch):
    """Job submission that only hands out job ids (thread-safe)."""
    from logic import ganeti_jobs

    ids = itertools.count(5000)
    submitted: list[str] = []
    lock = threading.Lock()

    def submit(name):
        def job(*args, **kwargs):
            with lock:
                submitted.append(name)
                return next(ids)

        return job

    for name in ("create_server", "start_server", "stop_server", "resize_server", "destroy_server", "reboot_server"):
        monkeypatch.setattr(ganeti_jobs, name, submit(name))
    return submitted
