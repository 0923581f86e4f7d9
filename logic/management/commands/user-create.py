"""``cyclades-manage user-create NAME``: create a user; prints the user's id."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from logic import accounts
from logic.management.commands._accounts_cli import account_errors, read_password


class Command(BaseCommand):
    help = "Create a user. Without a password option the user can only use API tokens (see token-issue)."

    def add_arguments(self, parser):
        parser.add_argument("name")
        source = parser.add_mutually_exclusive_group()
        source.add_argument("--password", help="the password (visible in the process list: prefer --password-file)")
        source.add_argument("--password-file", metavar="PATH", help="read the password from the first line of PATH ('-': stdin)")
        source.add_argument("--password-prompt", action="store_true", help="ask for the password on the terminal")
        parser.add_argument("--email", default="")
        parser.add_argument("--domain", default="default", help="domain id or name (default: default)")
        parser.add_argument("--admin", action="store_true", help="cloud administrator: may act in every project")
        parser.add_argument("--project", help="also add the user to this project (name or id)")
        parser.add_argument("--role", default="member", choices=["admin", "member", "reader"], help="role in --project")

    @account_errors
    def handle(self, *args, **options):
        from django.db import transaction

        password = read_password(options)
        with transaction.atomic():
            user = accounts.create_user(
                options["name"], password, email=options["email"], is_admin=options["admin"], domain=options["domain"]
            )
            if options["project"]:
                project = accounts.find_project(options["project"], options["domain"])
                accounts.add_member(user, project, options["role"])
        self.stdout.write(user.id)
