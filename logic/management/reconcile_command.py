"""What the ``reconcile-*`` commands share: their common options and the backends they cover."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError


class ReconcileCommand(BaseCommand):
    """``--fix``, ``--backend NAME`` (repeatable) and ``--json``; :meth:`backends` resolves the names."""

    fix_help = "repair what can be repaired"

    def add_arguments(self, parser):
        parser.add_argument("--fix", action="store_true", help=self.fix_help)
        parser.add_argument("--backend", action="append", dest="backends", metavar="NAME", help="only this cluster (repeatable)")
        parser.add_argument("--json", action="store_true", help="JSON output (for scripts)")

    @staticmethod
    def backends(names: list[str] | None) -> list:
        """Every backend by name, or those named; a name that is not a backend is an error, before any work."""
        from logic.models import Backend

        backends = Backend.objects.order_by("name")
        if names:
            backends = backends.filter(name__in=names)
            if missing := set(names) - set(backends.values_list("name", flat=True)):
                raise CommandError(f"no such backend: {', '.join(sorted(missing))}")
        return list(backends)
