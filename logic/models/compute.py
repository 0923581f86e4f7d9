"""What Nova's admin APIs show about placement: compute nodes (Ganeti nodes) and server groups."""

from __future__ import annotations

import uuid as uuidlib

from django.db import models


class ComputeNode(models.Model):
    """One Ganeti node of a backend, as Nova's hypervisor and its ``nova-compute`` service.

    Rows are created and refreshed from the cluster's node list (:mod:`logic.compute_nodes`);
    the figures shown come from the RAPI at every read. What this row adds is the operator's
    choice: a *disabled* (or *forced down*) service takes no new servers (see
    :mod:`logic.allocator`). ``pk`` is the id before microversion 2.53, ``uuid`` (the Ganeti
    node's own uuid) the hypervisor id from 2.53 and ``service_uuid`` the service's.
    """

    backend = models.ForeignKey("logic.Backend", on_delete=models.CASCADE, related_name="compute_nodes")
    name = models.CharField(max_length=255, help_text="Ganeti node name (Nova's host and hypervisor_hostname).")
    uuid = models.UUIDField(unique=True, help_text="The Ganeti node's uuid (the hypervisor id from 2.53).")
    service_uuid = models.UUIDField(unique=True, default=uuidlib.uuid4, editable=False)
    host_ip = models.CharField(max_length=45, blank=True, default="", help_text="Primary IP the cluster reported.")
    disabled = models.BooleanField(default=False)
    disabled_reason = models.CharField(max_length=255, null=True, blank=True)
    forced_down = models.BooleanField(default=False)
    present = models.BooleanField(default=True, help_text="False once the cluster no longer lists the node.")
    seen_at = models.DateTimeField(null=True, blank=True, help_text="When the cluster last listed the node.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["backend", "name"], name="compute_node_unique")]
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name

    @property
    def takes_servers(self) -> bool:
        return self.present and not (self.disabled or self.forced_down)


class ServerGroup(models.Model):
    """Nova's server group: servers that must share a node (affinity) or must not (anti-affinity)."""

    class Policy(models.TextChoices):
        AFFINITY = "affinity"
        ANTI_AFFINITY = "anti-affinity"
        SOFT_AFFINITY = "soft-affinity"
        SOFT_ANTI_AFFINITY = "soft-anti-affinity"

    uuid = models.UUIDField(unique=True, default=uuidlib.uuid4, editable=False)
    name = models.CharField(max_length=255)
    project = models.ForeignKey("logic.Project", on_delete=models.CASCADE, related_name="server_groups")
    user = models.ForeignKey("logic.User", on_delete=models.CASCADE, related_name="server_groups")
    policy = models.CharField(max_length=32, choices=Policy.choices)
    rules = models.JSONField(default=dict, blank=True, help_text="{max_server_per_host: N} (anti-affinity, 2.64).")
    members = models.ManyToManyField("logic.Server", blank=True, related_name="server_groups", through="ServerGroupMember")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.policy})"


class ServerGroupMember(models.Model):
    """A server in a group, with the Ganeti node it was placed on (what affinity is checked against)."""

    group = models.ForeignKey(ServerGroup, on_delete=models.CASCADE, related_name="memberships")
    server = models.ForeignKey("logic.Server", on_delete=models.CASCADE, related_name="group_memberships")
    node = models.CharField(max_length=255, blank=True, default="", help_text="Primary node chosen at creation.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["group", "server"], name="server_group_member_unique")]
        ordering = ["created_at", "id"]


class Aggregate(models.Model):
    """Nova's host aggregate: an administrator's named group of compute nodes, with metadata.

    Recorded and shown (``os-aggregates``); placement does not read it (see the README).
    """

    uuid = models.UUIDField(unique=True, default=uuidlib.uuid4, editable=False)
    name = models.CharField(max_length=255, unique=True)
    availability_zone = models.CharField(max_length=255, null=True, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    hosts = models.ManyToManyField(ComputeNode, blank=True, related_name="aggregates")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(null=True, blank=True, help_text="Last change (null until the first one), as in Nova.")

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name
