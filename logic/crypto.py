"""Encryption at rest of secrets the product must read back (RAPI passwords).

Fernet (AES-128-CBC + HMAC-SHA256, from ``cryptography``) with a key that is:

* ``RAPI_PASSWORD_KEY`` when set: either a Fernet key (urlsafe base64 of 32
  bytes, as ``Fernet.generate_key()`` prints) or any passphrase, which is then
  stretched with HKDF;
* otherwise derived from ``SECRET_KEY`` with HKDF-SHA256 (a fixed, purpose-bound
  ``info`` so the derived key is useless for anything else).

Keys listed in ``RAPI_PASSWORD_OLD_KEYS`` still decrypt, so a key can be
rotated: set the new key, keep the old one there, run ``backend-modify --reencrypt``
(or re-set the passwords), then drop the old key.
"""

from __future__ import annotations

import base64
import binascii

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_INFO = b"cyclades rapi-password encryption v1"
_SALT = b"cyclades"


class SecretUnreadable(ValueError):
    """A stored secret cannot be decrypted with the configured keys (key changed?)."""


def _fernet_key(material: str) -> bytes:
    """``material`` itself if it is a Fernet key, else a key derived from it with HKDF."""
    try:
        raw = base64.urlsafe_b64decode(material.encode())
        if len(raw) == 32 and len(material) == 44:
            return material.encode()
    except (binascii.Error, ValueError):
        pass
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=_SALT, info=_INFO).derive(material.encode())
    return base64.urlsafe_b64encode(derived)


def _settings() -> tuple[str, list[str]]:
    from django.conf import settings

    conf = settings.CYCLADES
    current = conf.get("RAPI_PASSWORD_KEY") or conf["SECRET_KEY"]
    return current, list(conf.get("RAPI_PASSWORD_OLD_KEYS") or [])


def cipher(current: str | None = None, old: list[str] | None = None) -> MultiFernet:
    """The cipher: encrypts with the current key, decrypts with it or any old key."""
    if current is None:
        current, configured_old = _settings()
        old = configured_old if old is None else old
    return MultiFernet([Fernet(_fernet_key(current))] + [Fernet(_fernet_key(k)) for k in old or []])


def encrypt_secret(plain: str, **keys) -> str:
    """The ciphertext (ASCII) to store for ``plain``."""
    return cipher(**keys).encrypt(plain.encode()).decode("ascii")


def decrypt_secret(token: str, **keys) -> str:
    """The plain text of a stored secret; SecretUnreadable if no configured key opens it."""
    try:
        return cipher(**keys).decrypt(token.encode("ascii")).decode()
    except (InvalidToken, UnicodeError) as exc:
        raise SecretUnreadable(
            "stored secret cannot be decrypted: SECRET_KEY or RAPI_PASSWORD_KEY changed? "
            "(keep the previous key in RAPI_PASSWORD_OLD_KEYS)"
        ) from exc


def reencrypt_secret(token: str) -> str:
    """The same secret encrypted with the current key (for key rotation)."""
    return cipher().rotate(token.encode("ascii")).decode("ascii")
