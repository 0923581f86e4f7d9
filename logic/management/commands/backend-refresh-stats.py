"""``cyclades-manage backend-refresh-stats [NAME...]``."""

from django.core.management.base import BaseCommand, CommandError

from logic import backends
from logic.errors import LogicError
from logic.management.commands._backend_cli import describe, get_backend, print_rows
from logic.rapi import RapiError


class Command(BaseCommand):
    help = (
        "Re-read hypervisor, disk templates and capacity from the clusters (all online backends, or the ones named). "
        "Exit status 1 if any failed; the others are refreshed anyway."
    )

    def add_arguments(self, parser):
        parser.add_argument("backends", nargs="*", help="Backend names or ids (default: every online backend).")
        parser.add_argument("--json", action="store_true")

    def handle(self, *args, **options):
        if options["backends"]:
            results = {}
            for ref in options["backends"]:
                backend = get_backend(ref)
                try:
                    backends.refresh_stats(backend)
                    results[backend.name] = "ok"
                except (LogicError, RapiError) as exc:
                    results[backend.name] = str(exc)
        else:
            results = backends.refresh_all_stats()
        rows = [describe(get_backend(name)) for name, outcome in results.items() if outcome == "ok"]
        if rows:
            print_rows(self, rows, options["json"])
        failed = {name: outcome for name, outcome in results.items() if outcome != "ok"}
        for name, outcome in failed.items():
            self.stderr.write(f"{name}: {outcome}")
        if failed:
            raise CommandError(f"{len(failed)} backend(s) could not be refreshed")
