"""Owner tokens: the opaque, immutable identity every entity is stamped with (contract §1)."""

from __future__ import annotations

import base64
import hashlib
import re

__all__ = ["token_from_public_key", "is_token", "TOKEN_PATTERN", "TOKEN_SHAPE"]

TOKEN_PATTERN = re.compile(r"^[a-z2-7]{32}$")
TOKEN_SHAPE = "32 characters of a-z and 2-7"
_TOKEN_DOMAIN = b"avatar-token/v1"


def token_from_public_key(public_key_raw: bytes) -> str:
    """Derive the 32-character owner token from a raw 32-byte Ed25519 public key."""
    if len(public_key_raw) != 32:
        raise ValueError("an Ed25519 public key is 32 bytes")
    digest = hashlib.sha256(_TOKEN_DOMAIN + public_key_raw).digest()[:20]
    return base64.b32encode(digest).decode("ascii").lower().rstrip("=")


def is_token(value: object) -> bool:
    """True when `value` has the shape of an owner token (it may still be unknown)."""
    return isinstance(value, str) and TOKEN_PATTERN.fullmatch(value) is not None
