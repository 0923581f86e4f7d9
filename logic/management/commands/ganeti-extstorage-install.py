"""``cyclades-manage ganeti-extstorage-install``: install the ``cyclades-rbd`` Ganeti ExtStorage provider on this node.

Copies ``conf/ganeti-extstorage/cyclades-rbd`` into a directory on Ganeti's ExtStorage
search path (default ``/srv/ganeti/extstorage``) and writes its ``cyclades-rbd.conf``:
the Ceph cluster (conffile, client id, pool: the volume settings ``VOLUME_RBD_*``) and,
where Ganeti's daemons live in another network namespace than the Ceph network (the
sandbox), the namespace (under ``/run/netns``) its Ceph clients enter. Idempotent; run it
on every Ganeti node. The node needs ``rbd`` (ceph-common), ``qemu-storage-daemon`` with
QEMU's rbd driver (qemu-system-common, qemu-block-extra) and ``losetup``.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

SOURCE = Path(__file__).resolve().parents[3] / "conf" / "ganeti-extstorage" / "cyclades-rbd"


class Command(BaseCommand):
    help = "Install the cyclades-rbd Ganeti ExtStorage provider (Ceph RBD through librbd) on this node."

    def add_arguments(self, parser):
        conf = settings.CYCLADES
        parser.add_argument("--es-dir", default="/srv/ganeti/extstorage", help="A directory on Ganeti's ExtStorage path")
        parser.add_argument("--ceph-conf", default=conf["VOLUME_RBD_CONF"], help="ceph.conf (always given: no DNS lookups)")
        parser.add_argument("--ceph-user", default=conf["VOLUME_RBD_USER"], help="Ceph client id (client.<id>)")
        parser.add_argument("--pool", default=conf["VOLUME_RBD_POOL"], help="Ceph pool of the disks")
        parser.add_argument("--netns", default="", help="Network namespace (/run/netns/NAME) Ceph clients run in")
        parser.add_argument("--state-dir", default="/run/cyclades-rbd", help="Where attached disks keep their state")
        parser.add_argument(
            "--log-dir", default="/var/log/ganeti/extstorage", help="Ganeti's ExtStorage log directory (Ganeti needs it)"
        )

    def handle(self, *args, **opts):
        if not SOURCE.is_dir():
            raise CommandError(f"the ExtStorage provider is missing: {SOURCE}")
        if opts["netns"] and not Path("/run/netns", opts["netns"]).exists():
            raise CommandError(f"network namespace {opts['netns']} does not exist (/run/netns/{opts['netns']})")
        Path(opts["log_dir"]).mkdir(parents=True, exist_ok=True)  # Ganeti fails every action without it
        target = Path(opts["es_dir"]) / "cyclades-rbd"
        target.mkdir(parents=True, exist_ok=True)
        for item in SOURCE.iterdir():
            if item.name.startswith(".") or item.name == "__pycache__":
                continue
            tmp = target / f".{item.name}.tmp"
            shutil.copy2(item, tmp)
            tmp.replace(target / item.name)  # atomic: a running action sees a whole file
        lines = [
            "# written by cyclades-manage ganeti-extstorage-install",
            f"CEPH_CONF={opts['ceph_conf']}",
            f"CEPH_USER={opts['ceph_user']}",
            f"POOL={opts['pool']}",
            f"NETNS={opts['netns']}",
            f"STATE_DIR={opts['state_dir']}",
        ]
        tmp = target / ".cyclades-rbd.conf.tmp"
        tmp.write_text("\n".join(lines) + "\n")
        tmp.replace(target / "cyclades-rbd.conf")
        self.stdout.write(f"installed {target} (pool {opts['pool']}, client.{opts['ceph_user']})")
