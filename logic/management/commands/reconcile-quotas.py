"""``cyclades-manage reconcile-quotas [--project P] [--fix]``: recompute usage from what exists."""

from __future__ import annotations

from datetime import timedelta

from django.core.management.base import BaseCommand

from logic import accounts
from logic.management.commands._accounts_cli import account_errors, render
from logic.quota_reconcile import reconcile

COLUMNS = ["project", "user", "resource", "what", "recorded", "expected", "delta"]


class Command(BaseCommand):
    help = (
        "Compare quota usage with the servers that exist and with the commissions, print every difference; "
        "with --fix repair them. Exit status 0 when nothing differed or all was fixed, 1 when differences remain."
    )

    def add_arguments(self, parser):
        parser.add_argument("--project", action="append", help="name or id (repeatable); default: every project")
        parser.add_argument("--fix", action="store_true", help="repair the counters")
        parser.add_argument(
            "--stale-after",
            type=int,
            default=3600,
            metavar="SECONDS",
            help="a pending charge this old, of a server with no action waiting, is stale (default 3600)",
        )
        parser.add_argument("--domain", default="default")
        parser.add_argument("--json", action="store_true", help="JSON output (for scripts)")

    @account_errors
    def handle(self, *args, **options):
        projects = None
        if options["project"]:
            projects = [accounts.find_project(p, options["domain"]).pk for p in options["project"]]
        found = reconcile(projects, fix=options["fix"], stale_after=timedelta(seconds=options["stale_after"]))
        rows = [
            {
                "project": d.project_id,
                "user": d.user_id or "(project)",
                "resource": d.resource,
                "what": d.what,
                "recorded": d.recorded,
                "expected": d.expected,
                "delta": f"{d.delta:+d}",
            }
            for d in found
        ]
        if options["json"]:
            self.stdout.write(render(rows, COLUMNS, True))
        elif rows:
            self.stdout.write(render(rows, COLUMNS, False))
        verdict = "fixed" if options["fix"] else "found (run with --fix to repair)"
        self.stderr.write(f"{len(found)} difference(s) {verdict}" if found else "quotas match what exists")
        if found and not options["fix"]:
            raise SystemExit(1)
