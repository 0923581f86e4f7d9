from django.apps import AppConfig
from django.db.models.signals import post_migrate


class LogicConfig(AppConfig):
    name = "logic"
    label = "logic"
    verbose_name = "Cyclades core"

    def ready(self) -> None:
        from logic.neutron.node_policy import connect_signals
        from logic.signals import ensure_default_domain

        post_migrate.connect(ensure_default_domain, sender=self)
        connect_signals()  # NOTIFY the node agents when ports, groups, rules or floating IPs change
