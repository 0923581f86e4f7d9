"""``cyclades-manage ganeti-os-install``: install the ``cyclades-image`` Ganeti OS definition on this node.

Copies ``conf/ganeti-os/cyclades-image`` into a directory on Ganeti's OS search path
(default ``/srv/ganeti/os``), writes its ``cyclades-image.conf`` (where the fetch key
is) and creates the fetch key (``IMAGE_FETCH_KEY_FILE``) if missing. Idempotent; a
key is never replaced. Run it on every Ganeti node (the key file must be the same on
API and Ganeti nodes: copy it, e.g. with ``gnt-cluster copyfile``).
"""

from __future__ import annotations

import shutil
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from logic.image_deploy import ensure_key_file

SOURCE = Path(__file__).resolve().parents[3] / "conf" / "ganeti-os" / "cyclades-image"


class Command(BaseCommand):
    help = "Install the cyclades-image Ganeti OS definition (and the image fetch key) on this node."

    def add_arguments(self, parser):
        parser.add_argument("--os-dir", default="/srv/ganeti/os", help="A directory on Ganeti's OS search path")
        parser.add_argument("--key-file", default=None, help="Fetch key file (default: IMAGE_FETCH_KEY_FILE)")

    def handle(self, *args, **opts):
        if not SOURCE.is_dir():
            raise CommandError(f"the OS definition is missing: {SOURCE}")
        key_file = opts["key_file"] or settings.CYCLADES["IMAGE_FETCH_KEY_FILE"]
        target = Path(opts["os_dir"]) / "cyclades-image"
        target.mkdir(parents=True, exist_ok=True)
        for item in SOURCE.iterdir():
            if not item.is_file():
                continue  # e.g. a __pycache__ left by a test that imported personalise.py
            tmp = target / f".{item.name}.tmp"
            shutil.copy2(item, tmp)
            tmp.replace(target / item.name)  # atomic: a concurrent install or a running create sees a whole file
        conf = target / "cyclades-image.conf"
        tmp = target / ".cyclades-image.conf.tmp"
        tmp.write_text(f"# written by cyclades-manage ganeti-os-install\nKEY_FILE={key_file}\nTIMEOUT=60\n")
        tmp.replace(conf)
        created = ensure_key_file(key_file)
        self.stdout.write(f"installed {target} (key {key_file}{', created' if created else ''})")
