"""The whole core loop as subprocesses, for tempest and the ``openstack`` CLI end-to-end test.

:func:`running_stack` starts, on this machine's real services:

* a fresh PostgreSQL database and RabbitMQ vhost for this stack (dropped afterwards),
* ``cyclades-manage migrate``, then :mod:`tests.tempest.provision` (the sandbox as the
  backend, accounts, flavors 1-3, two images, a "private" network per project backed by a
  Ganeti network with an IP pool),
* the API under gunicorn, ``cyclades-eventd`` watching the real Ganeti sandbox job queue,
  ``cyclades-dispatcher``, and ``cyclades-vncauthproxy`` (the console proxy, with its own
  shared secret, control port, web port and client port range on 127.0.0.1),

and stops them, removes this stack's Ganeti instances/networks and drops the database and
vhost at the end (``keep=True`` leaves everything for inspection). Ganeti names carry a
prefix unique to the stack, as the sandbox is shared.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from tests import services

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


class StackError(RuntimeError):
    """The stack could not be started; the message says which part and where its log is."""


@dataclass
class Stack:
    run_id: str
    workdir: Path
    url: str
    env: dict[str, str]
    database: str
    vhost: str
    facts: dict = field(default_factory=dict)
    procs: dict[str, subprocess.Popen] = field(default_factory=dict)

    @property
    def auth_url(self) -> str:
        return self.url + "/identity"

    def log(self, name: str) -> Path:
        return self.workdir / f"{name}.log"

    def os_env(self, username: str, project: str) -> dict[str, str]:
        """``OS_*`` variables for the ``openstack`` CLI as ``username`` in ``project``."""
        return {
            "OS_AUTH_URL": self.auth_url,
            "OS_AUTH_TYPE": "password",
            "OS_IDENTITY_API_VERSION": "3",
            "OS_USERNAME": username,
            "OS_PASSWORD": self.facts["password"],
            "OS_PROJECT_NAME": project,
            "OS_USER_DOMAIN_NAME": "Default",
            "OS_PROJECT_DOMAIN_NAME": "Default",
            "OS_REGION_NAME": "RegionOne",
            "OS_INTERFACE": "public",
        }


def problems() -> list[str]:
    """Why a stack cannot run here (missing services), or []."""
    found = []
    if p := services.postgres_problem():
        found.append(f"PostgreSQL: {p}")
    if p := services.rabbitmq_problem():
        found.append(f"RabbitMQ: {p}")
    if p := services.ganeti_problem():
        found.append(f"Ganeti sandbox: {p}")
    return found


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def free_port_range(size: int = 20) -> range:
    """``size`` consecutive ports that are free now (the console proxy's client ports)."""
    for _ in range(50):
        start = free_port()
        if start + size >= 65536:
            continue
        try:
            for port in range(start, start + size):
                with socket.socket() as s:
                    s.bind(("127.0.0.1", port))
        except OSError:
            continue
        return range(start, start + size)
    raise StackError("no run of free ports for the console proxy")


def _console_env(workdir: Path) -> dict[str, str]:
    """The console proxy's settings, shared by it and the API: a fresh secret (in a file), its own ports."""
    secret_file = workdir / "vncauthproxy-secret"
    secret_file.write_text(secrets.token_urlsafe(32) + "\n")
    secret_file.chmod(0o600)
    ports = free_port_range()
    return {
        "CYCLADES_VNCAUTHPROXY_SECRET_FILE": str(secret_file),
        "CYCLADES_VNCAUTHPROXY_CONTROL_HOST": "127.0.0.1",
        "CYCLADES_VNCAUTHPROXY_CONTROL_PORT": str(free_port()),
        "CYCLADES_VNCAUTHPROXY_LISTEN_HOST": "127.0.0.1",
        "CYCLADES_VNCAUTHPROXY_PORT_RANGE": f"{ports.start}-{ports.stop - 1}",
        "CYCLADES_VNCAUTHPROXY_WEB_PORT": str(free_port()),
        "CYCLADES_CONSOLE_PUBLIC_HOST": "127.0.0.1",
    }


def _wait_tcp(port: int, timeout: float, stack: Stack) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        _check_alive(stack)
        try:
            socket.create_connection(("127.0.0.1", port), timeout=2).close()
            return
        except OSError:
            time.sleep(0.2)
    raise StackError(f"nothing listens on 127.0.0.1:{port} after {timeout:.0f}s")


def _pg_admin(sql: str) -> None:
    import psycopg2

    conn = psycopg2.connect(services.PG_URL, connect_timeout=5)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(sql)
    finally:
        conn.close()


def _database_url(name: str) -> str:
    base = services.PG_URL.rsplit("/", 1)[0]
    return f"{base}/{name}"


def _run(stack: Stack, name: str, args: list[str], timeout: float = 300) -> str:
    """Run a one-shot command with the stack's environment; StackError with its output on failure."""
    with open(stack.log(name), "w") as log:
        proc = subprocess.run(args, env=stack.env, cwd=ROOT, stdout=subprocess.PIPE, stderr=log, text=True, timeout=timeout)
    if proc.returncode != 0:
        raise StackError(f"{name} failed (exit {proc.returncode}); see {stack.log(name)}: {stack.log(name).read_text()[-2000:]}")
    return proc.stdout


def _spawn(stack: Stack, name: str, args: list[str]) -> None:
    log = open(stack.log(name), "w")  # noqa: SIM115 - owned by the process; closed at exit
    stack.procs[name] = subprocess.Popen(
        args, env=stack.env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )


def _check_alive(stack: Stack) -> None:
    for name, proc in stack.procs.items():
        if proc.poll() is not None:
            raise StackError(
                f"{name} exited with {proc.returncode}; see {stack.log(name)}: {stack.log(name).read_text()[-2000:]}"
            )


def _wait_http(url: str, timeout: float, stack: Stack) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        _check_alive(stack)
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.3)
    raise StackError(f"{url} did not answer within {timeout:.0f}s")


def start(
    *,
    workdir: Path | None = None,
    port: int | None = None,
    workers: int = 3,
    concurrency: int = 1,
    extra_env: dict[str, str] | None = None,
    provision_args: tuple[str, ...] = (),
) -> Stack:
    """Start everything; the caller must :func:`stop` it (or use :func:`running_stack`).

    ``extra_env``: more settings for every process; ``provision_args``: passed to
    ``provision setup`` after the concurrency (e.g. ``--hypervisor kvm``).
    """
    if found := problems():
        raise StackError("; ".join(found))
    run_id = secrets.token_hex(3)
    workdir = Path(workdir or ROOT / "var" / "stack" / run_id)
    workdir.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    gnt = services.ganeti_env()
    database, vhost = f"cyc_stack_{run_id}", f"cyc-stack-{run_id}"
    password_file = workdir / "rapi-password"
    password_file.write_text(gnt["GANETI_RAPI_PASSWORD"] + "\n")
    url = f"http://127.0.0.1:{port}"
    env = {
        "PATH": f"{BIN}:{os.environ.get('PATH', '/usr/bin:/bin')}",
        "HOME": os.environ.get("HOME", "/root"),
        "PYTHONPATH": str(ROOT),
        "DJANGO_SETTINGS_MODULE": "cyclades.settings",
        "CYCLADES_SECRET_KEY": "stack-" + secrets.token_hex(24),
        "CYCLADES_DATA_DIR": str(workdir / "data"),
        "CYCLADES_DATABASE_URL": _database_url(database),
        "CYCLADES_BUS_URL": services.amqp_url(vhost),
        "CYCLADES_PUBLIC_URL": url,
        "CYCLADES_LOG_FORMAT": "text",
        "CYCLADES_LOG_LEVEL": "INFO",
        "CYCLADES_GANETI_PREFIX": f"ts{run_id}",
        "CYCLADES_NETWORK_LINK": gnt["GANETI_NIC_LINK"],
        "CYCLADES_EVENTD_QUEUE_DIR": gnt["GANETI_JOB_QUEUE_DIR"],
        "CYCLADES_EVENTD_NODE_NAME": gnt["GANETI_NODE"],
        "CYCLADES_EVENTD_SPOOL_DIR": str(workdir / "spool"),
        "CYCLADES_EVENTD_STATE_FILE": str(workdir / "eventd-state.json"),
        "CYCLADES_EVENTD_RAPI_HOST": gnt["GANETI_RAPI_HOST"],
        "CYCLADES_EVENTD_RAPI_PORT": gnt["GANETI_RAPI_PORT"],
        "CYCLADES_EVENTD_RAPI_USER": gnt["GANETI_RAPI_USER"],
        "CYCLADES_EVENTD_RAPI_PASSWORD_FILE": str(password_file),
        "CYCLADES_EVENTD_RAPI_CERT": gnt["GANETI_RAPI_CERT"],
        # Ganeti nodes (inside the sandbox's namespace) fetch images to deploy from the root side of its veth.
        "GUNICORN_BIND": f"127.0.0.1:{port},{services.GANETI_HOST_SIDE_IP}:{port}",
        "CYCLADES_IMAGE_FETCH_URL": f"http://{services.GANETI_HOST_SIDE_IP}:{port}",
        # admins import image files from here (cyclades-manage image-import, Glance local-path, kamaki register)
        "CYCLADES_IMAGE_IMPORT_DIR": str(workdir / "import"),
        "GUNICORN_WORKERS": str(workers),
        **_console_env(workdir),
        **(extra_env or {}),
    }
    stack = Stack(run_id=run_id, workdir=workdir, url=url, env=env, database=database, vhost=vhost)
    _pg_admin(f'CREATE DATABASE "{database}"')
    services.rabbitmqctl("add_vhost", vhost)
    user = services.AMQP_CREDENTIALS.split(":", 1)[0]
    services.rabbitmqctl("set_permissions", "-p", vhost, user, ".*", ".*", ".*")
    try:
        _run(stack, "migrate", [str(BIN / "cyclades-manage"), "migrate", "--noinput"])
        stack.facts = json.loads(
            _run(
                stack, "provision", [sys.executable, "-m", "tests.tempest.provision", "setup", str(concurrency), *provision_args]
            )
        )
        _spawn(stack, "vncauthproxy", [str(BIN / "cyclades-vncauthproxy")])
        _wait_tcp(int(env["CYCLADES_VNCAUTHPROXY_CONTROL_PORT"]), 30, stack)
        _spawn(stack, "dispatcher", [str(BIN / "cyclades-dispatcher")])
        _spawn(stack, "eventd", [str(BIN / "cyclades-eventd")])
        _spawn(stack, "api", [str(BIN / "gunicorn"), "-c", str(ROOT / "conf" / "gunicorn.conf.py"), "cyclades.wsgi:application"])
        _wait_http(url + "/healthz", 60, stack)
    except BaseException:
        stop(stack)
        raise
    (workdir / "stack.json").write_text(json.dumps({"url": url, "env": env, "facts": stack.facts}, indent=2))
    return stack


def stop(stack: Stack, *, keep: bool = False) -> None:
    """Stop the processes; unless ``keep``, remove Ganeti objects, the database and the vhost."""
    for proc in stack.procs.values():
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
    for name, proc in stack.procs.items():
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            print(f"stack: {name} did not stop on SIGTERM; killed", file=sys.stderr)
    if keep:
        return
    with contextlib.suppress(StackError):
        _run(stack, "cleanup", [sys.executable, "-m", "tests.tempest.provision", "cleanup"], timeout=600)
    with contextlib.suppress(Exception):
        _pg_admin(f'DROP DATABASE IF EXISTS "{stack.database}" WITH (FORCE)')
    with contextlib.suppress(Exception):
        services.rabbitmqctl("delete_vhost", stack.vhost)


@contextlib.contextmanager
def running_stack(**kwargs):
    stack = start(**kwargs)
    try:
        yield stack
    finally:
        stop(stack, keep=os.environ.get("CYCLADES_STACK_KEEP") == "1")


if __name__ == "__main__":
    # Start a stack and keep it running until Ctrl-C (for trying clients by hand).
    s = start()
    print(json.dumps({"url": s.url, "workdir": str(s.workdir), "facts": s.facts}, indent=2), flush=True)
    try:
        signal.pause()
    except KeyboardInterrupt:
        pass
    finally:
        stop(s)
