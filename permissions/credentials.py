"""Delegated groups: a group's signer vouches for a member with a signed, expiring credential
the visitor presents at hello, so group admins need no access to the permissions file."""

from __future__ import annotations

import base64
import binascii
import os
import time
from typing import TYPE_CHECKING

import attrs
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
    "CREDENTIAL_VERSION",
    "MAX_CREDENTIALS",
    "CredentialCheck",
    "issue_credential",
    "check_credentials",
    "verify_credentials",
    "credential_message",
    "credential_text",
    "credential_bytes",
    "generate_signer",
    "load_signer",
    "encode_public_key",
    "decode_public_key",
]

# v2 names the domain: a signer trusted by two domains issues a credential for one of them.
CREDENTIAL_VERSION = 2
CREDENTIAL_DOMAIN = b"domainserver-credential/v2\n"
_PREFIX = "ed25519:"
# A hello carries a handful of credentials; a hello with more is refused, bigger blobs are
# not read at all.
MAX_CREDENTIALS = 16
_MAX_BLOB = 1024
_NOT_ONE = (
    "is not a credential (send the text `domainserver credential` printed, as a string, "
    "or the bytes it base64-decodes to)"
)


def credential_message(domain: str, group: str, member: str, expires_at: int) -> bytes:
    """The exact bytes a (version 2) credential's signature covers."""
    return b"\n".join(
        (
            CREDENTIAL_DOMAIN.rstrip(b"\n"),
            domain.encode("utf-8"),
            group.encode("utf-8"),
            member.encode("utf-8"),
            str(expires_at).encode("ascii"),
        )
    )


def issue_credential(
    private_key: Ed25519PrivateKey, domain: str, group: str, member: str, expires_at: int
) -> bytes:
    """A credential saying `member` (a token) is in `group` of `domain` until unix time
    `expires_at`, as bytes (msgpack); `credential_text` gives its documented text form."""
    if isinstance(expires_at, bool) or not isinstance(expires_at, int):
        raise TypeError("expires_at is whole unix seconds")
    sig = private_key.sign(credential_message(domain, group, member, expires_at))
    return msgpack.packb(
        {
            "v": CREDENTIAL_VERSION,
            "domain": domain,
            "group": group,
            "member": member,
            "expires_at": expires_at,
            "sig": sig,
        },
        use_bin_type=True,
    )


def credential_text(blob: bytes) -> str:
    """The credential's one documented form: standard base64 of its bytes, one line."""
    return base64.b64encode(blob).decode("ascii")


def credential_bytes(value: object) -> bytes | None:
    """A credential as a viewer may send it (the text, or the bytes it decodes to) as bytes;
    None when it is neither."""
    if isinstance(value, bytes):
        return value
    if isinstance(value, str) and len(value) <= 2 * _MAX_BLOB:
        try:
            return base64.b64decode("".join(value.split()), validate=True)
        except (binascii.Error, ValueError):
            return None
    return None


@attrs.frozen
class CredentialCheck:
    """What a hello's credentials prove: the groups, until when (the earliest expiry among
    the credentials that count), and why each other one was refused."""

    groups: frozenset[str] = frozenset()
    expires_at: int | None = None
    refused: tuple[str, ...] = ()


def check_credentials(
    policy: Policy, blobs: list[bytes] | tuple[bytes, ...], token: str, now: float
) -> CredentialCheck:
    """Verify each credential in `blobs` for `token` at time `now`; never raises.

    A credential counts when it is version 2, names this policy's domain, was issued to
    `token`, has not expired, and is signed by the signer of a group this policy has."""
    if not isinstance(blobs, list | tuple):
        return CredentialCheck(refused=("credentials must be a list",))
    proven: dict[str, int] = {}
    refused: list[str] = []
    for i, blob in enumerate(blobs[:MAX_CREDENTIALS]):
        try:
            group, expires_at, reason = _verify_one(policy, blob, token, now)
        except Exception:  # a client's garbage must never break its hello
            group, expires_at, reason = None, 0, _NOT_ONE
        if group is not None:
            proven[group] = max(expires_at, proven.get(group, 0))
        else:
            refused.append(f"credential {i + 1} {reason}")
    return CredentialCheck(
        groups=frozenset(proven),
        expires_at=min(proven.values()) if proven else None,
        refused=tuple(refused),
    )


def verify_credentials(
    policy: Policy, blobs: list[bytes] | tuple[bytes, ...], token: str, now: float
) -> frozenset[str]:
    """Names of the groups the credentials in `blobs` prove `token` to be in at time `now`
    (the rest are ignored; `check_credentials` says why)."""
    return check_credentials(policy, blobs, token, now).groups


def _when(unix: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(unix))


def _verify_one(
    policy: Policy, blob: object, token: str, now: float
) -> tuple[str | None, int, str]:
    """(group, expires_at, "") for a credential that counts, else (None, 0, reason)."""
    raw = credential_bytes(blob)
    if raw is None or len(raw) > _MAX_BLOB:
        return None, 0, _NOT_ONE
    data = msgpack.unpackb(raw, raw=False, strict_map_key=True)
    if not isinstance(data, dict):
        return None, 0, _NOT_ONE
    if data.get("v") == 1:
        return None, 0, (
            "is a version 1 credential, which names no domain; ask the group's signer for a "
            "new one (`domainserver credential --domain ...`)"
        )
    if data.get("v") != CREDENTIAL_VERSION:
        return None, 0, f"has an unknown version {data.get('v')!r}"
    fields = [data.get(k) for k in ("domain", "group", "member", "expires_at", "sig")]
    domain, group, member, expires_at, sig = fields
    if not all(isinstance(f, str) for f in (domain, group, member)) or not (
        isinstance(sig, bytes) and len(sig) == 64
    ):
        return None, 0, "lacks one of domain, group, member, sig, or has the wrong type"
    if isinstance(expires_at, bool) or not isinstance(expires_at, int):
        return None, 0, "has no whole-seconds expires_at"
    if domain != policy.domain.id:
        return None, 0, f'is for domain "{domain}", not this one ("{policy.domain.id}")'
    if member != token:
        return None, 0, f"was issued to {member}, not to you ({token})"
    if expires_at <= now:
        return None, 0, f"expired at {_when(expires_at)}"
    spec = policy.groups.get(group)
    if spec is None:
        return None, 0, f'names group "{group}", which this domain does not have'
    if spec.signer is None:
        return None, 0, f'names group "{group}", which takes no credentials here (no signer)'
    try:
        decode_public_key(spec.signer).verify(
            sig, credential_message(domain, group, member, expires_at)
        )
    except InvalidSignature:
        return None, 0, f'is not signed by the signer of group "{group}"'
    return group, expires_at, ""


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
