"""What the event pipeline records besides server state: each cluster's eventd heartbeat."""

from __future__ import annotations

from django.db import models


class ClusterHeartbeat(models.Model):
    """The last heartbeat an eventd sent for a Ganeti cluster.

    One row per cluster, kept at the newest ``event_time`` seen, so an operator
    (``cyclades-manage queue-inspect``) sees whether each cluster's eventd is alive.
    """

    cluster = models.CharField(max_length=255, unique=True)
    host = models.CharField(max_length=255, blank=True)
    is_master = models.BooleanField(default=True)
    event_time = models.DateTimeField(help_text="When eventd sent it (its own clock).")
    received_at = models.DateTimeField(help_text="When a dispatcher applied it.")
    spool_depth = models.IntegerField(default=0, help_text="Messages waiting in eventd's spool (broker was unreachable).")
    published = models.BigIntegerField(default=0, help_text="Messages eventd published since it started.")

    def __str__(self) -> str:
        return f"{self.cluster} ({self.host})"
