"""``cyclades-manage user-set-admin USER [--off]``: make a user a cloud administrator, or not."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from logic import accounts
from logic.management.commands._accounts_cli import account_errors


class Command(BaseCommand):
    help = "Make a user a cloud administrator (acts in every project), or with --off no longer."

    def add_arguments(self, parser):
        parser.add_argument("user", help="name or id")
        parser.add_argument("--off", action="store_true", help="remove administrator rights")
        parser.add_argument("--domain", default="default")

    @account_errors
    def handle(self, *args, **options):
        user = accounts.find_user(options["user"], options["domain"])
        accounts.set_admin(user, not options["off"])
        self.stdout.write(f"{user.name}: admin={'no' if options['off'] else 'yes'}")
