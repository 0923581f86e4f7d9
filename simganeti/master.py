"""The simulated Ganeti master: cluster state + job queue + RAPI server, embeddable.

    sim = SimGaneti(state_dir="/tmp/sim", port=0, time_scale=0.2)
    sim.start()          # RAPI at sim.url, job files in sim.queue_dir
    ...
    sim.stop()

State (instances, networks, the job counter) persists in ``state_dir`` across
restarts; job files stay in the queue directory like Ganeti's.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from typing import Any

from simganeti import tls
from simganeti.cluster import Cluster
from simganeti.execute import Context
from simganeti.faults import Faults
from simganeti.jobs import JobQueue
from simganeti.rapi import make_server, serve_in_thread

log = logging.getLogger("simganeti")

DEFAULT_USER = "ganeti-rapi"


class SimGaneti:
    """One simulated cluster; thread-safe; ``start()``/``stop()`` for the RAPI server."""

    def __init__(
        self,
        state_dir: str,
        *,
        queue_dir: str | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        user: str = DEFAULT_USER,
        password: str | None = None,
        cluster_name: str = "sim.ganeti.local",
        time_scale: float = 1.0,
    ) -> None:
        self.state_dir = os.path.abspath(state_dir)
        os.makedirs(self.state_dir, exist_ok=True)
        self.queue_dir = os.path.abspath(queue_dir or os.path.join(self.state_dir, "queue"))
        self.host = host
        self._port = port
        self.lock = threading.RLock()
        self.faults = Faults()
        self.cluster = self._load_cluster(cluster_name)
        self.credentials = (user, password or self._stored_password())
        self.cert_path = os.path.join(self.state_dir, "rapi.pem")
        self.certificate = tls.ensure_certificate(self.cert_path, cluster_name, [host, "127.0.0.1", "localhost", cluster_name])
        self.queue = JobQueue(
            self.queue_dir,
            Context(self.cluster),
            self.lock,
            self.faults,
            time_scale=time_scale,
            first_job_id=self._stored_next_job_id(),
            on_change=self.save,
        )
        self._server = None
        self._thread: threading.Thread | None = None
        self.ssconf_dir = os.path.join(self.state_dir, "ssconf")
        self._write_ssconf()

    def _write_ssconf(self) -> None:
        """The ssconf files a Ganeti node has (cluster name, master node), for eventd's mastership check."""
        os.makedirs(self.ssconf_dir, exist_ok=True)
        values = {"cluster_name": self.cluster.name, "master_node": self.master_node}
        for key, value in values.items():
            path = os.path.join(self.ssconf_dir, f"ssconf_{key}")
            with open(path + ".tmp", "w") as f:
                f.write(value + "\n")
            os.replace(path + ".tmp", path)

    @property
    def master_node(self) -> str:
        return self.cluster.nodes[0].name

    @property
    def password_file(self) -> str:
        return os.path.join(self.state_dir, "rapi.password")

    # ------------------------------------------------------------ persistence
    @property
    def _state_file(self) -> str:
        return os.path.join(self.state_dir, "cluster.json")

    def _read_state(self) -> dict[str, Any]:
        try:
            with open(self._state_file) as f:
                return json.load(f)
        except FileNotFoundError:
            return {}

    def _load_cluster(self, name: str) -> Cluster:
        data = self._read_state().get("cluster")
        return Cluster.from_dict(data) if data else Cluster(name=name)

    def _stored_password(self) -> str:
        path = os.path.join(self.state_dir, "rapi.password")
        if not os.path.exists(path):  # generated once, then stable across runs
            import secrets

            with open(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600), "w") as f:
                f.write(secrets.token_urlsafe(18))
        with open(path) as f:
            return f.read().strip()

    def _stored_next_job_id(self) -> int:
        return int(self._read_state().get("next_job_id", 1))

    def save(self) -> None:
        """Write the cluster state atomically (called after every finished job)."""
        with self.lock:
            data = {"cluster": self.cluster.to_dict(), "next_job_id": self.queue.next_job_id}
            tmp = self._state_file + ".tmp"
            with open(tmp, "w") as f:
                json.dump(data, f)
            os.replace(tmp, self._state_file)

    # ------------------------------------------------------------ server
    def start(self) -> SimGaneti:
        self._server = make_server(self, self.host, self._port, tls.server_context(self.cert_path))
        self._port = self._server.server_address[1]
        self._thread = serve_in_thread(self._server)
        log.info("simulated Ganeti master %s at %s (queue %s)", self.cluster.name, self.url, self.queue_dir)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        self.queue.stop()
        self.save()

    @property
    def port(self) -> int:
        return self._port

    @property
    def url(self) -> str:
        return f"https://{self.host}:{self._port}"

    # ------------------------------------------------------------ faults and drift
    def kill_instance(self, name: str) -> bool:
        """The VM dies behind Ganeti's back: admin state up, not running (ERROR_down)."""
        with self.lock:
            inst = self.cluster.instances.get(name)
            if inst is None:
                return False
            inst.set_running(False)
            inst.touch()
        self.save()
        return True

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """Block until no job is unfinished (tests)."""
        return self.queue.wait_all_finished(timeout)
