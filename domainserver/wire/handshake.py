"""The hello (contract §2.1): prove a key, derive its token, admit or refuse it. Sans I/O."""

from __future__ import annotations

from typing import Any

import attrs
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from entities import token_from_public_key
from entities.errors import AuthFailed, BadRequest
from permissions import MAX_CREDENTIALS

__all__ = ["Hello", "signed_message", "MAX_NAME"]

MAX_NAME = 64


def signed_message(domain_id: str, nonce: bytes) -> bytes:
    """What a viewer signs to prove its key for this domain and this connection."""
    return b"domainserver-hello/v1\n" + domain_id.encode() + b"\n" + nonce


@attrs.frozen
class Hello:
    """A hello whose signature has been verified; `token` is derived here, never supplied."""

    token: str
    name: str
    invisible: bool
    credentials: tuple[bytes | str, ...]  # each the documented text form, or its bytes

    @classmethod
    def verify(cls, args: dict[str, Any], domain_id: str, nonce: bytes) -> Hello:
        key, sig, name = args.get("key"), args.get("sig"), args.get("name")
        invisible = args.get("invisible", False)
        credentials = args.get("credentials", [])
        if not isinstance(key, bytes) or len(key) != 32:
            raise AuthFailed("key must be 32 bytes of Ed25519 public key")
        if not isinstance(sig, bytes) or len(sig) != 64:
            raise AuthFailed("sig must be a 64-byte Ed25519 signature")
        if not isinstance(name, str) or not name or len(name) > MAX_NAME:
            raise BadRequest(f"name must be a non-empty string of at most {MAX_NAME} characters")
        if not isinstance(invisible, bool):
            raise BadRequest("invisible must be true or false")
        if (
            not isinstance(credentials, list)
            or len(credentials) > MAX_CREDENTIALS
            or not all(isinstance(c, bytes | str) for c in credentials)
        ):
            raise BadRequest(
                f"credentials must be a list of at most {MAX_CREDENTIALS} credentials, each "
                "the text `domainserver credential` printed (str) or the bytes it decodes to"
            )
        try:
            Ed25519PublicKey.from_public_bytes(key).verify(sig, signed_message(domain_id, nonce))
        except (InvalidSignature, ValueError):
            raise AuthFailed("signature does not verify for this domain and challenge") from None
        return cls(token_from_public_key(key), name, invisible, tuple(credentials))
