"""``cyclades-manage project-remove-user PROJECT USER``."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from logic import accounts
from logic.management.commands._accounts_cli import account_errors


class Command(BaseCommand):
    help = "Remove a user's role in a project (its tokens for the project stop working at once)."

    def add_arguments(self, parser):
        parser.add_argument("project", help="name or id")
        parser.add_argument("user", help="name or id")
        parser.add_argument("--domain", default="default")

    @account_errors
    def handle(self, *args, **options):
        project = accounts.find_project(options["project"], options["domain"])
        user = accounts.find_user(options["user"], options["domain"])
        if not accounts.remove_member(user, project):
            raise CommandError(f"{user.name} has no role in {project.name}")
        self.stdout.write(f"{user.name} removed from {project.name}")
