"""``cyclades-manage user-set-password USER``: change a user's password."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from logic import accounts
from logic.management.commands._accounts_cli import account_errors, read_password


class Command(BaseCommand):
    help = "Set a user's password (from --password, --password-file or --password-prompt)."

    def add_arguments(self, parser):
        parser.add_argument("user", help="name or id")
        source = parser.add_mutually_exclusive_group(required=True)
        source.add_argument("--password")
        source.add_argument("--password-file", metavar="PATH", help="first line of PATH ('-': stdin)")
        source.add_argument("--password-prompt", action="store_true")
        parser.add_argument("--domain", default="default")

    @account_errors
    def handle(self, *args, **options):
        password = read_password(options)
        if password is None:
            raise CommandError("give --password, --password-file or --password-prompt")
        user = accounts.find_user(options["user"], options["domain"])
        accounts.set_password(user, password)
        self.stdout.write(f"password of {user.name} changed")
