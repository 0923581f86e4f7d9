"""``cyclades-manage reconcile-volumes [--fix] [--backend NAME] [--json]``."""

from __future__ import annotations

import json
from dataclasses import asdict

from django.core.management.base import BaseCommand, CommandError

from logic import volume_reconcile


class Command(BaseCommand):
    help = (
        "Compare volumes with the disks their Ganeti clusters report (one bulk RAPI query per cluster): "
        "attachments that differ, tasks whose job end was lost, orphan disks. With --fix, repair them."
    )

    def add_arguments(self, parser):
        parser.add_argument("--fix", action="store_true", help="repair what can be repaired (orphans are only reported)")
        parser.add_argument("--backend", action="append", dest="backends", metavar="NAME", help="only this cluster (repeatable)")
        parser.add_argument("--json", action="store_true", help="JSON output (for scripts)")

    def handle(self, *args, **options):
        from logic.backends import client_for
        from logic.models import Backend

        backends = Backend.objects.order_by("name")
        if options["backends"]:
            backends = backends.filter(name__in=options["backends"])
            missing = set(options["backends"]) - set(backends.values_list("name", flat=True))
            if missing:
                raise CommandError(f"no such backend: {', '.join(sorted(missing))}")
        reports = volume_reconcile.reconcile_all(list(backends), client_for, fix=options["fix"])
        if options["json"]:
            self.stdout.write(json.dumps([asdict(r) for r in reports], indent=2))
        else:
            for report in reports:
                fixed = sum(f.fixed for f in report.findings)
                self.stdout.write(f"{report.backend}: {report.volumes} volumes, {len(report.findings)} findings, {fixed} fixed")
                for f in report.findings:
                    self.stdout.write(f"  {f.kind:<10} {f.volume}  {f.detail}{'  [fixed]' if f.fixed else ''}")
        failed = [r for r in reports if r.error]
        if failed:
            raise CommandError("; ".join(f"{r.backend}: {r.error}" for r in failed))
