"""Delegated groups: a group's signer vouches for a member with a signed, expiring credential
the visitor presents at hello, so group admins need no access to the permissions file."""

from __future__ import annotations

import base64
import binascii
import os
from typing import TYPE_CHECKING

import msgpack
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

if TYPE_CHECKING:
    from permissions.model import Policy

__all__ = [
    "CREDENTIAL_DOMAIN",
    "MAX_CREDENTIALS",
    "issue_credential",
    "verify_credentials",
    "credential_message",
    "generate_signer",
    "load_signer",
    "encode_public_key",
    "decode_public_key",
]

CREDENTIAL_DOMAIN = b"domainserver-credential/v1\n"
_PREFIX = "ed25519:"
# A hello carries a handful of credentials; a hello with more is refused, bigger blobs are
# not read at all.
MAX_CREDENTIALS = 16
_MAX_BLOB = 1024


def credential_message(group: str, member: str, expires_at: int) -> bytes:
    """The exact bytes a credential's signature covers."""
    return (
        CREDENTIAL_DOMAIN
        + group.encode("utf-8")
        + b"\n"
        + member.encode("utf-8")
        + b"\n"
        + str(expires_at).encode("ascii")
    )


def issue_credential(
    private_key: Ed25519PrivateKey, group: str, member: str, expires_at: int
) -> bytes:
    """A credential saying `member` (a token) is in `group` until unix time `expires_at`."""
    if isinstance(expires_at, bool) or not isinstance(expires_at, int):
        raise TypeError("expires_at is whole unix seconds")
    sig = private_key.sign(credential_message(group, member, expires_at))
    return msgpack.packb(
        {"v": 1, "group": group, "member": member, "expires_at": expires_at, "sig": sig},
        use_bin_type=True,
    )


def verify_credentials(
    policy: Policy, blobs: list[bytes], token: str, now: float
) -> frozenset[str]:
    """Names of the groups the credentials in `blobs` prove `token` to be in at time `now`.

    Anything else (forged, expired, for another token, for an unknown group or a group with
    no signer, malformed, not bytes) is ignored; this never raises."""
    proven: set[str] = set()
    if not isinstance(blobs, list | tuple):
        return frozenset()
    for blob in blobs[:MAX_CREDENTIALS]:
        try:
            group = _verify_one(policy, blob, token, now)
        except Exception:  # a client's garbage must never break its hello
            group = None
        if group is not None:
            proven.add(group)
    return frozenset(proven)


def _verify_one(policy: Policy, blob: object, token: str, now: float) -> str | None:
    if not isinstance(blob, bytes) or len(blob) > _MAX_BLOB:
        return None
    data = msgpack.unpackb(blob, raw=False, strict_map_key=True)
    if not isinstance(data, dict) or data.get("v") != 1:
        return None
    group, member, expires_at, sig = (data.get(k) for k in ("group", "member", "expires_at", "sig"))
    if not (isinstance(group, str) and isinstance(member, str) and isinstance(sig, bytes)):
        return None
    if isinstance(expires_at, bool) or not isinstance(expires_at, int):
        return None
    if member != token or expires_at <= now or len(sig) != 64:
        return None
    spec = policy.groups.get(group)
    if spec is None or spec.signer is None:
        return None
    try:
        decode_public_key(spec.signer).verify(sig, credential_message(group, member, expires_at))
    except InvalidSignature:
        return None
    return group


# -- signer keys ---------------------------------------------------------------------------
def encode_public_key(public_key: Ed25519PublicKey) -> str:
    """The `signer = "ed25519:..."` form: base64url without padding of the raw 32 bytes."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return _PREFIX + base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def decode_public_key(value: str) -> Ed25519PublicKey:
    """Parse a `signer` value; ValueError when it is not an ed25519 public key."""
    if not isinstance(value, str) or not value.startswith(_PREFIX):
        raise ValueError('a signer starts with "ed25519:"')
    body = value[len(_PREFIX) :]
    if len(body) != 43 or not body.isascii() or "=" in body:
        raise ValueError("a signer holds 43 base64url characters after the prefix")
    try:
        raw = base64.urlsafe_b64decode(body + "=")
    except (binascii.Error, ValueError) as exc:
        raise ValueError("a signer is base64url") from exc
    if base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=") != body:
        raise ValueError("a signer is canonical base64url")
    return Ed25519PublicKey.from_public_bytes(raw)


def generate_signer(path: str | os.PathLike[str]) -> str:
    """Write a new Ed25519 private key (PEM, PKCS8, unencrypted, mode 0600) to `path`, which
    must not exist yet, and return its public key in the `signer` form."""
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    fd = os.open(os.fspath(path), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(pem)
    return encode_public_key(key.public_key())


def load_signer(path: str | os.PathLike[str]) -> Ed25519PrivateKey:
    """Read a signer's private key written by generate_signer; ValueError if it is not one."""
    with open(os.fspath(path), "rb") as f:
        data = f.read()
    key = serialization.load_pem_private_key(data, password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{os.fspath(path)} holds no Ed25519 private key")
    return key
