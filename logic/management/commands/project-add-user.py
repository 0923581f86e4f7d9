"""``cyclades-manage project-add-user PROJECT USER --role member``."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from logic import accounts
from logic.enums import Role
from logic.management.commands._accounts_cli import account_errors


class Command(BaseCommand):
    help = "Give a user a role in a project (admin, member or reader); replaces the role it had there."

    def add_arguments(self, parser):
        parser.add_argument("project", help="name or id")
        parser.add_argument("user", help="name or id")
        parser.add_argument("--role", default=Role.MEMBER, choices=Role.values)
        parser.add_argument("--domain", default="default")

    @account_errors
    def handle(self, *args, **options):
        project = accounts.find_project(options["project"], options["domain"])
        user = accounts.find_user(options["user"], options["domain"])
        accounts.add_member(user, project, options["role"])
        self.stdout.write(f"{user.name} is {options['role']} in {project.name}")
