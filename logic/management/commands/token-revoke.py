"""``cyclades-manage token-revoke USER``: revoke a user's tokens."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from logic import accounts
from logic.management.commands._accounts_cli import account_errors


class Command(BaseCommand):
    help = "Revoke every token of a user (or only its API tokens / login tokens with --kind)."

    def add_arguments(self, parser):
        parser.add_argument("user", help="name or id")
        parser.add_argument("--kind", choices=["api", "session"], help="only tokens of this kind")
        parser.add_argument("--domain", default="default")

    @account_errors
    def handle(self, *args, **options):
        user = accounts.find_user(options["user"], options["domain"])
        count = accounts.revoke_tokens(user, kind=options["kind"])
        self.stdout.write(f"revoked {count} token(s) of {user.name}")
