"""Keys for tokens that Pledge hands out, each derived from the master key for one use only."""

from __future__ import annotations

import base64
import hashlib
import hmac

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


def derived_key(master_key: bytes, use: str) -> bytes:
    """A 32-byte key for ``use`` (HKDF-SHA256 of the master key), unrelated to any other."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=use.encode()).derive(
        master_key
    )


def sign(key: bytes, text: str, length: int = 16) -> str:
    """An HMAC-SHA256 of ``text`` under ``key``, cut to ``length`` bytes, in URL-safe base64."""
    digest = hmac.new(key, text.encode(), hashlib.sha256).digest()[:length]
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def signed_equal(key: bytes, text: str, signature: str, length: int = 16) -> bool:
    """Whether ``signature`` is :func:`sign` of ``text`` (compared in constant time)."""
    return hmac.compare_digest(sign(key, text, length), signature)


__all__ = ["derived_key", "sign", "signed_equal"]
