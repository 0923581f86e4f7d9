"""Is this node the Ganeti master? eventd publishes only while it is.

Ganeti writes the master's name to ``<ssconf dir>/ssconf_master_node`` on every
node; a master failover rewrites it. The answer is cached and re-read every
``interval`` seconds.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Callable

log = logging.getLogger(__name__)


def same_node(a: str, b: str) -> bool:
    """Node names match: equal ignoring case, or equal short names when either is not qualified."""
    a, b = a.strip().lower().rstrip("."), b.strip().lower().rstrip(".")
    if not a or not b:
        return False
    if a == b:
        return True
    if "." not in a or "." not in b:
        return a.split(".", 1)[0] == b.split(".", 1)[0]
    return False


def local_node_name() -> str:
    return socket.getfqdn()


def read_ssconf(ssconf_dir: str, key: str) -> str | None:
    """One ssconf value (``ssconf_<key>``), stripped; None when the file is missing."""
    try:
        with open(os.path.join(ssconf_dir, f"ssconf_{key}")) as f:
            return f.read().strip() or None
    except FileNotFoundError:
        return None


class Mastership:
    """Caches "am I the master?" for ``interval`` seconds."""

    def __init__(self, ssconf_dir: str, node_name: str, *, interval: float = 10.0, clock: Callable[[], float] = time.monotonic):
        self.ssconf_dir = ssconf_dir
        self.node_name = node_name
        self.interval = interval
        self._clock = clock
        self._checked_at: float | None = None
        self._is_master = False
        self.master: str | None = None

    def is_master(self, *, force: bool = False) -> bool:
        now = self._clock()
        if force or self._checked_at is None or now - self._checked_at >= self.interval:
            self._checked_at = now
            try:
                master = read_ssconf(self.ssconf_dir, "master_node")
            except OSError as exc:
                log.warning("cannot read ssconf_master_node in %s: %s", self.ssconf_dir, exc)
                master = None
            is_master = master is not None and same_node(master, self.node_name)
            if is_master != self._is_master or master != self.master:
                log.info(
                    "master node is %s; this node (%s) is %s",
                    master or "unknown",
                    self.node_name,
                    "the master: publishing" if is_master else "not the master: standing by",
                )
            self.master, self._is_master = master, is_master
        return self._is_master
