"""Rows every installation needs, created after each migrate."""

from __future__ import annotations


def ensure_default_domain(sender, using="default", **kwargs) -> None:
    """Keystone's ``default`` domain (users and projects belong to it unless told otherwise)."""
    from logic.models import Domain

    Domain.objects.using(using).get_or_create(id="default", defaults={"name": "Default"})
