"""Encryption of stored secrets (server passwords) at rest: Fernet
(AES-128-CBC with an HMAC-SHA256, a timestamp and a random IV per value), so
equal passwords never give equal ciphertexts and a tampered row fails to
decrypt instead of yielding garbage.

The key is settings.NETWORK_SECRET_KEY, a Fernet key (32 url-safe base64
bytes). When it is empty a key is derived from SECRET_KEY with HKDF-SHA256
(info "servicedesk network secrets"), so a single-machine install works
without configuration; `check --deploy` warns about that because rotating
SECRET_KEY would then make every stored secret unreadable. Once
NETWORK_SECRET_KEY is set, values stored earlier under the derived key still
decrypt (MultiFernet tries the configured key first, then the derived one);
new values always use the configured key. Nothing here logs: neither values
nor keys."""

from __future__ import annotations

import base64
import functools

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

__all__ = ["InvalidToken", "decrypt", "derived_key", "encrypt"]

HKDF_INFO = b"servicedesk network secrets"


def derived_key(secret_key: str) -> bytes:
    """The Fernet key derived from Django's SECRET_KEY (deterministic)."""
    raw = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=HKDF_INFO).derive(
        secret_key.encode()
    )
    return base64.urlsafe_b64encode(raw)


@functools.lru_cache(maxsize=4)
def _fernet(configured: str, secret_key: str) -> MultiFernet:
    # Cached per (key, SECRET_KEY) pair, so override_settings in tests and a
    # changed environment both get the right key.
    derived = Fernet(derived_key(secret_key))
    if not configured:
        return MultiFernet([derived])
    return MultiFernet([Fernet(configured.encode()), derived])


def fernet() -> MultiFernet:
    return _fernet(settings.NETWORK_SECRET_KEY, settings.SECRET_KEY)


def encrypt(value: str) -> bytes:
    return fernet().encrypt(value.encode())


def decrypt(token: bytes | memoryview) -> str:
    """Raises InvalidToken when the key is not the one the value was stored with."""
    return fernet().decrypt(bytes(token)).decode()
