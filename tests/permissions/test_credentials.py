"""Delegated-group credentials: issue, verify, and every way a credential must be refused,
with its reason; a credential is bound to one domain."""

from __future__ import annotations

import os
import stat

import msgpack
import pytest
from hypothesis import given
from hypothesis import strategies as st

from permissions import (
    check_credentials,
    credential_bytes,
    credential_text,
    decode_public_key,
    encode_public_key,
    generate_signer,
    issue_credential,
    load_signer,
    verify_credentials,
)
from permissions.credentials import credential_message
from tests.permissions.policy_helpers import make_token, policy_from

NOW = 1_700_000_000
DOMAIN = "test"  # policy_from's domain id
ME = make_token(1)
OTHER = make_token(2)


@pytest.fixture
def policy(signer_pub):
    return policy_from(
        f"""
        [roles.builder]
        rez = "permanent"
        [groups.builders]
        role = "builder"
        signer = "{signer_pub}"
        [groups.plain]
        role = "builder"
        members = []
        """
    )


def test_valid_credential_proves_its_group(policy, signer_key):
    blob = issue_credential(signer_key, DOMAIN, "builders", ME, NOW + 60)
    assert verify_credentials(policy, [blob], ME, NOW) == {"builders"}
    assert policy.grant_for(ME, frozenset({"builders"})).role.name == "builder"


def test_wire_format(signer_key):
    blob = issue_credential(signer_key, DOMAIN, "builders", ME, NOW)
    data = msgpack.unpackb(blob, raw=False)
    assert set(data) == {"v", "domain", "group", "member", "expires_at", "sig"}
    assert data["v"] == 2 and data["domain"] == DOMAIN and data["group"] == "builders"
    assert data["member"] == ME and data["expires_at"] == NOW
    assert isinstance(data["sig"], bytes) and len(data["sig"]) == 64
    message = (
        b"domainserver-credential/v2\ntest\nbuilders\n" + ME.encode() + b"\n" + str(NOW).encode()
    )
    assert credential_message(DOMAIN, "builders", ME, NOW) == message
    signer_key.public_key().verify(data["sig"], message)


def test_text_form_is_base64_and_is_accepted_like_the_bytes(policy, signer_key):
    blob = issue_credential(signer_key, DOMAIN, "builders", ME, NOW + 60)
    text = credential_text(blob)
    assert text.isascii() and "\n" not in text and credential_bytes(text) == blob
    assert credential_bytes(text[:20] + "\n" + text[20:]) == blob  # a wrapped paste
    check = check_credentials(policy, [text], ME, NOW)
    assert check.groups == {"builders"} and check.expires_at == NOW + 60 and check.refused == ()


def test_a_credential_is_bound_to_its_domain(policy, signer_key):
    elsewhere = issue_credential(signer_key, "other.domain", "builders", ME, NOW + 60)
    check = check_credentials(policy, [elsewhere], ME, NOW)
    assert check.groups == frozenset()
    assert check.refused == ('credential 1 is for domain "other.domain", not this one ("test")',)
    # Moving it to this domain breaks its signature.
    moved = _resigned(elsewhere, domain=DOMAIN)
    assert "not signed by the signer" in check_credentials(policy, [moved], ME, NOW).refused[0]


def test_version_1_credentials_are_refused_with_the_way_out(policy, signer_key):
    v1 = msgpack.packb({"v": 1, "group": "builders", "member": ME, "expires_at": NOW + 60,
                        "sig": b"s" * 64}, use_bin_type=True)
    (reason,) = check_credentials(policy, [v1], ME, NOW).refused
    assert "version 1" in reason and "--domain" in reason


@pytest.mark.parametrize(
    "make, reason",
    [
        (lambda k, o: issue_credential(o, DOMAIN, "builders", ME, NOW + 60), "not signed by"),
        (lambda k, o: issue_credential(k, DOMAIN, "builders", ME, NOW - 1),
         "expired at 2023-11-14T22:13:19Z"),
        (lambda k, o: issue_credential(k, DOMAIN, "builders", OTHER, NOW + 60),
         f"was issued to {OTHER}, not to you ({ME})"),
        (lambda k, o: issue_credential(k, DOMAIN, "nosuch", ME, NOW + 60),
         'group "nosuch", which this domain does not have'),
        (lambda k, o: issue_credential(k, DOMAIN, "plain", ME, NOW + 60), "no signer"),
        (lambda k, o: b"garbage", "is not a credential"),
        (lambda k, o: "not base64 !", "is not a credential"),
    ],
)
def test_each_refusal_says_why(policy, signer_key, other_key, make, reason):
    (said,) = check_credentials(policy, [make(signer_key, other_key)], ME, NOW).refused
    assert said.startswith("credential 1 ") and reason in said


def test_the_earliest_expiry_of_the_credentials_that_count(policy, signer_key):
    wider = policy_from(
        f"""
        [groups.builders]
        role = "visitor"
        signer = "{encode_public_key(signer_key.public_key())}"
        [groups.painters]
        role = "visitor"
        signer = "{encode_public_key(signer_key.public_key())}"
        """
    )
    blobs = [
        issue_credential(signer_key, DOMAIN, "builders", ME, NOW + 100),
        issue_credential(signer_key, DOMAIN, "painters", ME, NOW + 50),
        issue_credential(signer_key, DOMAIN, "builders", ME, NOW + 10),
    ]
    check = check_credentials(wider, blobs, ME, NOW)
    # painters lasts until +50; builders until +100 (its longest credential counts)
    assert check.groups == {"builders", "painters"} and check.expires_at == NOW + 50


def _resigned(blob: bytes, **changes) -> bytes:
    data = msgpack.unpackb(blob, raw=False)
    data.update(changes)
    return msgpack.packb(data, use_bin_type=True)


def cred(key, group, member, expires_at):
    return issue_credential(key, DOMAIN, group, member, expires_at)


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda k, o: cred(o, "builders", ME, NOW + 60), id="forged"),
        pytest.param(lambda k, o: cred(k, "builders", ME, NOW), id="expired-now"),
        pytest.param(lambda k, o: cred(k, "builders", ME, NOW - 1), id="expired"),
        pytest.param(
            lambda k, o: cred(k, "builders", OTHER, NOW + 60), id="wrong-member"
        ),
        pytest.param(lambda k, o: cred(k, "nosuch", ME, NOW + 60), id="unknown-group"),
        pytest.param(lambda k, o: cred(k, "plain", ME, NOW + 60), id="group-no-signer"),
        pytest.param(
            lambda k, o: _resigned(
                cred(k, "builders", ME, NOW + 60), expires_at=NOW + 9999
            ),
            id="extended-expiry",
        ),
        pytest.param(
            lambda k, o: _resigned(cred(k, "builders", OTHER, NOW + 60), member=ME),
            id="member-swapped",
        ),
        pytest.param(
            lambda k, o: _resigned(cred(k, "builders", ME, NOW + 60), v=3), id="version"
        ),
        pytest.param(
            lambda k, o: _resigned(cred(k, "builders", ME, NOW + 60), expires_at=True),
            id="bool-expiry",
        ),
        pytest.param(
            lambda k, o: _resigned(cred(k, "builders", ME, NOW + 60), sig="x" * 64),
            id="sig-not-bytes",
        ),
        pytest.param(lambda k, o: b"\xff\x00garbage", id="garbage"),
        pytest.param(lambda k, o: b"", id="empty"),
        pytest.param(lambda k, o: msgpack.packb([1, 2, 3]), id="not-a-map"),
        pytest.param(lambda k, o: msgpack.packb({1: 2}), id="int-keys"),
        pytest.param(lambda k, o: "a string", id="text-not-base64"),
        pytest.param(lambda k, o: 42, id="not-bytes"),
        pytest.param(lambda k, o: None, id="none"),
        pytest.param(lambda k, o: b"\x00" * 5000, id="oversized"),
    ],
)
def test_refused_credentials_are_ignored(policy, signer_key, other_key, make):
    assert verify_credentials(policy, [make(signer_key, other_key)], ME, NOW) == frozenset()


def test_bad_blobs_do_not_hide_good_ones(policy, signer_key, other_key):
    blobs = [b"junk", issue_credential(other_key, DOMAIN, "builders", ME, NOW + 5)]
    blobs.append(issue_credential(signer_key, DOMAIN, "builders", ME, NOW + 5))
    assert verify_credentials(policy, blobs, ME, NOW) == {"builders"}


def test_blobs_not_a_list(policy):
    assert verify_credentials(policy, "nope", ME, NOW) == frozenset()  # type: ignore[arg-type]


def test_replaced_signer_invalidates_old_credentials(policy, signer_key, other_key):
    blob = issue_credential(signer_key, DOMAIN, "builders", ME, NOW + 60)
    rotated = policy_from(
        f"""
        [groups.builders]
        role = "visitor"
        signer = "{encode_public_key(other_key.public_key())}"
        """
    )
    assert verify_credentials(rotated, [blob], ME, NOW) == frozenset()


@given(garbage=st.binary(max_size=300))
def test_garbage_never_raises(garbage):
    policy = policy_from('[groups.g]\nrole = "visitor"\nsigner = "ed25519:' + "A" * 43 + '"\n')
    assert verify_credentials(policy, [garbage], ME, NOW) == frozenset()


def test_generate_and_load_signer(tmp_path, signer_key):
    path = tmp_path / "signer.pem"
    public = generate_signer(path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert path.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
    key = load_signer(path)
    assert encode_public_key(key.public_key()) == public
    assert public.startswith("ed25519:") and len(public) == len("ed25519:") + 43
    policy = policy_from(f'[groups.g]\nrole = "visitor"\nsigner = "{public}"\n')
    blob = issue_credential(key, DOMAIN, "g", ME, NOW + 1)
    assert verify_credentials(policy, [blob], ME, NOW) == {"g"}


def test_generate_signer_never_overwrites(tmp_path):
    path = tmp_path / "signer.pem"
    path.write_text("precious")
    with pytest.raises(FileExistsError):
        generate_signer(path)
    assert path.read_text() == "precious"


def test_load_signer_refuses_other_keys(tmp_path):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    path = tmp_path / "ec.pem"
    path.write_bytes(pem)
    with pytest.raises(ValueError):
        load_signer(path)


def test_public_key_round_trip(signer_key):
    text = encode_public_key(signer_key.public_key())
    assert encode_public_key(decode_public_key(text)) == text


@pytest.mark.parametrize(
    "value",
    [
        "",
        "ed25519:",
        "ed25519:" + "A" * 42,
        "ed25519:" + "A" * 44,
        "ed25519:" + "+" * 43,
        "ED25519:" + "A" * 43,
        "ed25519:" + "A" * 42 + "=",
        "ed25519:" + "A" * 42 + "B",
    ],
)
def test_decode_public_key_refuses(value):
    with pytest.raises(ValueError):
        decode_public_key(value)


def test_issue_credential_wants_whole_seconds(signer_key):
    with pytest.raises(TypeError):
        issue_credential(signer_key, DOMAIN, "g", ME, NOW + 0.5)  # type: ignore[arg-type]
