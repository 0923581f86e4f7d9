"""Flavors, servers and what hangs off a server (NICs, metadata, action log), keypairs."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

from logic.enums import DISKLESS, JobStatus, OperState, ServerTask


class Flavor(models.Model):
    """A server size. ``disk_template`` is the Ganeti disk template servers of this flavor use."""

    name = models.CharField(max_length=255, unique=True)
    vcpus = models.PositiveIntegerField()
    ram = models.PositiveIntegerField(help_text="MiB")
    disk = models.PositiveIntegerField(help_text="GiB")
    ephemeral = models.PositiveIntegerField(default=0, help_text="GiB")
    swap = models.PositiveIntegerField(default=0, help_text="MiB")
    disk_template = models.CharField(max_length=32, default=DISKLESS)
    is_public = models.BooleanField(default=True)
    disabled = models.BooleanField(default=False, help_text="Deleted flavors stay for the servers that use them.")
    description = models.TextField(null=True, blank=True)
    rxtx_factor = models.FloatField(default=1.0)
    extra_specs = models.JSONField(default=dict, blank=True)
    projects = models.ManyToManyField(
        "logic.Project", blank=True, related_name="flavors", help_text="Access to a private flavor."
    )

    def __str__(self) -> str:
        return self.name

    @property
    def has_disk(self) -> bool:
        """False for Ganeti's ``diskless`` template: no disk to size, allocate or reinstall."""
        return self.disk_template != DISKLESS


class Server(models.Model):
    """A VM. Its Ganeti instance is ``<GANETI_PREFIX>-<id>``.

    ``operstate`` is what Ganeti last reported; ``task`` is the action the API
    issued and is waiting for (with its job id). The state-transition function
    in ``logic.events`` is the only code that changes ``operstate``; the API only
    writes intents (task, task_job_id).
    """

    name = models.CharField(max_length=255)
    description = models.CharField(max_length=255, null=True, blank=True)
    user = models.ForeignKey("logic.User", on_delete=models.PROTECT, related_name="servers")
    project = models.ForeignKey("logic.Project", on_delete=models.PROTECT, related_name="servers")
    backend = models.ForeignKey("logic.Backend", null=True, blank=True, on_delete=models.PROTECT, related_name="servers")
    flavor = models.ForeignKey(Flavor, on_delete=models.PROTECT, related_name="servers")
    old_flavor = models.ForeignKey(
        Flavor,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Flavor before a resize (for revert).",
    )
    image = models.ForeignKey("logic.Image", null=True, blank=True, on_delete=models.SET_NULL, related_name="servers")
    key_name = models.CharField(max_length=255, null=True, blank=True)
    key_data = models.TextField(null=True, blank=True)
    user_data = models.TextField(null=True, blank=True, help_text="Never sent to Ganeti.")
    access_ipv4 = models.CharField(max_length=15, blank=True, default="")
    access_ipv6 = models.CharField(max_length=45, blank=True, default="")
    locked = models.BooleanField(default=False)
    locked_reason = models.CharField(max_length=255, null=True, blank=True)
    hostname = models.CharField(
        max_length=255, null=True, blank=True, help_text="Nova's hostname (2.90, FQDN from 2.94); None: the instance name."
    )
    pinned_availability_zone = models.CharField(
        max_length=255, null=True, blank=True, help_text="The availability zone the create asked for (Nova 2.96)."
    )
    scheduler_hints = models.JSONField(default=dict, blank=True, help_text="os:scheduler_hints of the create (Nova 2.100).")
    awaiting_resize_confirm = models.BooleanField(default=False)
    reservation_id = models.CharField(
        max_length=16, null=True, blank=True, help_text="Shared by the servers one create request made (Nova's r-xxxxxxxx)."
    )
    launch_index = models.PositiveSmallIntegerField(default=0, help_text="Position within its create request.")

    operstate = models.CharField(max_length=16, choices=OperState.choices, default=OperState.BUILD)
    task = models.CharField(max_length=16, choices=ServerTask.choices, null=True, blank=True)
    task_job_id = models.BigIntegerField(null=True, blank=True)
    task_request_id = models.CharField(max_length=64, null=True, blank=True)

    # the last Ganeti job applied
    backend_job_id = models.BigIntegerField(null=True, blank=True)
    backend_opcode = models.CharField(max_length=64, null=True, blank=True)
    backend_jobstatus = models.CharField(max_length=16, choices=JobStatus.choices, null=True, blank=True)
    backend_logmsg = models.TextField(null=True, blank=True)
    backendtime = models.DateTimeField(null=True, blank=True, help_text="Event time of the last applied event.")
    # Each group of fields the event pipeline writes remembers the event time it reflects,
    # so that late or duplicated events change nothing (see logic.events).
    backend_eventtime = models.DateTimeField(
        null=True, blank=True, help_text="Event time of the job status in backend_job_id/opcode/jobstatus/logmsg."
    )
    backend_reboot_type = models.CharField(
        max_length=8, null=True, blank=True, help_text="soft/hard when the job in backend_job_id is a reboot."
    )
    nics_synced_at = models.DateTimeField(null=True, blank=True, help_text="Event time of the NIC report applied.")
    flavor_synced_at = models.DateTimeField(null=True, blank=True, help_text="Event time of the beparams report applied.")
    build_percentage = models.PositiveSmallIntegerField(default=0)
    fault = models.JSONField(null=True, blank=True, help_text="{code, message, created} of the last failure.")

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    launched_at = models.DateTimeField(null=True, blank=True)
    terminated_at = models.DateTimeField(null=True, blank=True)
    deleted = models.BooleanField(default=False)

    class Meta:
        indexes = [
            models.Index(fields=["project", "deleted", "id"]),
            models.Index(fields=["backend", "deleted"]),
            models.Index(fields=["updated_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.id})"

    @property
    def ganeti_name(self) -> str:
        return f"{settings.CYCLADES['GANETI_PREFIX']}-{self.id}"


class ServerNIC(models.Model):
    """A server's network interface as Ganeti reports it (a Neutron port)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    server = models.ForeignKey(Server, on_delete=models.CASCADE, related_name="nics")
    index = models.PositiveSmallIntegerField()
    network_name = models.CharField(max_length=255, default="public")
    network_id = models.CharField(max_length=64, null=True, blank=True)
    mac = models.CharField(max_length=17, blank=True)
    ipv4 = models.GenericIPAddressField(protocol="IPv4", null=True, blank=True)
    ipv6 = models.GenericIPAddressField(protocol="IPv6", null=True, blank=True)
    link = models.CharField(max_length=64, blank=True)
    mode = models.CharField(max_length=16, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["server", "index"]
        constraints = [models.UniqueConstraint(fields=["server", "index"], name="nic_unique_index")]


class ServerMetadata(models.Model):
    """One key/value of a server's metadata."""

    server = models.ForeignKey(Server, on_delete=models.CASCADE, related_name="metadata")
    key = models.CharField(max_length=255)
    value = models.CharField(max_length=255)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["server", "key"], name="metadata_unique_key")]


class ServerTag(models.Model):
    """One tag of a server (Nova's server tags, microversion 2.26)."""

    server = models.ForeignKey(Server, on_delete=models.CASCADE, related_name="tags")
    tag = models.CharField(max_length=60)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["server", "tag"], name="tag_unique_per_server")]
        indexes = [models.Index(fields=["tag"])]


class ServerAction(models.Model):
    """The action log (os-instance-actions): what was asked, by whom, under which request id."""

    server = models.ForeignKey(Server, on_delete=models.CASCADE, related_name="actions")
    action = models.CharField(max_length=32)
    request_id = models.CharField(max_length=64)
    user_id = models.CharField(max_length=64)
    project_id = models.CharField(max_length=64)
    job_id = models.BigIntegerField(null=True, blank=True)
    start_time = models.DateTimeField(auto_now_add=True)
    finish_time = models.DateTimeField(null=True, blank=True)
    result = models.CharField(max_length=16, null=True, blank=True, help_text="Success or Error when finished.")
    message = models.TextField(null=True, blank=True)

    class Meta:
        ordering = ["-start_time", "-id"]
        indexes = [models.Index(fields=["server", "request_id"])]


class Keypair(models.Model):
    """An SSH public key of a user."""

    user = models.ForeignKey("logic.User", on_delete=models.CASCADE, related_name="keypairs")
    name = models.CharField(max_length=255)
    public_key = models.TextField()
    fingerprint = models.CharField(max_length=128)
    type = models.CharField(max_length=16, default="ssh")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "name"], name="keypair_unique_name")]
