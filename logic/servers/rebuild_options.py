"""What a rebuild may change besides the image: the key pair (Nova 2.54), the user data (2.57), the hostname (2.90).

Neither reaches Ganeti (the key and the user data are for the metadata service and
config drive, never OS parameters): the rebuild records them on the server.
``key_name: null`` removes the key pair, as in Nova.
"""

from __future__ import annotations

from logic.identity import AuthContext
from logic.models import Keypair
from logic.servers import nova_options
from logic.servers.errors import Invalid

MAX_USER_DATA = 65535


def validate_user_data(value: object) -> str | None:
    """Base64 user data as a client sends it (at most 64 KiB), or None."""
    if value is not None and not isinstance(value, str):
        raise Invalid("Invalid input for field/attribute user_data: it must be a base64 string.")
    if value and len(value) > MAX_USER_DATA:
        raise Invalid(f"user_data is too large (max {MAX_USER_DATA} bytes).")
    return value


def resolve_keypair(ctx: AuthContext, name: object) -> Keypair:
    """The caller's key pair of that name; else 400."""
    keypair = Keypair.objects.filter(user=ctx.user, name=name).first() if isinstance(name, str) else None
    if keypair is None:
        raise Invalid(f"Invalid key_name provided: keypair {name!r} not found.")
    return keypair


def changes(ctx: AuthContext, spec: dict) -> dict:
    """The server fields a rebuild body's ``key_name`` and ``user_data`` set (validated; 400 otherwise)."""
    result: dict = {}
    if "key_name" in spec:
        keypair = None if spec["key_name"] is None else resolve_keypair(ctx, spec["key_name"])
        result["key_name"] = keypair.name if keypair else None
        result["key_data"] = keypair.public_key if keypair else None
    if "user_data" in spec:
        result["user_data"] = validate_user_data(spec["user_data"])
    if spec.get("hostname") is not None:
        result["hostname"] = nova_options.validate_hostname(spec["hostname"], fqdn=True)
    nova_options.validate_trusted_certificates(spec.get("trusted_image_certificates"))
    return result
