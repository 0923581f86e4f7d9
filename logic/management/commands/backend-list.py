"""``cyclades-manage backend-list [--json]``."""

from django.core.management.base import BaseCommand

from logic.management.commands._backend_cli import describe, print_rows
from logic.models import Backend


class Command(BaseCommand):
    help = "List the backends (Ganeti clusters) with their state and cached capacity."

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true")

    def handle(self, *args, **options):
        print_rows(self, [describe(b) for b in Backend.objects.order_by("name")], options["json"])
