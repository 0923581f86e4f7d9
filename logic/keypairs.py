"""Keypairs: import a public key, or generate one server-side and hand the private key over once.

Fingerprints follow Nova: for SSH keys the MD5 of the decoded key blob as
colon-separated hex; for X.509 certificates the SHA-1 of the DER encoding.
Names allow ``[a-zA-Z0-9 _-]`` (plus ``@`` and ``.`` from microversion 2.92).
"""

from __future__ import annotations

import base64
import binascii
import datetime
import hashlib
import re

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from django.db import IntegrityError, transaction

from logic.errors import ConflictError, InvalidInput, NotFoundError, OverQuotaError, PolicyError
from logic.models import Keypair, User

TYPES = ("ssh", "x509")
_NAME = re.compile(r"^[a-zA-Z0-9 _-]+$")
_NAME_292 = re.compile(r"^[a-zA-Z0-9 @._-]+$")
MAX_LIMIT = 1000


def colon_hex(digest: bytes) -> str:
    return ":".join(f"{b:02x}" for b in digest)


def ssh_fingerprint(public_key: str) -> str:
    """MD5 fingerprint of an OpenSSH public key line; InvalidInput if it is not one."""
    parts = public_key.strip().split()
    if len(parts) < 2:
        raise InvalidInput("Keypair data is invalid: failed to generate fingerprint (not an OpenSSH public key)")
    try:
        serialization.load_ssh_public_key(" ".join(parts[:2]).encode())
        blob = base64.b64decode(parts[1], validate=True)
    except (ValueError, binascii.Error, TypeError) as exc:
        raise InvalidInput(f"Keypair data is invalid: failed to generate fingerprint ({exc})") from None
    except Exception as exc:  # cryptography raises UnsupportedAlgorithm for unknown key types
        raise InvalidInput(f"Keypair data is invalid: {type(exc).__name__}: {exc}") from None
    return colon_hex(hashlib.md5(blob, usedforsecurity=False).digest())


def x509_fingerprint(certificate_pem: str) -> str:
    """SHA-1 fingerprint of a PEM certificate; InvalidInput if it is not one."""
    try:
        cert = x509.load_pem_x509_certificate(certificate_pem.encode())
    except (ValueError, TypeError) as exc:
        raise InvalidInput(f"Keypair data is invalid: not a PEM X.509 certificate ({exc})") from None
    return colon_hex(cert.fingerprint(hashes.SHA1()))


def generate_ssh() -> tuple[str, str]:
    """A new RSA 2048 key: (private key PEM, OpenSSH public key line)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
    ).decode()
    public = key.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH).decode()
    return private, f"{public} Generated-by-Cyclades"


def generate_x509(common_name: str) -> tuple[str, str]:
    """A new RSA 2048 key and a self-signed certificate for it: (private key PEM, certificate PEM)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name[:64])])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=3650))
        .sign(key, hashes.SHA256())
    )
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
    ).decode()
    return private, cert.public_bytes(serialization.Encoding.PEM).decode()


def validate_name(name: object, *, extended: bool = False) -> str:
    if not isinstance(name, str) or not name.strip():
        raise InvalidInput("Keypair data is invalid: Keypair name must be a non-empty string.")
    if len(name) > 255:
        raise InvalidInput("Keypair data is invalid: Keypair name must be between 1 and 255 characters long.")
    if not (_NAME_292 if extended else _NAME).match(name):
        allowed = "letters, digits, spaces, '_', '-'" + (", '@', '.'" if extended else "")
        raise InvalidInput(f"Keypair data is invalid: Keypair name contains unsafe characters (allowed: {allowed}).")
    return name


def quota() -> int:
    """Keypairs a user may hold (``QUOTA_KEY_PAIRS``; -1 unlimited)."""
    from logic.limits import keypair_limit

    return keypair_limit()


def create(
    owner: User,
    name: object,
    *,
    public_key: object = None,
    key_type: object = "ssh",
    generate: bool = True,
    extended_names: bool = False,
) -> tuple[Keypair, str | None]:
    """Import ``public_key`` or (when ``generate`` and none is given) generate a key pair.

    Returns the keypair and the private key (only for a generated key; it is not stored).
    """
    name = validate_name(name, extended=extended_names)
    if key_type not in TYPES:
        raise InvalidInput(f"Invalid input for field/attribute type: {key_type!r} is not one of {', '.join(TYPES)}.")
    if public_key is not None and not isinstance(public_key, str):
        raise InvalidInput("Invalid input for field/attribute public_key: a string.")
    private_key = None
    if public_key is None:
        if not generate:
            raise InvalidInput("Invalid input: 'public_key' is a required property (key generation ended with 2.92).")
        if key_type == "x509":
            private_key, public_key = generate_x509(f"{owner.pk}")
        else:
            private_key, public_key = generate_ssh()
    if not public_key.strip():
        raise InvalidInput("Keypair data is invalid: the public key is empty.")
    fingerprint = x509_fingerprint(public_key) if key_type == "x509" else ssh_fingerprint(public_key)
    allowed = quota()
    if allowed >= 0 and Keypair.objects.filter(user=owner).count() >= allowed:
        raise OverQuotaError("Quota exceeded, too many key pairs.")
    if Keypair.objects.filter(user=owner, name=name).exists():
        raise ConflictError(f"Key pair '{name}' already exists.")
    try:
        with transaction.atomic():
            keypair = Keypair.objects.create(
                user=owner,
                name=name,
                public_key=public_key.strip(),
                fingerprint=fingerprint,
                type=key_type,
            )
    except IntegrityError:
        raise ConflictError(f"Key pair '{name}' already exists.") from None
    return keypair, private_key


def list_for(owner: User, *, limit: object = None, marker: object = None) -> tuple[list[Keypair], bool, int]:
    """A user's keypairs by name (then id), paged: (page, more, page size)."""
    keypairs = Keypair.objects.filter(user=owner).order_by("name", "id")
    if marker is not None:
        anchor = keypairs.filter(name=str(marker)).first()
        if anchor is None:
            raise InvalidInput(f"marker [{marker}] not found")
        keypairs = keypairs.filter(name__gt=anchor.name)
    size = MAX_LIMIT
    if limit is not None:
        try:
            size = int(str(limit))
        except ValueError:
            raise InvalidInput(f"Invalid limit {limit!r}: a non-negative integer.") from None
        if size < 0:
            raise InvalidInput(f"Invalid limit {limit!r}: a non-negative integer.")
        size = min(size, MAX_LIMIT)
    rows = list(keypairs[: size + 1])
    return rows[:size], len(rows) > size, size


def get(owner: User, name: str) -> Keypair:
    keypair = Keypair.objects.filter(user=owner, name=name).first()
    if keypair is None:
        raise NotFoundError(f"Keypair {name} not found for user {owner.pk}.")
    return keypair


def delete(owner: User, name: str) -> None:
    if Keypair.objects.filter(user=owner, name=name).delete()[0] == 0:
        raise NotFoundError(f"Keypair {name} not found for user {owner.pk}.")


def target_user(caller: User, is_admin: bool, user_id: object) -> User:
    """The owner a request acts on: the caller, or (admins only) ``user_id``."""
    if user_id in (None, "") or user_id == caller.pk:
        return caller
    if not is_admin:
        raise PolicyError("Policy doesn't allow acting on another user's keypairs.")
    user = User.objects.filter(pk=str(user_id)).first()
    if user is None:
        raise NotFoundError(f"User {user_id} could not be found.")
    return user
