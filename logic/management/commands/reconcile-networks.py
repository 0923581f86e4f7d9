"""``cyclades-manage reconcile-networks [--fix] [--backend NAME] [--json]``."""

from __future__ import annotations

import dataclasses
import json

from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = (
        "Compare the networks, node group connections and port NICs the database records with each Ganeti cluster "
        "(one bulk RAPI query per cluster): missing, range, disconnected, orphan, nic. With --fix, make missing "
        "networks again and connect disconnected ones (orphans and NICs are only reported)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--fix", action="store_true", help="repair what can be repaired")
        parser.add_argument("--backend", action="append", dest="backends", metavar="NAME", help="only this cluster (repeatable)")
        parser.add_argument("--json", action="store_true", help="JSON output (for scripts)")

    def handle(self, *args, **options):
        from logic.backends import client_for
        from logic.models import Backend
        from logic.neutron import reconcile

        backends = Backend.objects.order_by("name")
        if options["backends"]:
            backends = backends.filter(name__in=options["backends"])
            if missing := set(options["backends"]) - set(backends.values_list("name", flat=True)):
                raise CommandError(f"no such backend: {', '.join(sorted(missing))}")
        report = {}
        for backend in backends:
            if backend.offline:
                continue
            with client_for(backend) as client:
                report[backend.name] = [dataclasses.asdict(f) for f in reconcile.check(backend, client, fix=options["fix"])]
        if options["json"]:
            self.stdout.write(json.dumps(report, indent=2))
            return
        for name, findings in report.items():
            self.stdout.write(f"{name}: {len(findings)} finding(s)")
            for f in findings:
                self.stdout.write(f"  {f['kind']:<12} {f['subject']}  {f['detail']}" + ("  [fixed]" if f["fixed"] else ""))
