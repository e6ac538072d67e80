"""Symmetric encryption for secrets at rest (bot tokens, API tokens).

Keys: ``FIELD_ENCRYPTION_KEY`` holds one or more comma-separated Fernet keys. The first one
encrypts; every one decrypts, which is what makes rotation possible (prepend a new key, run
``manage.py rotate_encryption_keys``, then drop the old key). With no key configured, one is
derived from ``JAMONO_SECRET_KEY`` with HKDF, so a fresh install is encrypted out of the box.
"""

from __future__ import annotations

import base64
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

CIPHERTEXT_PREFIX = "fernet:"


class DecryptionError(ValueError):
    """A stored secret cannot be decrypted with any configured key."""


def _derived_key(secret_key: str) -> bytes:
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"jamono-field-encryption", info=b"v1")
    return base64.urlsafe_b64encode(hkdf.derive(secret_key.encode()))


@lru_cache(maxsize=4)
def _fernet(keys: tuple[str, ...], secret_key: str) -> MultiFernet:
    try:
        raw_keys = [key.encode() for key in keys] or [_derived_key(secret_key)]
        return MultiFernet([Fernet(key) for key in raw_keys])
    except ValueError as exc:
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEY must be comma-separated Fernet keys "
            "(32 url-safe base64-encoded bytes each)"
        ) from exc


def fernet() -> MultiFernet:
    return _fernet(tuple(settings.FIELD_ENCRYPTION_KEYS), settings.SECRET_KEY)


def encrypt(plaintext: str) -> str:
    return CIPHERTEXT_PREFIX + fernet().encrypt(plaintext.encode()).decode()


def decrypt(ciphertext: str) -> str:
    if not ciphertext.startswith(CIPHERTEXT_PREFIX):
        raise DecryptionError("value is not a Jamono ciphertext")
    try:
        return fernet().decrypt(ciphertext.removeprefix(CIPHERTEXT_PREFIX).encode()).decode()
    except InvalidToken as exc:
        raise DecryptionError("no configured key decrypts this value") from exc


def rotate(ciphertext: str) -> str:
    """Re-encrypt with the current first key (decrypting with any configured key)."""
    token = ciphertext.removeprefix(CIPHERTEXT_PREFIX).encode()
    try:
        return CIPHERTEXT_PREFIX + fernet().rotate(token).decode()
    except InvalidToken as exc:
        raise DecryptionError("no configured key decrypts this value") from exc
