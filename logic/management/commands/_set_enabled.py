"""user-disable and user-enable share this command class."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from logic import accounts
from logic.management.commands._accounts_cli import account_errors


def command(enabled: bool) -> type[BaseCommand]:
    verb = "Enable" if enabled else "Disable"

    class Command(BaseCommand):
        help = f"{verb} users (a disabled user cannot log in and its tokens stop working at once)."

        def add_arguments(self, parser):
            parser.add_argument("users", nargs="+", metavar="USER", help="name or id")
            parser.add_argument("--domain", default="default")

        @account_errors
        def handle(self, *args, **options):
            users = [accounts.find_user(u, options["domain"]) for u in options["users"]]
            for user in users:
                accounts.set_enabled(user, enabled)
                self.stdout.write(f"{verb.lower()}d {user.name} ({user.id})")

    return Command
