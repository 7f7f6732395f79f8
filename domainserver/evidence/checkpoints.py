"""Signed checkpoints of the room log, and the domain key's public text form: the message
that is signed and how to check it. Sans I/O; Ed25519 through `cryptography`."""

from __future__ import annotations

import base64
import binascii
from typing import Any

import attrs
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

__all__ = ["Checkpoint", "signed_message", "parse_key", "format_key", "CheckpointError"]

_PREFIX = "ed25519:"


class CheckpointError(ValueError):
    """A checkpoint or a key that is malformed."""


def format_key(raw: bytes) -> str:
    """`ed25519:` + base64 of the raw 32-byte public key (contract §3.3)."""
    return _PREFIX + base64.b64encode(raw).decode("ascii")


def parse_key(text: str) -> Ed25519PublicKey:
    """The public key of an `ed25519:<base64>` string; CheckpointError when malformed."""
    if not isinstance(text, str) or not text.startswith(_PREFIX):
        raise CheckpointError("a key is written ed25519:<base64 of 32 bytes>")
    try:
        raw = base64.b64decode(text[len(_PREFIX):], validate=True)
        return Ed25519PublicKey.from_public_bytes(raw)
    except (binascii.Error, ValueError):
        raise CheckpointError("a key is written ed25519:<base64 of 32 bytes>") from None


def signed_message(domain: str, size: int, root: bytes, at_ms: int) -> bytes:
    """The exact bytes a checkpoint's signature covers."""
    return (
        f"domainserver-log-checkpoint/v1\n{domain}\n{size}\n{root.hex()}\n{at_ms}\n"
    ).encode()


@attrs.frozen
class Checkpoint:
    """The domain's signed statement: the log had `size` records with this `root` at `at_ms`."""

    domain: str
    size: int
    root: bytes
    at_ms: int
    sig: bytes

    def message(self) -> bytes:
        return signed_message(self.domain, self.size, self.root, self.at_ms)

    def verifies(self, key: Ed25519PublicKey) -> bool:
        """Whether the signature is the domain key's over this checkpoint."""
        try:
            key.verify(self.sig, self.message())
        except InvalidSignature:
            return False
        return True

    def to_wire(self) -> dict[str, Any]:
        """As JSON: root as hex, signature as base64, time in unix seconds too."""
        return {
            "domain": self.domain,
            "size": self.size,
            "root": self.root.hex(),
            "at": self.at_ms / 1000,
            "at_ms": self.at_ms,
            "sig": base64.b64encode(self.sig).decode("ascii"),
        }

    @classmethod
    def from_wire(cls, raw: Any) -> Checkpoint:
        """From `to_wire`'s map; CheckpointError when anything is missing or malformed."""
        try:
            domain, size, at_ms = raw["domain"], raw["size"], raw["at_ms"]
            root = bytes.fromhex(raw["root"])
            sig = base64.b64decode(raw["sig"], validate=True)
        except (KeyError, TypeError, ValueError, binascii.Error):
            raise CheckpointError("checkpoint is malformed") from None
        if not isinstance(domain, str) or type(size) is not int or type(at_ms) is not int:
            raise CheckpointError("checkpoint is malformed")
        if size < 0 or len(root) != 32 or len(sig) != 64:
            raise CheckpointError("checkpoint is malformed")
        return cls(domain, size, root, at_ms, sig)
