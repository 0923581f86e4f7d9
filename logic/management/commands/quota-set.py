"""``cyclades-manage quota-set PROJECT RESOURCE=LIMIT ... [--user USER] [--force]``."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from logic import accounts, quotas
from logic.errors import InvalidInput
from logic.management.commands._accounts_cli import account_errors, render
from logic.management.commands._quota_cli import USAGE_COLUMNS, resource_name, usage_rows


class Command(BaseCommand):
    help = (
        "Set quota limits of a project (or of a user within it): RESOURCE=LIMIT, -1 for unlimited, "
        "'default' to go back to the QUOTA_* setting. Resources: servers, cores, running_cores, ram (MiB), "
        "running_ram, disk (GiB), private_networks, floating_ips, volumes, volume_gb, images, or full names."
    )

    def add_arguments(self, parser):
        parser.add_argument("project", help="name or id")
        parser.add_argument("limits", nargs="+", metavar="RESOURCE=LIMIT")
        parser.add_argument("--user", help="name or id: set that user's limits within the project")
        parser.add_argument("--force", action="store_true", help="allow a limit below what is already in use")
        parser.add_argument("--domain", default="default")
        parser.add_argument("--json", action="store_true", help="JSON output (for scripts)")

    @account_errors
    def handle(self, *args, **options):
        project = accounts.find_project(options["project"], options["domain"])
        user = accounts.find_user(options["user"], options["domain"]) if options["user"] else None
        try:
            quotas.set_limits(project, parse_limits(options["limits"]), user=user, force=options["force"])
        except InvalidInput as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(render(usage_rows(project, user), USAGE_COLUMNS, options["json"]))


def parse_limits(items: list[str]) -> dict[str, int | None]:
    out: dict[str, int | None] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep:
            raise CommandError(f"expected RESOURCE=LIMIT, got {item!r}")
        resource = resource_name(name.strip())
        value = value.strip()
        if value == "default":
            out[resource] = None
            continue
        try:
            out[resource] = int(value)
        except ValueError:
            raise CommandError(f"limit of {name} must be an integer, -1 or 'default'; got {value!r}") from None
    return out
