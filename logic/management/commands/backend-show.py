"""``cyclades-manage backend-show NAME [--json]``."""

from django.core.management.base import BaseCommand

from logic.management.commands._backend_cli import describe, get_backend, print_one


class Command(BaseCommand):
    help = "Show one backend (never its password)."

    def add_arguments(self, parser):
        parser.add_argument("backend", help="Backend name or id.")
        parser.add_argument("--json", action="store_true")

    def handle(self, *args, **options):
        print_one(self, describe(get_backend(options["backend"])), options["json"])
