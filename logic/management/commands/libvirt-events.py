"""``cyclades-manage libvirt-events [--backend NAME] [--once SECONDS]``: publish libvirt hosts' lifecycle events."""

from __future__ import annotations

import signal

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

import bus as busmod
from logic.drivers.libvirt import messages
from logic.drivers.libvirt.connections import LibvirtUnavailable
from logic.drivers.libvirt.lifecycle import LifecycleListener
from logic.models import Backend


class Command(BaseCommand):
    help = (
        "Listen to the domain lifecycle events of every libvirt backend (or one) and publish them on the bus "
        "in the event contract, for the dispatcher (an operator's virsh destroy shows as SHUTOFF). Runs until "
        "SIGTERM/SIGINT. A test:/// host lives inside one process: only real hosts (qemu://...) make sense here."
    )

    def add_arguments(self, parser):
        parser.add_argument("--backend", help="Only this libvirt backend (name).")
        parser.add_argument("--once", type=float, metavar="SECONDS", help="Listen this long, publish, exit (tests, cron).")

    def handle(self, *args, **options):
        backends = Backend.objects.filter(kind=Backend.Kind.LIBVIRT, offline=False)
        if options["backend"]:
            backends = backends.filter(name=options["backend"])
        backends = list(backends)
        if not backends:
            raise CommandError("no (online) libvirt backend to listen to")
        bus = busmod.connect(settings.CYCLADES["BUS_URL"])
        listeners = [LifecycleListener(b.name, b.libvirt_uri, publish=lambda m: messages.publish(m, bus=bus)) for b in backends]
        stopping = []
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stopping.append(True))
        try:
            for listener in listeners:
                listener.start()
                self.stderr.write(f"listening to {listener.uri} for backend {listener.cluster}")
            published = 0
            rounds = int((options["once"] or 0) / 0.5) or None
            while not stopping and (rounds is None or rounds > 0):
                for listener in listeners:
                    published += listener.publish_pending(timeout=0.5 / len(listeners))
                if rounds is not None:
                    rounds -= 1
            self.stderr.write(f"published {published} lifecycle event(s)")
        except LibvirtUnavailable as exc:
            raise CommandError(str(exc)) from None
        finally:
            for listener in listeners:
                listener.stop()
            bus.close()
