"""``cyclades-allinone``: the whole product in one process, for a laptop or a demo.

Embedded defaults: SQLite and the in-process bus, all in one data directory.
One supervisor runs, as threads: a simulated Ganeti master (``simganeti``: RAPI
over HTTPS and job files in Ganeti's format), eventd watching the simulator's
job queue, the dispatcher, and the API. Every event takes the production path
(job file -> eventd -> bus -> dispatcher -> DB). If any component dies the
whole thing stops with a non-zero status; Ctrl-C stops everything cleanly.

On first run it creates demo users, a project, flavors, an image, the public
network and the backend, and writes ``clouds.yaml`` into the data directory.
"""

from __future__ import annotations

import argparse
import logging
import os
import secrets
import signal
import threading
import time
from collections.abc import Callable
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from cyclades.cli import StartupError, django_setup, run

log = logging.getLogger("allinone")

DEMO_CLOUD = "cyclades-demo"
ADMIN_CLOUD = "cyclades-admin"


class _ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    allow_reuse_address = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format, *args):
        log.debug("%s - %s", self.address_string(), format % args)


def _embedded_environment(data_dir: str, host: str, port: int) -> None:
    """Defaults for the embedded mode; explicit CYCLADES_* variables still win."""
    os.makedirs(data_dir, exist_ok=True)
    key_file = os.path.join(data_dir, "secret_key")
    if not os.path.exists(key_file):
        with open(os.open(key_file, os.O_WRONLY | os.O_CREAT, 0o600), "w") as f:
            f.write(secrets.token_urlsafe(48))
    with open(key_file) as f:
        os.environ.setdefault("CYCLADES_SECRET_KEY", f.read().strip())
    public_host = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
    os.environ.setdefault("CYCLADES_DATA_DIR", data_dir)
    os.environ.setdefault("CYCLADES_BUS_URL", "memory://allinone")
    os.environ.setdefault("CYCLADES_PUBLIC_URL", f"http://{public_host}:{port}")
    os.environ.setdefault("CYCLADES_LOG_FORMAT", "text")


def _eventd_environment(sim) -> None:
    """eventd watches the simulator's queue as if it ran on the simulated master node."""
    os.environ["CYCLADES_EVENTD_QUEUE_DIR"] = sim.queue_dir
    os.environ["CYCLADES_EVENTD_SSCONF_DIR"] = sim.ssconf_dir
    os.environ["CYCLADES_EVENTD_CLUSTER_NAME"] = sim.cluster.name
    os.environ["CYCLADES_EVENTD_NODE_NAME"] = sim.master_node
    os.environ["CYCLADES_EVENTD_RAPI_HOST"] = sim.host
    os.environ["CYCLADES_EVENTD_RAPI_PORT"] = str(sim.port)
    os.environ["CYCLADES_EVENTD_RAPI_USER"] = sim.credentials[0]
    os.environ["CYCLADES_EVENTD_RAPI_PASSWORD_FILE"] = sim.password_file
    os.environ["CYCLADES_EVENTD_RAPI_CERT"] = sim.cert_path
    os.environ.setdefault("CYCLADES_EVENTD_HEARTBEAT_INTERVAL", "30")


def write_clouds_yaml(path: str, public_url: str, region: str, creds) -> None:
    """An ``openstack`` CLI configuration with the demo user's and the admin's clouds."""

    def cloud(user: str, password: str, project: str) -> str:
        return (
            f"    auth:\n"
            f"      auth_url: {public_url}/identity/v3\n"
            f"      username: {user}\n"
            f"      password: {password}\n"
            f"      project_name: {project}\n"
            f"      user_domain_name: Default\n"
            f"      project_domain_name: Default\n"
            f"    region_name: {region}\n"
            f"    identity_api_version: 3\n"
            f"    interface: public\n"
        )

    text = (
        "# Written by cyclades-allinone: use with\n"
        f"#   export OS_CLIENT_CONFIG_FILE={path} OS_CLOUD={DEMO_CLOUD}\n"
        "clouds:\n"
        f"  {DEMO_CLOUD}:\n{cloud(creds.demo_user, creds.demo_password, creds.demo_project)}"
        f"  {ADMIN_CLOUD}:\n{cloud(creds.admin_user, creds.admin_password, creds.admin_project)}"
    )
    with open(os.open(path + ".tmp", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
        f.write(text)
    os.replace(path + ".tmp", path)


class Supervisor:
    """Runs components as threads; the first one to die (or a signal) stops all of them."""

    def __init__(self) -> None:
        self.stop = threading.Event()
        self.failed: str | None = None
        self._threads: list[threading.Thread] = []
        self._stoppers: list[tuple[str, Callable[[], None]]] = []

    def add(self, name: str, target: Callable[[], None], stopper: Callable[[], None] | None = None) -> None:
        def body() -> None:
            try:
                target()
            except Exception:
                log.exception("%s crashed", name)
                self.failed = self.failed or name
            else:
                if not self.stop.is_set():
                    log.error("%s stopped unexpectedly", name)
                    self.failed = self.failed or name
            self.stop.set()

        thread = threading.Thread(target=body, name=name, daemon=True)
        self._threads.append(thread)
        if stopper:
            self._stoppers.append((name, stopper))
        thread.start()

    def shutdown(self, timeout: float = 10.0) -> None:
        self.stop.set()
        for name, stopper in reversed(self._stoppers):
            try:
                stopper()
            except Exception:
                log.exception("stopping %s failed", name)
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(timeout=max(0.1, deadline - time.monotonic()))
            if thread.is_alive():
                log.warning("%s did not stop within %.0f s", thread.name, timeout)


def _banner(settings, sim, creds, clouds_path: str) -> str:
    url = settings.CYCLADES["PUBLIC_URL"]
    return "\n".join(
        [
            f"Cyclades is running at {url}   (data in {settings.DATA_DIR}; Ctrl-C stops)",
            f"  simulated Ganeti master: {sim.url} (cluster {sim.cluster.name}, job queue {sim.queue_dir})",
            f"  demo user:  {creds.demo_user} / {creds.demo_password}   (project {creds.demo_project})",
            f"  admin user: {creds.admin_user} / {creds.admin_password}   (project {creds.admin_project})",
            "  OpenStack CLI:",
            f"    export OS_CLIENT_CONFIG_FILE={clouds_path}",
            f"    export OS_CLOUD={DEMO_CLOUD}     # or {ADMIN_CLOUD}",
            "    openstack server create --flavor m1.tiny --image demo-noop --wait vm1",
        ]
    )


def _main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="cyclades-allinone", description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", default=os.path.abspath("var"), help="where state is kept (default ./var)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--ganeti-port", type=int, default=0, help="port of the simulated RAPI (default: any free port)")
    parser.add_argument("--time-scale", type=float, default=1.0, help="speed of simulated Ganeti jobs (0.2 = five times faster)")
    args = parser.parse_args(argv)
    started = time.monotonic()

    data_dir = os.path.abspath(args.data_dir)
    _embedded_environment(data_dir, args.host, args.port)
    from simganeti import SimGaneti

    try:
        sim = SimGaneti(os.path.join(data_dir, "simganeti"), port=args.ganeti_port, time_scale=args.time_scale).start()
    except OSError as exc:
        raise StartupError(f"simulated Ganeti: cannot listen on port {args.ganeti_port}: {exc.strerror}") from exc
    _eventd_environment(sim)
    from vncauthproxy.embedded import console_environment

    console_environment(data_dir)

    django_setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.core.wsgi import get_wsgi_application

    from logic.bootstrap import GanetiTarget, ensure_demo_data

    call_command("migrate", interactive=False, verbosity=0)
    user, password = sim.credentials
    creds = ensure_demo_data(GanetiTarget(sim.host, sim.port, user, password, sim.certificate))
    clouds_path = os.path.join(data_dir, "clouds.yaml")
    write_clouds_yaml(clouds_path, settings.CYCLADES["PUBLIC_URL"], settings.CYCLADES["REGION"], creds)

    try:
        httpd = make_server(args.host, args.port, get_wsgi_application(), _ThreadingWSGIServer, _QuietHandler)
    except OSError as exc:
        sim.stop()
        raise StartupError(f"cannot listen on {args.host}:{args.port}: {exc.strerror}") from exc

    from cyclades import conf
    from dispatcher.main import serve
    from eventd.main import build_daemon

    daemon = build_daemon(conf.load())
    from vncauthproxy.embedded import EmbeddedConsole
    from vncauthproxy.main import build_config

    try:
        console = EmbeddedConsole(build_config(conf.load())).start()
    except OSError as exc:
        raise StartupError(f"VNC console proxy: cannot listen: {exc.strerror or exc}") from exc
    sim.console_endpoint = ("127.0.0.1", console.guest.port)
    sup = Supervisor()
    sup.add(
        "dispatcher",
        lambda: serve(
            settings.CYCLADES["BUS_URL"],
            prefetch=settings.CYCLADES["DISPATCHER_PREFETCH"],
            batch_size=settings.CYCLADES["DISPATCHER_BATCH_SIZE"],
            batch_wait=settings.CYCLADES["DISPATCHER_BATCH_WAIT"],
            stop=sup.stop,
        ),
    )  # stops on sup.stop

    def run_eventd() -> None:
        try:
            daemon.run()
        finally:
            daemon.publisher.close()
            daemon.state.close()

    sup.add("eventd", run_eventd, daemon.stop)
    sup.add("api", httpd.serve_forever, httpd.shutdown)
    print(_banner(settings, sim, creds, clouds_path), flush=True)
    log.info("started in %.2f s", time.monotonic() - started)

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: sup.stop.set())
    sup.stop.wait()
    log.info("stopping")
    sup.shutdown()
    httpd.server_close()
    console.stop()
    sim.stop()
    if sup.failed:
        log.error("stopped because %s failed", sup.failed)
        return 1
    return 0


def main() -> None:
    run(_main)
