"""Validation of server request fields and resolution of the flavors and images they name."""

from __future__ import annotations

import ipaddress
import secrets
import string
import uuid
from datetime import timedelta

from logic import images
from logic.errors import OverQuotaError
from logic.identity import AuthContext
from logic.models import Flavor, Image
from logic.servers.errors import Invalid, Missing

NAME_MAX = 255
METADATA_MAX_ITEMS = 128
METADATA_FIELD_MAX = 255
# How long a deleted server stays visible (as DELETED) on the Synnefo personality.
DELETED_VISIBLE_FOR = timedelta(hours=1)


def validate_name(name: object, *, what: str = "name") -> str:
    """A server name: a string of 1-255 characters, not starting or ending with whitespace."""
    if not isinstance(name, str):
        raise Invalid(f"Invalid input for field/attribute {what}: {name!r} is not a string.")
    if not name.strip():
        raise Invalid(f"Invalid input for field/attribute {what}: it must not be empty or only whitespace.")
    if len(name) > NAME_MAX:
        raise Invalid(f"Invalid input for field/attribute {what}: longer than {NAME_MAX} characters.")
    if name != name.strip():
        raise Invalid(f"Invalid input for field/attribute {what}: leading or trailing whitespace is not allowed.")
    if any(not ch.isprintable() for ch in name):
        raise Invalid(f"Invalid input for field/attribute {what}: control characters are not allowed.")
    return name


def validate_metadata(metadata: object, *, existing: int = 0) -> dict[str, str]:
    """Metadata: an object of string keys (1-255 chars) to string values (0-255 chars)."""
    if not isinstance(metadata, dict):
        raise Invalid("Invalid input for field/attribute metadata: it must be an object of strings.")
    for key, value in metadata.items():
        if not isinstance(key, str) or not key or len(key) > METADATA_FIELD_MAX:
            raise Invalid(f"Invalid metadata key {key!r}: it must be 1 to {METADATA_FIELD_MAX} characters.")
        if not isinstance(value, str):
            raise Invalid(f"Invalid metadata value for {key!r}: it must be a string.")
        if len(value) > METADATA_FIELD_MAX:
            raise Invalid(f"Invalid metadata value for {key!r}: longer than {METADATA_FIELD_MAX} characters.")
    if existing + len(metadata) > METADATA_MAX_ITEMS:
        # a quota in Nova's terms (metadata_items): 403, not 400
        raise OverQuotaError(f"Quota exceeded for metadata_items: a server may have at most {METADATA_MAX_ITEMS} items.")
    return dict(metadata)


def validate_description(value: object) -> str | None:
    """A server description: null or a string of at most 255 characters."""
    if value is not None and (not isinstance(value, str) or len(value) > 255):
        raise Invalid("Invalid input for field/attribute description: a string of at most 255 characters.")
    return value


def canonical_ip(value: object, version: int, *, what: str) -> str:
    """An access IP in canonical form ('' clears it); IPv6 per RFC 5952."""
    if value is None or value == "":
        return ""
    if not isinstance(value, str):
        raise Invalid(f"Invalid input for field/attribute {what}: {value!r} is not a string.")
    try:
        address = ipaddress.IPv4Address(value) if version == 4 else ipaddress.IPv6Address(value)
    except ValueError:
        raise Invalid(f"Invalid input for field/attribute {what}: {value!r} is not a valid IPv{version} address.") from None
    return str(address)


def parse_server_id(raw: str) -> int:
    """A server id from a URL: a positive integer, else no such server (404, never 400)."""
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 18:  # "²".isdigit() is True
        raise Missing(f"Instance {raw} could not be found.")
    return int(raw)


def reservation_id() -> str:
    """Nova's reservation id (``r-`` and 8 characters), shared by the servers of one create request."""
    alphabet = string.ascii_lowercase + string.digits
    return "r-" + "".join(secrets.choice(alphabet) for _ in range(8))


def generate_password(length: int = 16) -> str:
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(length))


def resolve_flavor(ctx: AuthContext, ref: object) -> Flavor:
    """The flavor a request names (id or link), usable by the caller; else 400."""
    text = ref_id(ref)
    flavor = None
    if text.isdigit() and len(text) < 18:
        flavor = Flavor.objects.filter(pk=int(text), disabled=False).first()
    if flavor is None or not (
        flavor.is_public or ctx.is_admin or flavor.projects.filter(pk=getattr(ctx.project, "pk", None)).exists()
    ):
        raise Invalid(f"Flavor {text} could not be found.")
    return flavor


def resolve_image(ctx: AuthContext, ref: object) -> Image:
    """The image a request names (uuid or link), visible to the caller and active; else 400."""
    text = ref_id(ref)
    try:
        image_id = uuid.UUID(text)
    except ValueError:
        raise Invalid(f"Invalid imageRef {text!r}: it must be an image id.") from None
    # Glance's visibility (owner, public/community, shared with the project as a member).
    image = images.visible(ctx).filter(pk=image_id).first()
    if image is None:
        raise Invalid(f"Image {text} could not be found.")
    if image.status != "active":
        raise Invalid(f"Image {text} is not active.")
    return image


def ref_id(ref: object) -> str:
    if isinstance(ref, bool) or not isinstance(ref, str | int):
        raise Invalid(f"Invalid reference {ref!r}: expected an id.")
    text = str(ref).strip()
    # a link (http://H/compute/v2.1/flavors/1) names the resource by its last segment
    return text.rstrip("/").rsplit("/", 1)[-1]
