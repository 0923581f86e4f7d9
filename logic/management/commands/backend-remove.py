"""``cyclades-manage backend-remove NAME``."""

from django.core.management.base import BaseCommand

from logic import backends
from logic.management.commands._backend_cli import backend_errors, get_backend


class Command(BaseCommand):
    help = "Forget a backend. Refused while it has servers that are not deleted. Nothing is done in Ganeti."

    def add_arguments(self, parser):
        parser.add_argument("backend", help="Backend name or id.")

    @backend_errors
    def handle(self, *args, **options):
        backend = get_backend(options["backend"])
        backends.remove_backend(backend)
        self.stdout.write(f"backend {backend.name} removed")
