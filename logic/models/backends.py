"""Ganeti clusters, each one a backend that servers are placed on."""

from __future__ import annotations

from django.db import models


class Backend(models.Model):
    """One Ganeti cluster reached through its RAPI.

    ``drained``: no new servers are placed here. ``offline``: no RAPI call is made
    at all. Capacity figures are a cache refreshed from the cluster; the
    allocator reads them.
    """

    class Kind(models.TextChoices):
        GANETI = "ganeti", "Ganeti cluster"
        LIBVIRT = "libvirt", "libvirt host"

    name = models.CharField(max_length=255, unique=True, help_text="Ganeti cluster name.")
    kind = models.CharField(
        max_length=16, choices=Kind.choices, default=Kind.GANETI, help_text="Which driver serves this backend (logic.drivers)."
    )
    libvirt_uri = models.CharField(max_length=255, blank=True, default="", help_text="libvirt connection URI (kind libvirt).")
    libvirt_last_job_id = models.BigIntegerField(default=0, help_text="Last job id given to an operation (kind libvirt).")
    rapi_host = models.CharField(max_length=255)
    rapi_port = models.PositiveIntegerField(default=5080)
    rapi_user = models.CharField(max_length=64)
    rapi_password_encrypted = models.TextField(help_text="Encrypted with a key derived from settings.")
    rapi_certificate = models.TextField(blank=True, help_text="Pinned PEM certificate of the RAPI.")
    hypervisor = models.CharField(max_length=32, blank=True)
    disk_templates = models.JSONField(default=list)
    drained = models.BooleanField(default=False)
    offline = models.BooleanField(default=False)
    # cached capacity
    mem_total = models.BigIntegerField(default=0, help_text="MiB")
    mem_free = models.BigIntegerField(default=0, help_text="MiB")
    disk_total = models.BigIntegerField(default=0, help_text="MiB")
    disk_free = models.BigIntegerField(default=0, help_text="MiB")
    cpu_total = models.IntegerField(default=0)
    cpu_free = models.IntegerField(default=0, help_text="Virtual CPUs not yet allocated (ratio applied).")
    stats_updated_at = models.DateTimeField(null=True, blank=True)
    pinned_projects = models.ManyToManyField("logic.Project", blank=True, related_name="pinned_backends")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name

    @property
    def rapi_password(self) -> str:
        """The RAPI password, decrypted (``logic.crypto``); raises SecretUnreadable if the key changed."""
        from logic.crypto import decrypt_secret

        return decrypt_secret(self.rapi_password_encrypted)

    @rapi_password.setter
    def rapi_password(self, plain: str) -> None:
        from logic.crypto import encrypt_secret

        self.rapi_password_encrypted = encrypt_secret(plain)

    @property
    def usable(self) -> bool:
        """New servers may be placed here (online and not drained)."""
        return not (self.offline or self.drained)
