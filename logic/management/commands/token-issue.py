"""``cyclades-manage token-issue USER [--project P]``: issue a long-lived API token and print it."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from logic import accounts
from logic.login import projects_of
from logic.management.commands._accounts_cli import account_errors


class Command(BaseCommand):
    help = (
        "Issue a long-lived API token (Synnefo style) for a user, scoped to a project, and print it (only the token, "
        "on stdout: it is shown once). Without --project the user's only project is used."
    )

    def add_arguments(self, parser):
        parser.add_argument("user", help="name or id")
        parser.add_argument("--project", help="name or id (default: the user's only project)")
        parser.add_argument("--unscoped", action="store_true", help="a token for no project (only logs in)")
        parser.add_argument("--expires-in", type=int, metavar="SECONDS", help="default: never expires")
        parser.add_argument("--description", default="", help="what the token is for")
        parser.add_argument("--domain", default="default")

    @account_errors
    def handle(self, *args, **options):
        user = accounts.find_user(options["user"], options["domain"])
        project = None
        if options["project"]:
            project = accounts.find_project(options["project"], options["domain"])
        elif not options["unscoped"]:
            projects = projects_of(user)
            if len(projects) != 1:
                names = ", ".join(p.name for p in projects) or "none"
                raise CommandError(f"{user.name} has {len(projects)} projects ({names}): give --project or --unscoped")
            project = projects[0]
        secret, _ = accounts.issue_api_token(user, project, expires_in=options["expires_in"], description=options["description"])
        self.stdout.write(secret)
