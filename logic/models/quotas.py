"""Quota holdings (limit + usage counters per project, and per user in a project) and commissions.

Accounting follows the "commission with a serial" design: an action charges a
*commission* (a provisional charge) in the same transaction as its intent. A
positive delta raises ``pending_up`` (it counts against the limit at once); a
negative delta raises ``pending_down`` (the resource is not free until the job
ends). When the Ganeti job ends the commission is accepted (moved into
``committed``) or released (undone). So at every moment::

    committed - pending_down  <=  real usage  <=  committed + pending_up

and a charge is refused when ``committed + pending_up + delta > limit``.

Counters are changed only with the holding rows locked (``SELECT ... FOR
UPDATE`` in id order, see :mod:`logic.quotas`), so they are exact under
concurrency; they change in the same transaction as the action or event that
causes them, so a crash leaves either both or neither.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from logic.enums import CommissionState, QuotaResource


class QuotaHolding(models.Model):
    """Limit and usage of one resource for a project (``user`` NULL) or a user within a project.

    ``limit`` NULL means "the default": the QUOTA_* setting for a project row,
    unlimited for a user row. -1 is unlimited.
    """

    project = models.ForeignKey("logic.Project", on_delete=models.CASCADE, related_name="quota_holdings")
    user = models.ForeignKey("logic.User", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    resource = models.CharField(max_length=64, choices=QuotaResource.choices)
    limit = models.BigIntegerField(null=True, blank=True, help_text="NULL: the default; -1: unlimited.")
    committed = models.BigIntegerField(default=0, help_text="Usage confirmed by finished jobs.")
    pending_up = models.BigIntegerField(default=0, help_text="Sum of pending positive deltas (already counted).")
    pending_down = models.BigIntegerField(default=0, help_text="Sum of pending negative deltas, as a positive number.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["project", "resource"], condition=Q(user__isnull=True), name="quota_holding_unique_project"
            ),
            models.UniqueConstraint(
                fields=["project", "user", "resource"], condition=Q(user__isnull=False), name="quota_holding_unique_user"
            ),
        ]

    def __str__(self) -> str:
        scope = f"{self.project_id}/{self.user_id}" if self.user_id else self.project_id
        return f"{scope} {self.resource}: {self.committed}+{self.pending_up}-{self.pending_down} of {self.limit}"

    @property
    def in_use(self) -> int:
        """What counts against the limit: confirmed usage plus pending charges."""
        return self.committed + self.pending_up


class Commission(models.Model):
    """A provisional charge. ``id`` is its serial.

    ``deltas`` maps resource names to signed amounts. A server action's
    commission names its server, the action (a ``ServerTask`` value) and, once
    submitted, the Ganeti job that settles it. ``forced`` commissions were not
    checked against limits (reconciliation, jobs run outside the API).
    """

    project = models.ForeignKey("logic.Project", on_delete=models.CASCADE, related_name="commissions")
    user = models.ForeignKey("logic.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    deltas = models.JSONField()
    state = models.CharField(max_length=16, choices=CommissionState.choices, default=CommissionState.PENDING)
    reason = models.CharField(max_length=255)
    forced = models.BooleanField(default=False)
    server = models.ForeignKey("logic.Server", null=True, blank=True, on_delete=models.SET_NULL, related_name="commissions")
    action = models.CharField(max_length=32, blank=True, help_text="The server action (ServerTask) for server commissions.")
    job_id = models.BigIntegerField(null=True, blank=True, help_text="The Ganeti job whose end settles this commission.")
    request_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["server", "state"]),
            models.Index(fields=["project", "state"]),
            models.Index(fields=["state", "created_at"]),
        ]

    def __str__(self) -> str:
        return f"commission {self.id} {self.state} {self.deltas} ({self.reason})"

    @property
    def serial(self) -> int:
        return self.id
