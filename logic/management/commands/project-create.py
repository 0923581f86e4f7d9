"""``cyclades-manage project-create NAME``: create a project (tenant); prints its id."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from logic import accounts
from logic.management.commands._accounts_cli import account_errors


class Command(BaseCommand):
    help = "Create a project (tenant). Prints the new project's id."

    def add_arguments(self, parser):
        parser.add_argument("name")
        parser.add_argument("--description", default="")
        parser.add_argument("--domain", default="default")

    @account_errors
    def handle(self, *args, **options):
        project = accounts.create_project(options["name"], options["description"], options["domain"])
        self.stdout.write(project.id)
