"""``cyclades-manage quota-show PROJECT [--user USER] [--json]``."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from logic import accounts
from logic.management.commands._accounts_cli import account_errors, render
from logic.management.commands._quota_cli import USAGE_COLUMNS, usage_rows


class Command(BaseCommand):
    help = "Show a project's (or a user's in it) quota limits and usage: committed, pending charges, what counts."

    def add_arguments(self, parser):
        parser.add_argument("project", help="name or id")
        parser.add_argument("--user", help="name or id: that user's limits and usage within the project")
        parser.add_argument("--domain", default="default")
        parser.add_argument("--json", action="store_true", help="JSON output (for scripts)")

    @account_errors
    def handle(self, *args, **options):
        project = accounts.find_project(options["project"], options["domain"])
        user = accounts.find_user(options["user"], options["domain"]) if options["user"] else None
        self.stdout.write(render(usage_rows(project, user), USAGE_COLUMNS, options["json"]))
