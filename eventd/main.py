"""``cyclades-eventd``: publish every opcode status change of this Ganeti master's job queue.

Settings (``cyclades.conf``, environment ``CYCLADES_<NAME>``): BUS_URL and the
EVENTD_* settings (queue dir, ssconf dir, cluster/node name, spool dir, state
file, heartbeat, RAPI for live queries). A bad start (bad setting, unreadable
queue directory, unusable spool/state) is one line on stderr and exit status 2.
An unreachable RabbitMQ is not a bad start: eventd spools and retries.

``--once`` catches up (publishes what changed since the last run), replays the
spool and exits: for cron-style use and for tests.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sqlite3

from cyclades import conf, logs
from cyclades.cli import StartupError, run
from eventd.daemon import EventDaemon
from eventd.live import rapi_lookup
from eventd.mastership import Mastership, local_node_name, read_ssconf
from eventd.publisher import Publisher
from eventd.spool import Spool
from eventd.state import PublishedState

log = logging.getLogger("eventd")


def _path(settings: dict, name: str) -> str:
    return str(settings[name]).replace("{DATA_DIR}", str(settings["DATA_DIR"]))


def build_daemon(settings: dict) -> EventDaemon:
    """Assemble eventd from settings (raises StartupError saying what is wrong)."""
    queue_dir = settings["EVENTD_QUEUE_DIR"]
    if not os.path.isdir(queue_dir):
        raise StartupError(f"EVENTD_QUEUE_DIR: {queue_dir} is not a directory")
    if not os.access(queue_dir, os.R_OK | os.X_OK):
        raise StartupError(f"EVENTD_QUEUE_DIR: {queue_dir} is not readable (run as root or in group gnt-daemons)")
    ssconf_dir = settings["EVENTD_SSCONF_DIR"]
    try:
        cluster = settings["EVENTD_CLUSTER_NAME"] or read_ssconf(ssconf_dir, "cluster_name")
    except OSError as exc:
        raise StartupError(f"EVENTD_SSCONF_DIR: cannot read ssconf_cluster_name: {exc.strerror or exc}") from exc
    if not cluster:
        raise StartupError(f"EVENTD_CLUSTER_NAME is empty and {ssconf_dir}/ssconf_cluster_name does not exist")
    node = settings["EVENTD_NODE_NAME"] or local_node_name()
    try:
        spool = Spool(_path(settings, "EVENTD_SPOOL_DIR"))
    except OSError as exc:
        raise StartupError(f"EVENTD_SPOOL_DIR: {exc}") from exc
    try:
        state = PublishedState(_path(settings, "EVENTD_STATE_FILE"), retention=settings["EVENTD_STATE_RETENTION"])
    except (OSError, sqlite3.Error) as exc:
        raise StartupError(f"EVENTD_STATE_FILE: {_path(settings, 'EVENTD_STATE_FILE')}: {exc}") from exc
    lookup = None
    if settings["EVENTD_RAPI_HOST"]:
        lookup = rapi_lookup(
            settings["EVENTD_RAPI_HOST"],
            settings["EVENTD_RAPI_PORT"],
            settings["EVENTD_RAPI_USER"] or None,
            settings["EVENTD_RAPI_PASSWORD_FILE"] or None,
            settings["EVENTD_RAPI_CERT"] or None,
            timeout=settings["EVENTD_RAPI_TIMEOUT"],
        )
    return EventDaemon(
        queue_dir=queue_dir,
        cluster=cluster,
        publisher=Publisher(settings["BUS_URL"], spool, retry_interval=settings["EVENTD_RETRY_INTERVAL"]),
        state=state,
        host=node,
        mastership=Mastership(ssconf_dir, node, interval=settings["EVENTD_MASTER_CHECK_INTERVAL"]),
        lookup=lookup,
        heartbeat_interval=settings["EVENTD_HEARTBEAT_INTERVAL"],
    )


def _main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="cyclades-eventd", description=__doc__.split("\n\n")[0])
    parser.add_argument("--once", action="store_true", help="catch up, replay the spool, then exit")
    args = parser.parse_args(argv)
    settings = conf.load()
    logs.setup(settings["LOG_FORMAT"], settings["LOG_LEVEL"])
    daemon = build_daemon(settings)
    signal.signal(signal.SIGTERM, lambda *_: daemon.stop())
    log.info(
        "eventd watching %s for cluster %s as node %s (spool %s)",
        daemon.queue_dir,
        daemon.cluster,
        daemon.host,
        daemon.publisher.spool.directory,
    )
    try:
        daemon.run(once=args.once)
    finally:
        daemon.publisher.close()
        daemon.state.close()
    return 0


def main() -> None:
    run(_main)
