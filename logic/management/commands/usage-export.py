"""``cyclades-manage usage-export [--from T] [--to T] [--project ID] [--format csv|json] [--output FILE]``."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError

from logic.errors import InvalidInput
from logic.management.commands._progress import progress_bar
from logic.usage import records


class Command(BaseCommand):
    help = (
        "Export usage records for billing: per project and server, vCPU-, RAM- (MiB) and disk- (GiB) hours over a "
        "period, computed from the servers' state history (running time for CPU/RAM, existence for disk)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--from", dest="start", help="start (ISO 8601 date or time, UTC unless given); default: this month")
        parser.add_argument("--to", dest="end", help="end (ISO 8601), excluded; default: now")
        parser.add_argument("--project", action="append", dest="projects", metavar="ID", help="only this project (repeatable)")
        parser.add_argument("--format", choices=["csv", "json"], default="csv")
        parser.add_argument("--output", "-o", help="write to this file instead of standard output")
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")

    def handle(self, *args, **options):
        try:
            start, end = records.parse_period(options["start"], options["end"])
        except InvalidInput as exc:
            raise CommandError(str(exc)) from exc
        with progress_bar("computing usage", enabled=not options["no_progress"]) as progress:
            usages = records.compute(start, end, projects=options["projects"], progress=progress)
        if options["format"] == "json":
            text = json.dumps(records.as_json(usages, start, end), indent=2) + "\n"
        else:
            text = records.as_csv(usages)
        if options["output"]:
            with open(options["output"], "w", encoding="utf-8") as f:
                f.write(text)
        else:
            self.stdout.write(text, ending="")
