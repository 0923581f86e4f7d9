"""``cyclades-manage netagent``: the node agent (nftables anti-spoofing, security groups, floating IP NAT)."""

from __future__ import annotations

import logging
import os
import signal

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = (
        "Run on every Ganeti node: keep its nftables rules (MAC/IP pinning, DHCP/RA guards, security groups, "
        "floating IP DNAT/SNAT) equal to what the database says for the taps Ganeti's ifup recorded. Syncs at "
        "start, on every PostgreSQL notification of a change, when a tap appears or goes, and every --resync "
        "seconds. --install-ifup writes Ganeti's kvm-vif-bridge hook that records the taps; --once syncs and exits."
    )

    def add_arguments(self, parser):
        default = os.path.join(settings.DATA_DIR, "netagent")
        parser.add_argument("--state-dir", default=default, help="tap records and loaded.json (default %(default)s)")
        parser.add_argument("--netns", help="run ip/nft in this network namespace (the Ganeti sandbox's node: gnt)")
        parser.add_argument("--resync", type=float, default=30.0, help="full sync at least this often (s)")
        parser.add_argument("--stateful", action="store_true", help="use ct state (needs bridge conntrack)")
        parser.add_argument("--once", action="store_true", help="sync once and exit")
        parser.add_argument("--install-ifup", metavar="CONF_DIR", help="write CONF_DIR/kvm-vif-bridge and exit")
        parser.add_argument(
            "--bridge-prefix",
            default="",
            help="ifup, hooks and agent make missing bridges named so (default NETWORK_BRIDGE_PREFIX)",
        )
        parser.add_argument("--hooks-dir", help="with --install-ifup and --bridge-prefix: Ganeti's hooks dir (CONF_DIR/hooks)")
        parser.add_argument("--backend", help="this node's cluster (Backend name): keep its networks' bridges")
        parser.add_argument("--ifup-wait", type=float, default=10.0, help="how long ifup waits for the rules (s)")

    def handle(self, *args, **options):
        from logic.neutron.node_policy import Listener, snapshot
        from netagent import bridge_hook, ifup
        from netagent.agent import Agent, Node

        prefix = options["bridge_prefix"] or settings.CYCLADES["NETWORK_BRIDGE_PREFIX"]
        if options["install_ifup"]:
            try:
                path = ifup.install(
                    options["install_ifup"],
                    options["state_dir"],
                    bridge_prefix=prefix,
                    wait=options["ifup_wait"],
                )
                paths = [path]
                if prefix:
                    hooks_dir = options["hooks_dir"] or os.path.join(options["install_ifup"], "hooks")
                    paths.append(bridge_hook.install(hooks_dir, prefix))
            except (OSError, ValueError) as exc:
                raise CommandError(str(exc)) from exc
            for path in paths:
                self.stdout.write(f"installed {path}")
            return
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")

        def source(taps):
            return snapshot(taps, backend=options["backend"], bridge_prefix=prefix)

        agent = Agent(
            options["state_dir"], source, Node(options["netns"]), stateful=options["stateful"], resync=options["resync"]
        )
        if options["once"]:
            changed = agent.sync()
            self.stdout.write(f"{'loaded' if changed else 'unchanged'}: {len(agent.live_taps())} tap(s)")
            return
        stopping: list[bool] = []
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stopping.append(True))
        listener = Listener()
        try:
            agent.run(listener.wait, stop=lambda: bool(stopping))
        finally:
            listener.close()
