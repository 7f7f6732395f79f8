"""The evidence package, sans I/O: the Merkle tree agrees with RFC 9162, range and
consistency proofs hold exactly for the tree they came from, and a bundle check names what
was done to it."""

from __future__ import annotations

import copy
import hashlib

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from hypothesis import given, settings
from hypothesis import strategies as st

from domainserver.evidence import (
    Checkpoint,
    CompactRange,
    format_key,
    leaf_hash,
    make_bundle,
    node_hash,
    range_nodes,
    record_leaf,
    root_from_range,
    root_of,
    signed_message,
    verify_bundle,
)


def mth(leaves: list[bytes]) -> bytes:
    """RFC 9162 §2.1.1, written out as the RFC does."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return leaves[0]
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return node_hash(mth(leaves[:k]), mth(leaves[k:]))


def leaves_of(n: int) -> list[bytes]:
    return [leaf_hash(b"record %d" % i) for i in range(n)]


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 300), st.data())
def test_root_and_range_proofs_agree_with_rfc9162(n, data):
    leaves = leaves_of(n)
    assert root_of(leaves) == mth(leaves)
    lo = data.draw(st.integers(0, n))
    hi = data.draw(st.integers(lo, n))
    left = [mth(leaves[a:a + s]) for a, s in range_nodes(0, lo)]
    right = [mth(leaves[a:a + s]) for a, s in range_nodes(hi, n)]
    assert root_from_range(n, lo, left, leaves[lo:hi], right) == mth(leaves)
    if hi > lo:  # any changed leaf, or the range moved by one, no longer proves
        changed = list(leaves[lo:hi])
        changed[data.draw(st.integers(0, hi - lo - 1))] = leaf_hash(b"forged")
        assert root_from_range(n, lo, left, changed, right) != mth(leaves)


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 200), st.data())
def test_a_later_checkpoint_proves_it_only_appended(n, data):
    m = data.draw(st.integers(0, n))
    leaves = leaves_of(n)
    frontier = [mth(leaves[a:a + s]) for a, s in range_nodes(0, m)]
    extension = [(s, mth(leaves[a:a + s])) for a, s in range_nodes(m, n)]
    old = CompactRange.frontier(m, frontier)
    assert old.root() == mth(leaves[:m])
    for size, digest in extension:
        old.push(size, digest)
    assert old.root() == mth(leaves)
    if m:  # a history rewritten before m cannot be extended into the same root
        rewritten = leaves_of(n)
        rewritten[0] = leaf_hash(b"rewritten")
        assert mth(rewritten[:m]) != mth(leaves[:m])


def test_the_signed_message_is_exactly_as_documented():
    root = bytes(range(32))
    assert signed_message("sandbox", 1000, root, 1764590000123) == (
        b"domainserver-log-checkpoint/v1\nsandbox\n1000\n" + root.hex().encode()
        + b"\n1764590000123\n")


KEY = Ed25519PrivateKey.generate()
KEY_TEXT = format_key(KEY.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw))


def bundle_of(n: int = 40, first: int = 11, last: int = 30) -> dict:
    records = [{"seq": s, "at": 1000.0 + s, "kind": "say", "actor": "t" * 32, "target": None,
                "text": f"line {s}"} for s in range(1, n + 1)]  # fmt: skip
    leaves = [record_leaf(r) for r in records]
    root = root_of(leaves)
    cp = Checkpoint("dom", n, root, 7, KEY.sign(signed_message("dom", n, root, 7)))
    evidence = {
        "first_seq": first, "last_seq": last,
        "records": records[first - 1:last], "purged": [], "withheld": [],
        "leaves": [h.hex() for h in leaves[first - 1:last]],
        "proof": {"left": [root_of(leaves[a:a + s]).hex() for a, s in range_nodes(0, first - 1)],
                  "right": [root_of(leaves[a:a + s]).hex() for a, s in range_nodes(last, n)]},
        "checkpoint": cp.to_wire(),
    }  # fmt: skip
    return make_bundle("dom", KEY_TEXT, evidence, {"id": "r1", "evidence": "left out"})


def test_a_sound_bundle_verifies_and_carries_the_report_without_its_evidence():
    bundle = bundle_of()
    assert bundle["report"] == {"id": "r1"}
    result = verify_bundle(bundle)
    assert result.ok and result.checked == 20 and result.checkpoint.size == 40
    assert verify_bundle(bundle, KEY_TEXT).ok


def alter(b):
    b["records"][4]["text"] = "line 16!"


def remove(b):
    del b["records"][4]


def insert(b):
    b["records"].insert(4, dict(b["records"][4], text="forged"))


def reorder(b):
    b["records"][4], b["records"][5] = b["records"][5], b["records"][4]


def swap_content(b):
    r = b["records"]
    r[4], r[5] = dict(r[5], seq=15), dict(r[4], seq=16)


def forge_leaf(b):
    b["leaves"][4] = "00" * 32


def cut_tail(b):
    del b["records"][-1]


def withhold_silently(b):
    b["withheld"] = [15]


@pytest.mark.parametrize(("tamper", "says"), [
    (alter, "record 15 was altered"),
    (remove, "record 15 was removed"),
    (insert, "record 15 was altered"),
    (reorder, "record 16 is out of order"),
    (swap_content, "record 15 holds the content of record 16: reordered"),
    (forge_leaf, "the leaf hashes do not make the signed root"),
    (cut_tail, "record 30 was removed"),
    (withhold_silently, "record 15 is out of order"),
])
def test_each_tampering_is_named(tamper, says):
    bundle = bundle_of()
    tamper(bundle)
    result = verify_bundle(copy.deepcopy(bundle))
    assert not result.ok and says in result.failure, result.failure


def test_another_key_or_domain_is_refused():
    other = Ed25519PrivateKey.generate().public_key().public_bytes(Encoding.Raw,
                                                                   PublicFormat.Raw)
    assert "signature does not verify" in verify_bundle(bundle_of(), format_key(other)).failure
    bundle = bundle_of()
    bundle["domain"] = "elsewhere"
    assert "another domain" in verify_bundle(bundle).failure
    assert not verify_bundle({"format": "nope"}).ok
    assert "key" in verify_bundle(bundle_of(), "rsa:abc").failure
