"""Users, projects (tenants), role memberships and tokens."""

from __future__ import annotations

import uuid

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.db import models

from logic.enums import Role


def new_id() -> str:
    """Keystone-style id: 32 hex characters."""
    return uuid.uuid4().hex


class Domain(models.Model):
    """A Keystone domain. There is one, ``default`` (name ``Default``)."""

    id = models.CharField(primary_key=True, max_length=64)
    name = models.CharField(max_length=255, unique=True)
    enabled = models.BooleanField(default=True)

    def __str__(self) -> str:
        return self.name


class UserManager(BaseUserManager):
    def create_user(self, name: str, password: str | None = None, **fields) -> User:
        user = self.model(name=name, **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user


class User(AbstractBaseUser):
    """A person or service account. The password is hashed with Django's hashers."""

    id = models.CharField(primary_key=True, max_length=64, default=new_id, editable=False)
    name = models.CharField(max_length=255)
    domain = models.ForeignKey(Domain, on_delete=models.PROTECT, default="default")
    email = models.EmailField(blank=True)
    enabled = models.BooleanField(default=True)
    is_admin = models.BooleanField(default=False, help_text="Cloud administrator: acts in every project.")
    created_at = models.DateTimeField(auto_now_add=True)

    USERNAME_FIELD = "name"
    objects = UserManager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["domain", "name"], name="user_unique_name_in_domain")]

    def __str__(self) -> str:
        return self.name


class Project(models.Model):
    """A tenant: owns servers, networks and quotas."""

    id = models.CharField(primary_key=True, max_length=64, default=new_id, editable=False)
    name = models.CharField(max_length=255)
    domain = models.ForeignKey(Domain, on_delete=models.PROTECT, default="default")
    description = models.TextField(blank=True)
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["domain", "name"], name="project_unique_name_in_domain")]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    """A user's role in a project."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.MEMBER)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "project"], name="membership_unique")]


class Token(models.Model):
    """An issued token. Only its SHA-256 is stored; the token itself is shown once."""

    class Kind(models.TextChoices):
        SESSION = "session"  # from a password/token login, expires
        API = "api"  # long-lived API token (Synnefo style)

    digest = models.CharField(primary_key=True, max_length=64)
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.SESSION)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="tokens")
    project = models.ForeignKey(Project, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    methods = models.JSONField(default=list)
    audit_id = models.CharField(max_length=32)
    issued_at = models.DateTimeField()
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked = models.BooleanField(default=False)
    description = models.CharField(max_length=255, blank=True)

    class Meta:
        indexes = [models.Index(fields=["user", "kind"])]


class LoginThrottle(models.Model):
    """Failed-login counter for one key (``user:<user id>``, ``user:<domain>/<name>`` typed, ``addr:<ip>``).

    Kept in the database so that every API process sees the same counts. A window
    starts at the first failure; once ``failures`` reaches the limit, logins for the
    key are refused until the window ends.
    """

    key = models.CharField(primary_key=True, max_length=300)
    failures = models.PositiveIntegerField(default=0)
    window_start = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"{self.key}: {self.failures}"
