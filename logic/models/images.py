"""The image registry (Glance v2 view); each image says how Ganeti deploys it."""

from __future__ import annotations

import uuid

from django.db import models


class Image(models.Model):
    """A bootable image: Glance fields plus the Ganeti OS definition and parameters."""

    class Visibility(models.TextChoices):
        PUBLIC = "public"
        PRIVATE = "private"
        SHARED = "shared"
        COMMUNITY = "community"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=255)
    status = models.CharField(max_length=32, default="active")
    disk_format = models.CharField(max_length=32, default="raw")
    container_format = models.CharField(max_length=32, default="bare")
    size = models.BigIntegerField(null=True, blank=True)
    min_disk = models.IntegerField(default=0, help_text="GiB")
    min_ram = models.IntegerField(default=0, help_text="MiB")
    visibility = models.CharField(max_length=16, choices=Visibility.choices, default=Visibility.PUBLIC)
    protected = models.BooleanField(default=False)
    owner = models.ForeignKey("logic.Project", null=True, blank=True, on_delete=models.SET_NULL, related_name="images")
    properties = models.JSONField(default=dict, blank=True)
    tags = models.JSONField(default=list, blank=True)
    ganeti_os = models.CharField(max_length=255, help_text="Ganeti OS definition, e.g. noop or snf-image+default.")
    ganeti_osparams = models.JSONField(default=dict, blank=True, help_text="OS parameters (never secrets).")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.name
