import base64
import hashlib

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from entities.tokens import is_token, token_from_public_key


def test_token_matches_independent_derivation():
    # A fixed key, so the expected value below is computed independently of the code.
    raw = bytes(range(32))
    digest = hashlib.sha256(b"avatar-token/v1" + raw).digest()[:20]
    expected = base64.b32encode(digest).decode().lower().rstrip("=")
    assert token_from_public_key(raw) == expected
    assert len(expected) == 32 and is_token(expected)


def test_token_of_a_real_key_is_32_base32_chars():
    key = Ed25519PrivateKey.generate().public_key()
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    token = token_from_public_key(raw)
    assert is_token(token)
    assert set(token) <= set("abcdefghijklmnopqrstuvwxyz234567")


def test_is_token_rejects_near_misses():
    assert not is_token("A" * 32)
    assert not is_token("a" * 31)
    assert not is_token("a" * 31 + "1")
    assert not is_token(None)
