"""The domain key (contract §3.3): an Ed25519 key made on first start and kept beside the
database as `<db>.key`, readable by its owner only. It signs the room log's checkpoints."""

from __future__ import annotations

import hashlib
import hmac
import os
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from ..evidence.checkpoints import format_key

__all__ = ["DomainKey", "DomainKeyError", "key_path"]


class DomainKeyError(Exception):
    """The key file exists but cannot be used (unreadable, malformed, or open to others)."""


def key_path(db_path: str) -> Path | None:
    """Where the key of the database at `db_path` lives; None for an in-memory database."""
    if db_path in ("", ":memory:") or db_path.startswith("file::memory:"):
        return None
    return Path(db_path + ".key")


class DomainKey:
    """The private key, its public text form, and the keyed hash that hides reporters."""

    def __init__(self, private: Ed25519PrivateKey) -> None:
        self._private = private
        self.public: Ed25519PublicKey = private.public_key()
        raw = self.public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        self.public_raw = raw
        self.text = format_key(raw)
        seed = private.private_bytes(
            serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
            serialization.NoEncryption(),
        )  # fmt: skip
        self._hide = hashlib.sha256(b"domainserver-reporter/v1" + seed).digest()

    @classmethod
    def ephemeral(cls) -> DomainKey:
        """A key for a database that lives only in memory."""
        return cls(Ed25519PrivateKey.generate())

    @classmethod
    def load_or_create(cls, db_path: str) -> DomainKey:
        """The key beside the database, made now (mode 0600) if there is none yet."""
        path = key_path(db_path)
        if path is None:
            return cls.ephemeral()
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return cls.load(path)
        key = Ed25519PrivateKey.generate()
        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )  # fmt: skip
        with os.fdopen(fd, "wb") as f:
            f.write(pem)
            f.flush()
            os.fsync(f.fileno())
        return cls(key)

    @classmethod
    def load(cls, path: Path) -> DomainKey:
        """Read an existing key file; refuses one that others may read."""
        try:
            mode = path.stat().st_mode
            data = path.read_bytes()
        except OSError as exc:
            raise DomainKeyError(f"cannot read the domain key {path}: {exc}") from None
        if mode & 0o077:
            raise DomainKeyError(
                f"the domain key {path} is readable by others (mode {mode & 0o777:o}); "
                f"run: chmod 600 {path}"
            )
        try:
            key = serialization.load_pem_private_key(data, password=None)
        except ValueError:
            raise DomainKeyError(f"{path} is not a PEM private key") from None
        if not isinstance(key, Ed25519PrivateKey):
            raise DomainKeyError(f"{path} is not an Ed25519 private key")
        return cls(key)

    def sign(self, message: bytes) -> bytes:
        """An Ed25519 signature of `message` by the domain key."""
        return self._private.sign(message)

    def hide(self, token: str) -> bytes:
        """A keyed hash of a token: equal for equal tokens, meaningless without the key."""
        return hmac.new(self._hide, token.encode(), hashlib.sha256).digest()
