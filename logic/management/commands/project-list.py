"""``cyclades-manage project-list``: projects with their members."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from logic.management.commands._accounts_cli import render
from logic.models import Project


class Command(BaseCommand):
    help = "List projects (id, name, domain, enabled, members with roles)."

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true", help="machine-readable output")

    def handle(self, *args, **options):
        rows = [
            {
                "id": p.id,
                "name": p.name,
                "domain": p.domain_id,
                "enabled": p.enabled,
                "members": ",".join(f"{m.user.name}:{m.role}" for m in p.memberships.all()),
            }
            for p in Project.objects.prefetch_related("memberships__user").order_by("domain_id", "name")
        ]
        self.stdout.write(render(rows, ["id", "name", "domain", "enabled", "members"], options["json"]))
