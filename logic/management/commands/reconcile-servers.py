"""``cyclades-manage reconcile-servers [--fix] [--remove-orphans] [--backend NAME] [--json]``."""

from __future__ import annotations

import json

from django.core.management.base import CommandError

from logic import reconcile
from logic.management.reconcile_command import ReconcileCommand

PROGRESS_FROM = 500  # servers: below this a run is too quick for a progress bar


class Command(ReconcileCommand):
    help = (
        "Compare servers with what their backends report (one bulk RAPI query per Ganeti cluster, one domain listing per libvirt host): stale, orphan, "
        "unsynced state/NICs/flavor, stuck tasks. With --fix, repair them through synthetic events; with "
        "--remove-orphans, also remove the orphan instances this cloud created and abandoned."
    )

    fix_help = "repair what can be repaired (orphans are only reported)"

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument(
            "--remove-orphans",
            action="store_true",
            help="submit a Ganeti remove job for each orphan that carries this cloud's <prefix>:server:<id> tag, "
            "whose server is gone or deleted and that is older than RECONCILE_GRACE (others are only reported)",
        )
        parser.add_argument("--details", type=int, default=50, help="findings listed one by one (default 50)")

    def handle(self, *args, **options):
        from logic.backends import client_for

        backends = self.backends(options["backends"])
        reports = reconcile.reconcile_all(
            backends,
            client_for,
            fix=options["fix"],
            remove_orphans=options["remove_orphans"],
            progress_factory=None if options["json"] else self._progress_factory(),
        )
        if options["json"]:
            self.stdout.write(json.dumps([_as_dict(r) for r in reports], indent=2))
        else:
            flags = [f for f in ("fix", "remove_orphans") if options[f]]
            self._tables(reports, options["details"], flags)
        failed = [r for r in reports if r.error and not r.error.startswith("offline")]
        if failed:
            raise CommandError("; ".join(f"{r.backend}: {r.error}" for r in failed))

    def _progress_factory(self):
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        def factory(name: str, total: int):
            if total < PROGRESS_FROM:
                return None
            bar = Progress(
                TextColumn(f"reconciling {name}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                transient=True,
                console=Console(stderr=True),  # rich 15's Progress takes no file=
            )
            task = bar.add_task(name, total=total)
            bar.start()

            def advance(done: int) -> None:
                bar.update(task, completed=done)
                if done >= total:
                    bar.stop()

            return advance

        return factory

    def _tables(self, reports, details: int, flags: list[str]) -> None:
        from rich.console import Console
        from rich.table import Table

        console = Console(file=self.stdout, width=160)
        fix = bool(flags)
        summary = Table(title=" ".join(["reconcile-servers", *(f"--{f.replace('_', '-')}" for f in flags)]))
        summary.add_column("backend")
        summary.add_column("servers", justify="right")
        summary.add_column("instances", justify="right")
        for kind in reconcile.KINDS:
            summary.add_column(kind, justify="right")
        summary.add_column("seconds", justify="right")
        for r in reports:
            if r.error:
                summary.add_row(r.backend, "-", "-", *["-"] * len(reconcile.KINDS), f"[red]{r.error}[/red]")
                continue
            cells = [f"{r.count(k)}" + (f" ({r.fixed(k)} fixed)" if fix and r.count(k) else "") for k in reconcile.KINDS]
            summary.add_row(r.backend, str(r.servers), str(r.instances), *cells, f"{r.seconds:.2f}")
        console.print(summary)
        findings = [(r.backend, f) for r in reports for f in r.findings]
        if findings and details:
            table = Table(title=f"findings (showing {min(details, len(findings))} of {len(findings)})")
            for col in ("backend", "kind", "instance", "server", "detail", "fixed"):
                table.add_column(col, overflow="fold")
            for backend, f in findings[:details]:
                table.add_row(backend, f.kind, f.instance, str(f.server_id or "-"), f.detail, "yes" if f.fixed else "no")
            console.print(table)
        elif not findings:
            console.print("no drift: the DB matches Ganeti")


def _as_dict(report: reconcile.Report) -> dict:
    return {
        "backend": report.backend,
        "servers": report.servers,
        "instances": report.instances,
        "seconds": round(report.seconds, 3),
        "error": report.error,
        "counts": {k: report.count(k) for k in reconcile.KINDS},
        "fixed": {k: report.fixed(k) for k in reconcile.KINDS},
        "findings": [vars(f) for f in report.findings],
    }
