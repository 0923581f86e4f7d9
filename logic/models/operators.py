"""What operators add to the data model: suspensions, the state history usage is billed from, node tags."""

from __future__ import annotations

from django.db import models

from logic.enums import OperState


class ServerSuspension(models.Model):
    """An operator suspended a server (abuse, unpaid bill): it is stopped and its owner cannot start it.

    The row exists while the server is suspended; unsuspending deletes it.
    """

    server = models.OneToOneField("logic.Server", on_delete=models.CASCADE, related_name="suspension")
    reason = models.CharField(max_length=255)
    suspended_by = models.CharField(max_length=64, help_text="Id of the admin who suspended it.")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"server {self.server_id} suspended: {self.reason}"


class ServerStateRecord(models.Model):
    """One entry of a server's state history: from ``at`` on it was in ``operstate`` with this size.

    Written by the event pipeline (``logic.usage.history``) whenever an applied event
    changes a server's state or ends one of its jobs, with the size it then had;
    usage records (vCPU/RAM/disk-hours) are computed from consecutive entries.
    """

    server = models.ForeignKey("logic.Server", on_delete=models.CASCADE, related_name="state_records")
    project_id = models.CharField(max_length=64)
    user_id = models.CharField(max_length=64)
    at = models.DateTimeField(help_text="Event time of the change (Ganeti's clock).")
    operstate = models.CharField(max_length=16, choices=OperState.choices)
    flavor_id = models.BigIntegerField()
    vcpus = models.PositiveIntegerField()
    ram = models.PositiveIntegerField(help_text="MiB")
    disk = models.PositiveIntegerField(help_text="GiB")

    class Meta:
        indexes = [models.Index(fields=["server", "at"]), models.Index(fields=["project_id", "at"])]
        ordering = ["server", "at", "id"]


class NodeTag(models.Model):
    """This cloud's own tags on a Ganeti node (virtapi-style roles: hypervisor, storage, maintenance...).

    Ganeti's own roles (master, candidate, drained, offline) come from the RAPI;
    these are what the operator says the node is for, used by the Puppet ENC / Salt pillar.
    """

    backend = models.ForeignKey("logic.Backend", on_delete=models.CASCADE, related_name="node_tags")
    node = models.CharField(max_length=255)
    tag = models.CharField(max_length=64)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["backend", "node", "tag"], name="node_tag_unique")]
        ordering = ["backend", "node", "tag"]
