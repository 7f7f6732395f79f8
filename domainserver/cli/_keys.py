"""Reading key files for the CLI, with one clear sentence (never a traceback) when a file is
missing or holds something else."""

from __future__ import annotations

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from entities import token_from_public_key
from permissions import decode_public_key

__all__ = ["KeyProblem", "read_signer", "read_public_key", "token_of"]


class KeyProblem(Exception):
    """A key file that cannot be used, said in one sentence."""


def read_signer(path: str) -> Ed25519PrivateKey:
    """The Ed25519 private key in the PEM file at `path`."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as exc:
        raise KeyProblem(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError):
        raise KeyProblem(
            f"{path} is not an unencrypted PEM private key (make one with domainserver keygen)"
        ) from None
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyProblem(f"{path} holds a key that is not Ed25519")
    return key


def read_public_key(value: str) -> Ed25519PublicKey:
    """A public key from `ed25519:...` text, or from a private key file."""
    if value.startswith("ed25519:"):
        try:
            return decode_public_key(value)
        except ValueError as exc:
            raise KeyProblem(f"{value!r}: {exc}") from None
    return read_signer(value).public_key()


def token_of(key: Ed25519PublicKey) -> str:
    """The owner token this key has in every domain (contract §1)."""
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return token_from_public_key(raw)
