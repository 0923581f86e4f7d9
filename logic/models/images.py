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
    disk_format = models.CharField(max_length=32, null=True, blank=True, default="raw")
    container_format = models.CharField(max_length=32, null=True, blank=True, default="bare")
    size = models.BigIntegerField(null=True, blank=True)
    min_disk = models.IntegerField(default=0, help_text="GiB")
    min_ram = models.IntegerField(default=0, help_text="MiB")
    visibility = models.CharField(max_length=16, choices=Visibility.choices, default=Visibility.PUBLIC)
    protected = models.BooleanField(default=False)
    owner = models.ForeignKey("logic.Project", null=True, blank=True, on_delete=models.SET_NULL, related_name="images")
    properties = models.JSONField(default=dict, blank=True)
    tags = models.JSONField(default=list, blank=True)
    checksum = models.CharField(max_length=32, null=True, blank=True, help_text="MD5 of the data (hex).")
    os_hash_algo = models.CharField(max_length=16, null=True, blank=True)
    os_hash_value = models.CharField(max_length=128, null=True, blank=True, help_text="SHA-512 of the data (hex).")
    store = models.CharField(max_length=16, blank=True, default="", help_text="Store holding the data (file, rbd); empty: none.")
    location = models.CharField(max_length=1024, blank=True, default="", help_text="Where the store keeps the data.")
    ganeti_os = models.CharField(max_length=255, help_text="Ganeti OS definition, e.g. noop or snf-image+default.")
    ganeti_osparams = models.JSONField(default=dict, blank=True, help_text="OS parameters (never secrets).")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.name


class ImageMember(models.Model):
    """A project an image owner shared a ``shared`` image with; the member accepts or rejects it."""

    class Status(models.TextChoices):
        PENDING = "pending"
        ACCEPTED = "accepted"
        REJECTED = "rejected"

    image = models.ForeignKey(Image, on_delete=models.CASCADE, related_name="members")
    member = models.CharField(max_length=64, help_text="The project id the image is shared with.")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["image", "member"], name="image_member_unique")]

    def __str__(self) -> str:
        return f"{self.image_id} -> {self.member} ({self.status})"


class ImageFetchGrant(models.Model):
    """A one-time, expiring permission to read one image's data (used by the Ganeti OS definition).

    Only the SHA-256 of the token is stored; the token itself goes to the instance's
    OS script and is worthless once used or expired.
    """

    token_hash = models.CharField(max_length=64, unique=True)
    image = models.ForeignKey(Image, on_delete=models.CASCADE, related_name="fetch_grants")
    purpose = models.CharField(max_length=255, blank=True, default="")
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    payload = models.JSONField(
        null=True, blank=True, help_text="A personalisation grant's files (logic.personalisation); wiped when fetched."
    )

    def __str__(self) -> str:
        return f"grant for {self.image_id} ({self.purpose})"
