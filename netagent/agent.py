"""The node agent's loop: taps recorded by ifup + the cloud's policies -> one nft transaction. Stdlib only.

:class:`Agent` knows nothing of Django: ``source`` turns the node's live taps
into what :func:`netagent.rules.render` needs (the database side is
:mod:`logic.neutron.node_policy`), ``node`` runs ``ip`` and ``nft`` (in a
network namespace when told, as on the Ganeti sandbox whose node lives in one).

A sync: read the tap records, forget those whose device is gone, ask the
source, render, and load with ``nft -f`` only when the text differs from what
was last loaded (a reload replaces the tables in one transaction: no moment
without rules). It syncs when the tap directory or the node's links change
(``ip monitor link``: a VM that stops takes its tap away), when ``wake`` says the
cloud changed (a PostgreSQL notification), and every ``resync`` seconds
regardless, so a missed notification costs at most that long. After each load
the agent writes ``loaded.json`` (the taps the rules name), which the ifup
script waits for. On start it syncs at once: a restart (or a reboot, whose taps are gone)
converges without help; while the agent is down the kernel keeps the last rules.
"""

from __future__ import annotations

import json
import logging
import os
import select
import subprocess
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from netagent.ifup import loaded_file
from netagent.rules import Nat, NicPolicy, render
from netagent.taps import Tap, TapStore

log = logging.getLogger("cyclades.netagent")


@dataclass
class Snapshot:
    """What the cloud says about a set of taps."""

    nics: list[NicPolicy]
    groups: dict[str, tuple[str, ...]] = field(default_factory=dict)
    nat: list[Nat] = field(default_factory=list)
    bridges: list[str] = field(default_factory=list)  # per-network bridges this node must have


class Node:
    """``ip`` and ``nft`` on this node, or in network namespace ``netns``."""

    def __init__(self, netns: str | None = None) -> None:
        self.prefix: list[str] = ["ip", "netns", "exec", netns] if netns else []
        self.monitor: subprocess.Popen | None = None

    def links_changed(self) -> bool:
        """True if a link was added or removed since the last call (``ip monitor link``, started on first use)."""
        if self.monitor is None or self.monitor.poll() is not None:
            self.monitor = subprocess.Popen([*self.prefix, "ip", "-o", "monitor", "link"], stdout=subprocess.PIPE)
            os.set_blocking(self.monitor.stdout.fileno(), False)
            return True  # (re)started: what happened before it is unknown
        changed = False
        while select.select([self.monitor.stdout], [], [], 0)[0]:
            if not self.monitor.stdout.read(65536):
                break
            changed = True
        return changed

    def close(self) -> None:
        if self.monitor is not None:
            self.monitor.kill()
            self.monitor.wait()
            self.monitor = None

    def _run(self, args: Sequence[str], stdin: str | None = None) -> str:
        proc = subprocess.run([*self.prefix, *args], input=stdin, capture_output=True, text=True, timeout=60)
        if proc.returncode != 0:
            raise RuntimeError(f"{' '.join(args)} failed: {proc.stderr.strip()}")
        return proc.stdout

    def interfaces(self) -> set[str]:
        return {link["ifname"] for link in json.loads(self._run(["ip", "-j", "link", "show"]) or "[]")}

    def ensure_bridges(self, links: Iterable[str]) -> list[str]:
        """Make the missing bridges (up); returns those made."""
        missing = sorted(set(links) - self.interfaces())
        for link in missing:
            self._run(["ip", "link", "add", link, "type", "bridge"])
            self._run(["ip", "link", "set", link, "up"])
        return missing

    def load(self, ruleset: str) -> None:
        self._run(["nft", "-f", "-"], stdin=ruleset)


class Agent:
    def __init__(
        self,
        state_dir: str,
        source: Callable[[list[Tap]], Snapshot],
        node: Node,
        *,
        stateful: bool = False,
        resync: float = 30.0,
    ) -> None:
        self.state_dir, self.source, self.node = state_dir, source, node
        self.taps = TapStore(state_dir)
        self.stateful, self.resync = stateful, resync
        self.loaded: str | None = None
        self.loads = 0  # how many times rules were loaded (for tests and the log)

    def live_taps(self) -> list[Tap]:
        taps = self.taps.all()
        present = self.node.interfaces()
        gone = [t.iface for t in taps if t.iface not in present]
        if gone:
            log.info("forgetting taps that no longer exist: %s", ", ".join(gone))
            self.taps.forget(gone)
        return [t for t in taps if t.iface in present]

    def sync(self) -> bool:
        """One pass; True if new rules were loaded."""
        taps = self.live_taps()
        snapshot = self.source(taps)
        if made := self.node.ensure_bridges(snapshot.bridges):
            log.info("made bridges %s", ", ".join(made))
        ruleset = render(snapshot.nics, groups=snapshot.groups, stateful=self.stateful, nat=snapshot.nat)
        if ruleset == self.loaded:
            return False
        self.node.load(ruleset)
        self.loaded = ruleset
        self.loads += 1
        self._write_loaded(n.iface for n in snapshot.nics)
        log.info("loaded rules for %d NIC(s), %d floating IP(s)", len(snapshot.nics), len(snapshot.nat))
        return True

    def _write_loaded(self, ifaces: Iterable[str]) -> None:
        os.makedirs(self.state_dir, exist_ok=True)
        target = loaded_file(self.state_dir)
        with open(f"{target}.tmp", "w") as f:
            json.dump({"ifaces": sorted(set(ifaces)), "loads": self.loads}, f)
        os.rename(f"{target}.tmp", target)

    def run(
        self,
        wake: Callable[[float], bool] | None = None,
        *,
        stop: Callable[[], bool] = lambda: False,
        tick: float = 0.2,
    ) -> None:
        """Sync now, then whenever taps or the cloud change (``wake(timeout)``: True if it did), until ``stop()``."""
        stamp, last = None, 0.0
        pending = True
        while not stop():
            now = time.monotonic()
            current = self.taps.stamp()
            pending = self.node.links_changed() or pending
            if pending or current != stamp or now - last >= self.resync:
                stamp, last, pending = current, now, False
                try:
                    self.sync()
                except Exception:  # a bad row or a transient nft/database failure: keep the old rules, retry
                    log.exception("sync failed; the previous rules stay loaded, retrying")
                    pending = True
                    time.sleep(min(self.resync, 1.0))
            if wake is not None:
                pending = wake(tick) or pending
            else:
                time.sleep(tick)
        self.node.close()
