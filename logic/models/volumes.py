"""Block storage: volume types (a Ganeti disk template each) and volumes (Cinder v3).

A volume's Ganeti disk is named ``<GANETI_PREFIX>-vol-<id>``. A blank volume that was
never attached has no Ganeti storage yet (``has_disk`` false): Ganeti creates disks only
inside an instance, so the first attach creates it (ModifyInstance disk add) and a detach
keeps it as a Ganeti 3 detached disk, which the next attach picks up by its name.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

from logic.enums import JobStatus, VolumeAttachStatus, VolumeStatus, VolumeTask


class VolumeType(models.Model):
    """A Cinder volume type: which Ganeti disk template a volume of this type lives on.

    ``extra_specs`` are the admin's free-form key/values; the API shows ``disk_template``
    among them as well, and setting that key changes the template.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=255, unique=True)
    description = models.CharField(max_length=255, null=True, blank=True)
    disk_template = models.CharField(max_length=32, default="file")
    is_public = models.BooleanField(default=True)
    extra_specs = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.disk_template})"


class Volume(models.Model):
    """A block device a project owns, attachable to one server at a time.

    ``status`` is Cinder's. The API writes intents (``task`` with the job id, and the
    transitional status: attaching, detaching, extending, deleting); the outcome of a
    Ganeti job is applied by the one state-transition path for job events.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=255, null=True, blank=True)
    description = models.CharField(max_length=255, null=True, blank=True)
    project = models.ForeignKey("logic.Project", on_delete=models.PROTECT, related_name="volumes")
    user = models.ForeignKey("logic.User", on_delete=models.PROTECT, related_name="volumes")
    size = models.PositiveIntegerField(help_text="GiB")
    volume_type = models.ForeignKey(VolumeType, on_delete=models.PROTECT, related_name="volumes")
    status = models.CharField(max_length=16, choices=VolumeStatus.choices, default=VolumeStatus.CREATING)
    attach_status = models.CharField(max_length=16, choices=VolumeAttachStatus.choices, default=VolumeAttachStatus.DETACHED)
    availability_zone = models.CharField(max_length=255, default="nova")
    bootable = models.BooleanField(default=False)
    metadata = models.JSONField(default=dict, blank=True)

    # where it lives in Ganeti (no backend until the first attach creates the disk)
    backend = models.ForeignKey("logic.Backend", null=True, blank=True, on_delete=models.PROTECT, related_name="volumes")
    has_disk = models.BooleanField(default=False, help_text="Ganeti holds its disk (attached, or detached).")
    last_server = models.ForeignKey(
        "logic.Server",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The server it was last attached to (a detached disk is removed through it).",
    )
    delete_on_termination = models.BooleanField(default=False)
    snapshot = models.ForeignKey(
        "logic.VolumeSnapshot", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", help_text="Cloned from."
    )
    source_volid = models.UUIDField(null=True, blank=True, help_text="Copied from this volume.")
    image_ref = models.CharField(max_length=64, blank=True, default="", help_text="Created from this image.")
    server = models.ForeignKey(
        "logic.Server",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="volumes",
        help_text="The server it is attached (or being attached) to.",
    )
    device = models.CharField(max_length=64, null=True, blank=True, help_text="The device name shown to clients.")
    attachment_id = models.UUIDField(null=True, blank=True)
    attached_at = models.DateTimeField(null=True, blank=True)

    # the action in flight and the last Ganeti job applied
    task = models.CharField(max_length=16, choices=VolumeTask.choices, null=True, blank=True)
    task_job_id = models.BigIntegerField(null=True, blank=True)
    task_request_id = models.CharField(max_length=64, null=True, blank=True)
    task_commission = models.ForeignKey(
        "logic.Commission",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The quota charge the task's job settles.",
    )
    backend_job_id = models.BigIntegerField(null=True, blank=True)
    backend_jobstatus = models.CharField(max_length=16, choices=JobStatus.choices, null=True, blank=True)
    backend_eventtime = models.DateTimeField(null=True, blank=True)
    fault = models.JSONField(null=True, blank=True, help_text="{message, created} of the last failure.")

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    deleted_at = models.DateTimeField(null=True, blank=True)
    deleted = models.BooleanField(default=False)

    class Meta:
        indexes = [
            models.Index(fields=["project", "deleted", "created_at"]),
            models.Index(fields=["server", "deleted"]),
            models.Index(fields=["task_job_id"]),
        ]

    def __str__(self) -> str:
        return f"{self.name or ''} ({self.id})"

    @property
    def ganeti_name(self) -> str:
        """The Ganeti disk name (``<prefix>-vol-<id>``)."""
        return f"{settings.CYCLADES['GANETI_PREFIX']}-vol-{self.id}"


class VolumeSnapshot(models.Model):
    """A Cinder snapshot of a volume: on the ``ext`` template a protected RBD snapshot ``snap-<id>`` of its image.

    Templates without snapshots never get a row (the API answers 400). Counted by the
    ``snapshots`` quota; a volume with snapshots cannot be deleted.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    volume = models.ForeignKey(Volume, on_delete=models.PROTECT, related_name="snapshots")
    project = models.ForeignKey("logic.Project", on_delete=models.PROTECT, related_name="volume_snapshots")
    user = models.ForeignKey("logic.User", on_delete=models.PROTECT, related_name="volume_snapshots")
    name = models.CharField(max_length=255, null=True, blank=True)
    description = models.CharField(max_length=255, null=True, blank=True)
    size = models.PositiveIntegerField(help_text="GiB: the volume's size when taken")
    status = models.CharField(max_length=16, default="available")
    metadata = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    deleted_at = models.DateTimeField(null=True, blank=True)
    deleted = models.BooleanField(default=False)

    class Meta:
        indexes = [models.Index(fields=["project", "deleted", "created_at"])]

    def __str__(self) -> str:
        return f"{self.name or ''} ({self.id})"
