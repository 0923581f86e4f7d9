"""Deploying an uploaded image onto a Ganeti instance's disk: one-time, expiring fetch grants.

The Ganeti OS definition ``cyclades-image`` (``conf/ganeti-os/``, installed by
``cyclades-manage ganeti-os-install``) fetches the image's data at create and rebuild.
It gets only non-secret OS parameters: the image id, its SHA-512 and size, the API's
base URL and the id of a *grant*. To fetch, the node signs the grant id with the
fetch key (``IMAGE_FETCH_KEY_FILE``, a file on API and Ganeti nodes, never an OS
parameter); the API serves the data once per grant, before the grant expires
(``IMAGE_FETCH_TTL``). So what Ganeti stores and logs (its configuration, job files)
holds no secret, and a leaked grant id is worthless.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import secrets
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from logic.errors import InvalidInput, PolicyError
from logic.image_data import Download, open_image
from logic.models import Image, ImageFetchGrant

log = logging.getLogger(__name__)


def uses_fetch(image: Image) -> bool:
    """Whether the image is deployed by fetching its uploaded data (rather than by an OS definition's own means)."""
    return bool(image.location) and image.ganeti_os.split("+", 1)[0] == "cyclades-image"


def grant_hash(grant: str) -> str:
    """What is stored of a grant id (SHA-256, hex): the id itself is never kept."""
    return hashlib.sha256(grant.encode()).hexdigest()


def fetch_key() -> bytes:
    """The shared fetch key (``IMAGE_FETCH_KEY_FILE``)."""
    path = settings.CYCLADES["IMAGE_FETCH_KEY_FILE"]
    try:
        key = Path(path).read_bytes().strip()
    except OSError as exc:
        raise InvalidInput(f"IMAGE_FETCH_KEY_FILE {path}: {exc.strerror} (run cyclades-manage ganeti-os-install)") from None
    if len(key) < 32:
        raise InvalidInput(f"IMAGE_FETCH_KEY_FILE {path}: the key is too short")
    return key


def ensure_key_file(path: str | Path) -> bool:
    """Create the fetch key file (mode 0600) if missing; True if created. Never replaces a key."""
    path = Path(path)
    if path.exists():
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(secrets.token_hex(32) + "\n")
    return True


def sign(grant: str, key: bytes | None = None) -> str:
    """The signature a node sends with a fetch (HMAC-SHA256 of the grant id, hex)."""
    return hmac.new(key or fetch_key(), grant.encode(), hashlib.sha256).hexdigest()


def fetch_base_url() -> str:
    return (settings.CYCLADES.get("IMAGE_FETCH_URL") or settings.CYCLADES["PUBLIC_URL"]).rstrip("/")


def deploy_osparams(image: Image, *, purpose: str) -> dict[str, str]:
    """OS parameters for writing ``image`` onto a new or rebuilt instance: a fresh grant, nothing secret."""
    if image.status != "active" or not image.location:
        raise InvalidInput(f"Image {image.pk} has no data to deploy.")
    fetch_key()  # refuse before Ganeti gets a job that could not fetch
    grant = secrets.token_urlsafe(24)
    ttl = int(settings.CYCLADES.get("IMAGE_FETCH_TTL", 3600))
    ImageFetchGrant.objects.create(
        token_hash=grant_hash(grant), image=image, purpose=purpose[:255], expires_at=timezone.now() + timedelta(seconds=ttl)
    )
    return {
        "img_id": str(image.pk),
        "img_url": fetch_base_url(),
        "img_grant": grant,
        "img_sha512": image.os_hash_value or "",
        "img_size": str(image.size or 0),
    }


def redeem(grant: str, signature: str | None) -> Download:
    """The data a grant allows, once: PolicyError (and the grant untouched) for a bad signature or a used/expired grant."""
    if not signature or not hmac.compare_digest(sign(grant), signature):
        raise PolicyError("Invalid fetch signature.")
    now = timezone.now()
    fetches = ImageFetchGrant.objects.filter(token_hash=grant_hash(grant)).exclude(
        Q(purpose__startswith="upload:") | Q(purpose__startswith="personalise:")
    )
    row = fetches.select_related("image").first()
    used = fetches.filter(Q(used_at__isnull=True) & Q(expires_at__gt=now))
    if row is None or used.update(used_at=now) != 1:
        raise PolicyError("This fetch grant is unknown, expired or already used.")
    if row.image.status != "active" or not row.image.location:
        raise PolicyError(f"Image {row.image_id} is not active.")
    log.info("image %s fetched for %s", row.image_id, row.purpose)
    return open_image(row.image)


def purge_expired(before: timedelta = timedelta(days=1)) -> int:
    """Delete grants that expired more than ``before`` ago; returns how many."""
    deleted, _ = ImageFetchGrant.objects.filter(expires_at__lt=timezone.now() - before).delete()
    return deleted
