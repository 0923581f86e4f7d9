"""A simulated Ganeti master per test, fast (time_scale) and in a temporary directory."""

from __future__ import annotations

import pytest
import requests
import urllib3

from simganeti import SimGaneti


@pytest.fixture
def sim(tmp_path):
    master = SimGaneti(str(tmp_path / "sim"), time_scale=0.05).start()
    yield master
    master.stop()


class Rapi:
    """Plain ``requests`` against the simulator (the product's client is tested elsewhere)."""

    def __init__(self, sim: SimGaneti) -> None:
        self.base = sim.url
        self.session = requests.Session()
        self.session.trust_env = False
        self.session.auth = sim.credentials
        self.session.verify = False
        urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)

    def call(self, method: str, path: str, body=None, **kw) -> requests.Response:
        return self.session.request(method, self.base + path, json=body, timeout=15, **kw)

    def ok(self, method: str, path: str, body=None, **kw):
        r = self.call(method, path, body, **kw)
        assert r.status_code == 200, r.text
        return r.json()

    def wait(self, job_id: int, timeout: float = 20) -> dict:
        import time

        deadline = time.monotonic() + timeout
        previous = None
        while time.monotonic() < deadline:
            change = self.ok("GET", f"/2/jobs/{job_id}/wait", {"fields": ["status"], "previous_job_info": previous})
            previous = change["job_info"]
            if previous[0] in ("success", "error", "canceled"):
                return self.ok("GET", f"/2/jobs/{job_id}")
        raise AssertionError(f"job {job_id} did not finish")


@pytest.fixture
def rapi(sim) -> Rapi:
    return Rapi(sim)


def create_body(name: str, **extra) -> dict:
    """The body of the real sandbox's smoke create (samples/job-queue/job-2)."""
    body = {
        "__version__": 1,
        "instance_name": name,
        "mode": "create",
        "os_type": "noop",
        "disk_template": "diskless",
        "disks": [],
        "nics": [{"mode": "bridged", "link": "br-gnt"}],
        "beparams": {"maxmem": 256, "minmem": 256, "vcpus": 1},
        "tags": ["smoke"],
        "name_check": False,
        "ip_check": False,
    }
    body.update(extra)
    return body
