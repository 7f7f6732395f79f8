"""Shared fixtures for the permissions tests: deterministic tokens and signer keys."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from entities.tokens import token_from_public_key
from permissions import encode_public_key


@pytest.fixture
def tokens() -> list[str]:
    return [token_from_public_key(i.to_bytes(32, "big")) for i in range(1, 21)]


@pytest.fixture
def signer_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(bytes(range(32)))


@pytest.fixture
def other_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(bytes(range(1, 33)))


@pytest.fixture
def signer_pub(signer_key: Ed25519PrivateKey) -> str:
    return encode_public_key(signer_key.public_key())
