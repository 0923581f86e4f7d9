"""``cyclades-manage reconcile-networks [--fix] [--backend NAME] [--json]``."""

from __future__ import annotations

import dataclasses
import json

from logic.management.reconcile_command import ReconcileCommand


class Command(ReconcileCommand):
    help = (
        "Compare the networks, node group connections and port NICs the database records with each Ganeti cluster "
        "(one bulk RAPI query per cluster): missing, range, disconnected, orphan, nic. With --fix, make missing "
        "networks again and connect disconnected ones (orphans and NICs are only reported)."
    )

    def handle(self, *args, **options):
        from logic.backends import client_for
        from logic.neutron import reconcile

        backends = self.backends(options["backends"])
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
