"""``cyclades-manage user-list``: users with their state and projects."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from logic.management.commands._accounts_cli import render
from logic.models import User


class Command(BaseCommand):
    help = "List users (id, name, domain, enabled, admin, projects with roles)."

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true", help="machine-readable output")

    def handle(self, *args, **options):
        rows = []
        for user in User.objects.prefetch_related("memberships__project").order_by("domain_id", "name"):
            rows.append(
                {
                    "id": user.id,
                    "name": user.name,
                    "domain": user.domain_id,
                    "email": user.email,
                    "enabled": user.enabled,
                    "admin": user.is_admin,
                    "projects": ",".join(f"{m.project.name}:{m.role}" for m in user.memberships.all()),
                }
            )
        columns = ["id", "name", "domain", "enabled", "admin", "projects"]
        self.stdout.write(render(rows, columns, options["json"]))
