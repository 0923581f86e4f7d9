"""One command class per flag change: drain/undrain, offline/online."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from logic import backends
from logic.management.commands._backend_cli import get_backend


def command(*, what: str, value: bool, help_text: str) -> type[BaseCommand]:
    setter = backends.set_drained if what == "drained" else backends.set_offline

    class Command(BaseCommand):
        help = help_text

        def add_arguments(self, parser):
            parser.add_argument("backends", nargs="+", help="Backend names or ids.")

        def handle(self, *args, **options):
            for ref in options["backends"]:
                backend = setter(get_backend(ref), value)
                self.stdout.write(f"{backend.name}: {what} = {str(value).lower()}")

    return Command
