"""The feed document: what a publisher renders verifies and reads back the same; a forged,
malformed or mis-signed one is refused with the reason."""

from __future__ import annotations

import json

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from permissions import FeedRefused, render_document, signature_value, verify_document

A, B = "a" * 32, "b" * 32
KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
RAW = KEY.public_key().public_bytes_raw()


def _signed(body: bytes) -> tuple[bytes, str]:
    return body, signature_value(KEY.sign(body))


def test_a_whole_list_round_trips_and_its_json_is_the_contract_shape():
    body, sig = _signed(render_document("d", 7, [(A, True, None), (B, True, 12.5)]))
    assert json.loads(body) == {
        "domain": "d",
        "serial": 7,
        "entries": [
            {"token": A, "banned": True, "expires_at": None},
            {"token": B, "banned": True, "expires_at": 12.5},
        ],
    }
    doc = verify_document(body, sig, RAW)
    assert (doc.domain, doc.serial, doc.since, doc.entries) == (
        "d", 7, None, ((A, True, None), (B, True, 12.5)),
    )


def test_a_delta_carries_lifts_and_says_since():
    body, sig = _signed(render_document("d", 9, [(A, False, None)], since=7))
    doc = verify_document(body, sig, RAW, asked_since=7)
    assert doc.is_delta and doc.entries == ((A, False, None),)
    # A whole list sent back for ?since= says "since": null and is read as a whole list.
    full = b'{"domain":"d","serial":9,"entries":[],"since":null}'
    assert not verify_document(*_signed(full), RAW, asked_since=7).is_delta


def test_a_forged_document_is_refused():
    body, sig = _signed(render_document("d", 1, [(A, True, None)]))
    other = Ed25519PrivateKey.generate()
    with pytest.raises(FeedRefused, match="does not verify"):
        verify_document(body.replace(b"true", b"false"), sig, RAW)
    with pytest.raises(FeedRefused, match="does not verify"):
        verify_document(body, signature_value(other.sign(body)), RAW)
    with pytest.raises(FeedRefused, match="no Domain-Signature"):
        verify_document(body, None, RAW)
    with pytest.raises(FeedRefused, match="ed25519 <base64>"):
        verify_document(body, "rsa abc", RAW)


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"not json", "not JSON"),
        (b"[]", "not a JSON object"),
        (b'{"domain":1,"serial":1,"entries":[]}', '"domain"'),
        (b'{"domain":"d","serial":-1,"entries":[]}', '"serial"'),
        (b'{"domain":"d","serial":true,"entries":[]}', '"serial"'),
        (b'{"domain":"d","serial":1,"entries":{}}', '"entries"'),
        (b'{"domain":"d","serial":1,"entries":[{"token":"x","banned":true}]}', "token"),
        (b'{"domain":"d","serial":1,"entries":[{"token":"' + A.encode() + b'","banned":1}]}',
         "banned"),
        (b'{"domain":"d","serial":1,"entries":[{"token":"' + A.encode()
         + b'","banned":true,"expires_at":"soon"}]}', "expires_at"),
        (b'{"domain":"d","serial":1,"entries":[{"token":"' + A.encode()
         + b'","banned":false,"expires_at":null}]}', "whole list"),
    ],
)
def test_malformed_documents_are_refused(body, reason):
    with pytest.raises(FeedRefused, match=reason):
        verify_document(*_signed(body), RAW)


def test_a_token_listed_twice_is_refused():
    body = render_document("d", 1, [(A, True, None), (A, True, 5.0)])
    with pytest.raises(FeedRefused, match="twice"):
        verify_document(*_signed(body), RAW)


entries = st.dictionaries(
    st.text("abcdefghijklmnopqrstuvwxyz234567", min_size=32, max_size=32),
    st.tuples(st.booleans(), st.one_of(st.none(), st.floats(0, 4e9, allow_nan=False))),
    max_size=8,
)


@settings(max_examples=100, deadline=None)
@given(entries, st.integers(0, 2**53))
def test_every_rendered_delta_reads_back_the_same(items, serial):
    rows = [(t, banned, exp) for t, (banned, exp) in items.items()]
    body, sig = _signed(render_document("dom", serial, rows, since=0))
    doc = verify_document(body, sig, RAW, asked_since=0)
    assert doc.serial == serial and list(doc.entries) == rows
