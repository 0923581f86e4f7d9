"""``cyclades-manage queue-retry [--id MESSAGE_ID ...] [--limit N] [--json]``: re-publish dead letters."""

from __future__ import annotations

import json

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

import bus as busmod
from dispatcher import queue_admin


class Command(BaseCommand):
    help = "Re-publish dead-lettered messages to the events exchange (all of them, or those named by --id)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--id", action="append", dest="ids", metavar="MESSAGE_ID", help="retry only this message (repeatable)"
        )
        parser.add_argument("--limit", type=int, help="retry at most this many")
        parser.add_argument("--json", action="store_true", help="JSON output (for scripts)")

    def handle(self, *args, **options):
        if options["limit"] is not None and options["limit"] < 1:
            raise CommandError("--limit must be >= 1")
        ids = set(options["ids"] or ())
        try:
            bus = busmod.connect(settings.CYCLADES["BUS_URL"])
        except busmod.BusError as exc:
            raise CommandError(str(exc)) from exc
        try:
            bus.declare()
            retried = queue_admin.retry_dead_letters(
                bus, limit=options["limit"], select=(lambda d: d.message_id in ids) if ids else None
            )
        finally:
            bus.close()
        if options["json"]:
            self.stdout.write(json.dumps({"retried": [d.as_dict() for d in retried]}, indent=2))
            return
        for d in retried:
            self.stdout.write(f"re-published {d.message_id or '-'} to {d.routing_key} (was: {d.reason})")
        self.stdout.write(f"{len(retried)} dead letter(s) re-published")
        if ids and len(retried) < len(ids):
            missing = ids - {d.message_id for d in retried}
            raise CommandError(f"not found among the dead letters: {', '.join(sorted(missing))}")
