"""The whole core loop running, for end-to-end tests (registered in tests/conftest.py).

``core_loop`` (session-scoped) is :mod:`tests.tempest.stack` (compute-B's): its own
PostgreSQL database and RabbitMQ vhost, the API under gunicorn, ``cyclades-eventd`` on
the real Ganeti sandbox's job queue and ``cyclades-dispatcher``, provisioned with the
sandbox as the backend, accounts ``demo1``/``demo1-reader``/``alt1``, flavors 1-3, two
images and a ``private`` network per project backed by a Ganeti network with an IP pool.
One stack serves the whole session (starting one takes a while); everything it created
in Ganeti carries its own prefix and is removed at the end.

``loop_client(username)`` gives a :class:`LoopClient`: a ``requests`` session with a
Keystone v3 token for that account, and helpers to wait for a server's status. Tests
talk to the loop only through HTTP (and may check Ganeti through ``rapi``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest
import requests

from tests import services


class LoopClient:
    """HTTP access to the running loop as one account (Keystone v3 password login)."""

    def __init__(self, stack, username: str, project: str):
        self.stack = stack
        self.url = stack.url
        self.http = requests.Session()
        resp = self.http.post(
            f"{stack.auth_url}/v3/auth/tokens",
            json={
                "auth": {
                    "identity": {
                        "methods": ["password"],
                        "password": {
                            "user": {"name": username, "domain": {"name": "Default"}, "password": stack.facts["password"]}
                        },
                    },
                    "scope": {"project": {"name": project, "domain": {"name": "Default"}}},
                }
            },
            timeout=30,
        )
        resp.raise_for_status()
        self.http.headers.update({"X-Auth-Token": resp.headers["X-Subject-Token"], "X-OpenStack-Nova-API-Version": "2.1"})
        self.project_id = resp.json()["token"]["project"]["id"]

    def get(self, path: str, **kwargs) -> requests.Response:
        return self.http.get(self.url + path, timeout=30, **kwargs)

    def post(self, path: str, body: dict | None = None, **kwargs) -> requests.Response:
        return self.http.post(self.url + path, json=body, timeout=60, **kwargs)

    def delete(self, path: str, **kwargs) -> requests.Response:
        return self.http.delete(self.url + path, timeout=60, **kwargs)

    def server(self, server_id: str) -> requests.Response:
        return self.get(f"/compute/v2.1/servers/{server_id}")

    def wait_for(
        self, server_id: str, done: Callable[[requests.Response], bool], what: str, timeout: float = 180
    ) -> requests.Response:
        """Poll ``GET /servers/{id}`` until ``done(response)``; AssertionError naming the last answer."""
        deadline = time.monotonic() + timeout
        while True:
            resp = self.server(server_id)
            if done(resp):
                return resp
            if time.monotonic() > deadline:
                last = resp.json().get("server", resp.json()) if resp.content else resp.status_code
                raise AssertionError(f"server {server_id} not {what} after {timeout:.0f}s; last answer: {last}")
            time.sleep(0.5)

    def wait_status(self, server_id: str, status: str, timeout: float = 180) -> dict:
        """Wait until the server shows ``status`` with no task in flight; returns the server."""

        def done(resp: requests.Response) -> bool:
            if resp.status_code != 200:
                return False
            server = resp.json()["server"]
            if server["status"] == "ERROR" and status != "ERROR":
                raise AssertionError(f"server {server_id} went to ERROR: {server.get('fault')}")
            return server["status"] == status and server["OS-EXT-STS:task_state"] is None

        return self.wait_for(server_id, done, status, timeout).json()["server"]


@pytest.fixture(scope="session")
def core_loop() -> Iterator[object]:
    """The running stack (:class:`tests.tempest.stack.Stack`): API + eventd + dispatcher on the sandbox."""
    from tests.tempest import stack as stackmod

    if found := stackmod.problems():
        services.missing("the whole core loop", "; ".join(found))
    with stackmod.running_stack() as running:
        yield running


@pytest.fixture(scope="session")
def loop_client(core_loop) -> Callable[[str], LoopClient]:
    """``loop_client("demo1")``: a client logged in as that account in its project."""
    projects = {a["username"]: a["project_name"] for a in core_loop.facts["accounts"]}
    projects[core_loop.facts["admin"]["username"]] = core_loop.facts["admin"]["project_name"]
    clients: dict[str, LoopClient] = {}

    def client(username: str) -> LoopClient:
        if username not in clients:
            clients[username] = LoopClient(core_loop, username, projects[username])
        return clients[username]

    return client
