"""``cyclades-manage reconcile-volumes [--fix] [--backend NAME] [--json]``."""

from __future__ import annotations

import json
from dataclasses import asdict

from django.core.management.base import CommandError

from logic import volume_reconcile
from logic.management.reconcile_command import ReconcileCommand


class Command(ReconcileCommand):
    help = (
        "Compare volumes with the disks their Ganeti clusters report (one bulk RAPI query per cluster): "
        "attachments that differ, tasks whose job end was lost, orphan disks. With --fix, repair them."
    )

    fix_help = "repair what can be repaired (orphans are only reported)"

    def handle(self, *args, **options):
        from logic.backends import client_for

        backends = self.backends(options["backends"])
        reports = volume_reconcile.reconcile_all(backends, client_for, fix=options["fix"])
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
