"""Networks servers attach to (the Neutron view); subnets, ports and pools are in :mod:`logic.models.neutron`."""

from __future__ import annotations

import uuid

from django.db import models


class Network(models.Model):
    """A network: the cloud's public network(s) (no project) or a project's own.

    ``ganeti_link``/``ganeti_mode`` are the NIC parameters a server's NIC on this
    network gets in Ganeti (e.g. bridged on ``br-gnt``); ``ganeti_network`` names a
    Ganeti network (with an IP pool) the NIC joins instead, when set.
    """

    class Mode(models.TextChoices):
        BRIDGED = "bridged"
        ROUTED = "routed"
        OPENVSWITCH = "openvswitch"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=255, blank=True, default="")
    description = models.CharField(max_length=255, blank=True, default="")
    project = models.ForeignKey(
        "logic.Project",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="networks",
        help_text="Owner; NULL for networks of the cloud (the public network).",
    )
    public = models.BooleanField(default=False, help_text="External network (router:external): every project may attach.")
    shared = models.BooleanField(default=False, help_text="Every project may attach (Neutron 'shared').")
    status = models.CharField(max_length=16, default="ACTIVE")
    admin_state_up = models.BooleanField(default=True)
    mtu = models.PositiveIntegerField(default=1500)
    ganeti_link = models.CharField(max_length=64, blank=True, default="")
    ganeti_mode = models.CharField(max_length=16, choices=Mode.choices, default=Mode.BRIDGED)
    ganeti_network = models.CharField(max_length=255, blank=True, default="", help_text="Ganeti network name, if any.")
    cidr = models.CharField(max_length=64, blank=True, default="", help_text="IPv4 subnet, e.g. 10.0.0.0/24 (if known).")
    gateway = models.GenericIPAddressField(null=True, blank=True)
    mac_prefix = models.CharField(
        max_length=8, blank=True, default="", help_text="First three octets of its ports' MACs (default: the setting)."
    )
    tags = models.JSONField(default=list, blank=True)
    revision_number = models.PositiveIntegerField(default=0)
    deleted = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["project", "deleted"]), models.Index(fields=["name"])]

    def __str__(self) -> str:
        return f"{self.name or self.id}"
