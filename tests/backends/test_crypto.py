"""Encryption at rest of RAPI passwords (logic.crypto)."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from logic.crypto import SecretUnreadable, decrypt_secret, encrypt_secret, reencrypt_secret

SECRET = "tests-only-secret-key-0123456789abcdef0123456789"


def test_round_trip_with_key_derived_from_secret_key():
    token = encrypt_secret("ganeti-rapi-pass", current=SECRET)
    assert "ganeti-rapi-pass" not in token
    assert encrypt_secret("ganeti-rapi-pass", current=SECRET) != token  # random IV each time
    assert decrypt_secret(token, current=SECRET) == "ganeti-rapi-pass"


def test_explicit_fernet_key_or_passphrase():
    key = Fernet.generate_key().decode()
    token = encrypt_secret("pw", current=key)
    assert Fernet(key.encode()).decrypt(token.encode()) == b"pw"  # used as is, not re-derived
    assert decrypt_secret(encrypt_secret("pw", current="a long passphrase"), current="a long passphrase") == "pw"


def test_changed_key_is_a_clear_error_and_old_keys_allow_rotation(settings):
    token = encrypt_secret("pw", current="old key material")
    with pytest.raises(SecretUnreadable, match="RAPI_PASSWORD_OLD_KEYS"):
        decrypt_secret(token, current="new key material")
    assert decrypt_secret(token, current="new key material", old=["old key material"]) == "pw"

    settings.CYCLADES = {
        **settings.CYCLADES,
        "RAPI_PASSWORD_KEY": "new key material",
        "RAPI_PASSWORD_OLD_KEYS": ["old key material"],
    }
    rotated = reencrypt_secret(token)
    assert decrypt_secret(rotated, current="new key material", old=[]) == "pw"
