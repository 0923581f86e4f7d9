"""``cyclades-manage queue-inspect [--limit N] [--json]``: queue depths, dead letters, eventd heartbeats."""

from __future__ import annotations

import json

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

import bus as busmod
from dispatcher import queue_admin


def heartbeat_rows() -> list[dict]:
    """Each cluster's last eventd heartbeat and whether it is recent enough to call eventd alive."""
    from logic.models import ClusterHeartbeat

    stale_after = settings.CYCLADES["HEARTBEAT_STALE_AFTER"]
    now = timezone.now()
    rows = []
    for beat in ClusterHeartbeat.objects.order_by("cluster"):
        age = (now - beat.received_at).total_seconds()
        rows.append(
            {
                "cluster": beat.cluster,
                "host": beat.host,
                "last_heartbeat": beat.received_at.isoformat(timespec="seconds"),
                "age_s": round(age, 1),
                "alive": age <= stale_after,
                "spool_depth": beat.spool_depth,
                "published": beat.published,
            }
        )
    return rows


class Command(BaseCommand):
    help = (
        "Show the event queues' depths, the dead letters with their reasons (left in place) and each cluster's eventd heartbeat."
    )

    def add_arguments(self, parser):
        parser.add_argument("--limit", type=int, default=50, help="dead letters to show (default 50)")
        parser.add_argument("--json", action="store_true", help="JSON output (for scripts)")

    def handle(self, *args, **options):
        if options["limit"] < 0:
            raise CommandError("--limit must be >= 0")
        try:
            bus = busmod.connect(settings.CYCLADES["BUS_URL"])
        except busmod.BusError as exc:
            raise CommandError(str(exc)) from exc
        try:
            bus.declare()
            depths = queue_admin.queue_depths(bus)
            letters = queue_admin.peek_dead_letters(bus, options["limit"])
        finally:
            bus.close()
        beats = heartbeat_rows()
        if options["json"]:
            report = {"queues": depths, "dead_letters": [d.as_dict() for d in letters], "heartbeats": beats}
            self.stdout.write(json.dumps(report, indent=2))
            return
        self._tables(depths, letters, beats)

    def _tables(self, depths, letters, beats) -> None:
        from rich.console import Console
        from rich.table import Table

        console = Console(file=self.stdout, width=160)
        queues = Table(title="queues")
        queues.add_column("queue")
        queues.add_column("messages", justify="right")
        for name, depth in depths.items():
            queues.add_row(name, str(depth))
        console.print(queues)
        dead = Table(title=f"dead letters (showing {len(letters)} of {depths.get('cyclades.dead', len(letters))})")
        for col in ("message id", "routing key", "reason", "retries", "message"):
            dead.add_column(col, overflow="fold")
        for d in letters:
            dead.add_row(d.message_id or "-", d.routing_key, d.reason, str(d.retries), queue_admin.describe_body(d.body))
        console.print(dead)
        hb = Table(title="eventd heartbeats")
        for col in ("cluster", "host", "last heartbeat", "age (s)", "alive", "spool", "published"):
            hb.add_column(col)
        for b in beats:
            alive = "[green]yes[/green]" if b["alive"] else "[red]NO[/red]"
            hb.add_row(
                b["cluster"], b["host"], b["last_heartbeat"], str(b["age_s"]), alive, str(b["spool_depth"]), str(b["published"])
            )
        if not beats:
            hb.add_row("-", "no heartbeat received yet", "", "", "", "", "")
        console.print(hb)
