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
MAX_FEATURES = 16


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
    features: frozenset[str] = frozenset()  # extensions asked for (known or not)
    interest: float | None = None  # the radius of the `interest` extension

    def accepted(self, known: frozenset[str]) -> frozenset[str]:
        """The extensions granted: those asked for that this server knows."""
        return self.features & known

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
        features, interest = _extensions(args)
        try:
            Ed25519PublicKey.from_public_bytes(key).verify(sig, signed_message(domain_id, nonce))
        except (InvalidSignature, ValueError):
            raise AuthFailed("signature does not verify for this domain and challenge") from None
        token = token_from_public_key(key)
        return cls(token, name, invisible, tuple(credentials), features, interest)


def _extensions(args: dict[str, Any]) -> tuple[frozenset[str], float | None]:
    """`features` (a list of extension names) and, with `interest`, `interest_radius`."""
    features = args.get("features", [])
    if (
        not isinstance(features, list)
        or len(features) > MAX_FEATURES
        or not all(isinstance(f, str) and len(f) <= 64 for f in features)
    ):
        raise BadRequest(f"features must be a list of at most {MAX_FEATURES} names")
    radius = args.get("interest_radius")
    if "interest" not in features:
        if radius is not None:
            raise BadRequest("interest_radius needs the interest feature")
        return frozenset(features), None
    if isinstance(radius, bool) or not isinstance(radius, int | float) or not radius > 0:
        raise BadRequest("the interest feature needs interest_radius, a positive number")
    return frozenset(features), float(radius)
