"""``cyclades-manage backend-set-offline NAME... [--online]``."""

from django.core.management.base import BaseCommand

from logic import backends
from logic.management.commands._backend_cli import get_backend


class Command(BaseCommand):
    help = (
        "Mark backends offline: no RAPI call at all is made to them and nothing is placed there "
        "(cluster down or in maintenance). --online brings them back."
    )

    def add_arguments(self, parser):
        parser.add_argument("backends", nargs="+", help="Backend names or ids.")
        parser.add_argument("--online", action="store_true", help="Mark them online again.")

    def handle(self, *args, **options):
        offline = not options["online"]
        for ref in options["backends"]:
            backend = backends.set_offline(get_backend(ref), offline)
            self.stdout.write(f"{backend.name}: {'offline' if offline else 'online'}")
