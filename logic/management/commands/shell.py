"""``cyclades-manage shell``: Django's shell (IPython when installed) with the product preloaded.

Besides every model (Django's own automatic imports), the namespace holds the
logic modules operators reach for (``servers``, ``backends``, ``quotas``, ``reconcile``,
``nodes``, ``usage``...) and ``rapi``: a RAPI client per online backend by name,
e.g. ``rapi["cluster.example.org"].get_info()``. ``-c "..."`` runs one command.
"""

from __future__ import annotations

from importlib import import_module

from django.core.management.commands import shell

LOGIC_MODULES = [
    "logic.backends",
    "logic.events",
    "logic.flavors",
    "logic.identity",
    "logic.accounts",
    "logic.quotas",
    "logic.reconcile",
    "logic.servers",
    "logic.admin.nodes",
    "logic.admin.suspension",
    "logic.usage.records",
]


class BackendClients(dict):
    """``rapi[name]``: the RAPI client of that backend, built on first use (offline backends are absent)."""

    def __init__(self) -> None:
        from logic.models import Backend

        super().__init__()
        self._names = list(Backend.objects.filter(offline=False).order_by("name").values_list("name", flat=True))
        for name in self._names:
            super().__setitem__(name, None)

    def __getitem__(self, name: str):
        client = super().__getitem__(name)
        if client is None:
            from logic.backends import client_for
            from logic.models import Backend

            client = client_for(Backend.objects.get(name=name))
            super().__setitem__(name, client)
        return client

    def __repr__(self) -> str:
        return f"<RAPI clients of {', '.join(self._names) or 'no backend'}>"


class Command(shell.Command):
    help = "An interactive Python shell (IPython when installed) with the models, the logic layer and a RAPI client per backend."

    def get_auto_imports(self):
        return [*super().get_auto_imports(), "django.conf.settings", "django.utils.timezone"]

    def get_namespace(self, **options):
        namespace = super().get_namespace(**options)
        if options and options.get("no_imports"):
            return namespace
        for path in LOGIC_MODULES:  # modules by their last name (Django's auto imports take objects of modules)
            namespace[path.rsplit(".", 1)[1]] = import_module(path)
        namespace["rapi"] = BackendClients()
        if options.get("verbosity", 1) >= 1:
            self.stdout.write(
                f"Also: {', '.join(p.rsplit('.', 1)[1] for p in LOGIC_MODULES)}; rapi[<backend>] ({len(namespace['rapi'])})."
            )
        return namespace
