"""An evidence bundle (contract §6): a span of room-log records with what proves them against
a checkpoint signed by the domain key. Checking one needs only the bundle and the public key;
this module is that check, sans I/O. The format is in docs/EVIDENCE.md."""

from __future__ import annotations

from typing import Any, Final

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from .checkpoints import Checkpoint, CheckpointError, parse_key
from .merkle import root_from_range
from .records import record_leaf

__all__ = ["FORMAT", "verify_bundle", "BundleReport", "make_bundle"]

FORMAT: Final = "domainserver-evidence/v1"


def make_bundle(
    domain: str, key: str, evidence: dict[str, Any], report: dict[str, Any] | None = None
) -> dict[str, Any]:
    """A bundle from a report's evidence (or any `evidence_span`), with the domain's id and
    public key; `report` (without its evidence) when it is a report's."""
    bundle: dict[str, Any] = {"format": FORMAT, "domain": domain, "key": key}
    if report is not None:
        bundle["report"] = {k: v for k, v in report.items() if k != "evidence"}
    bundle.update(evidence)
    return bundle


class BundleReport:
    """The outcome of a check: `failure` is None when everything verified."""

    def __init__(self, failure: str | None, checked: int = 0, checkpoint: Checkpoint | None = None):
        self.failure = failure
        self.checked = checked
        self.checkpoint = checkpoint

    @property
    def ok(self) -> bool:
        return self.failure is None


def _hashes(raw: Any, what: str) -> list[bytes]:
    if not isinstance(raw, list):
        raise ValueError(f"{what} must be a list of hex hashes")
    try:
        out = [bytes.fromhex(h) for h in raw]
    except (TypeError, ValueError):
        raise ValueError(f"{what} must be a list of hex hashes") from None
    if any(len(h) != 32 for h in out):
        raise ValueError(f"{what} must be a list of 32-byte hashes")
    return out


def verify_bundle(bundle: Any, key: Ed25519PublicKey | str | None = None) -> BundleReport:
    """Check every record of `bundle` against its signed checkpoint; names the first failure:
    a bad signature, leaf hashes that do not make the signed root, or a record altered,
    removed, inserted or reordered. `key` defaults to the bundle's own `key` field."""
    if not isinstance(bundle, dict) or bundle.get("format") != FORMAT:
        return BundleReport(f"not a {FORMAT} bundle")
    try:
        public = parse_key(bundle.get("key", "") if key is None else key) \
            if not isinstance(key, Ed25519PublicKey) else key  # fmt: skip
        checkpoint = Checkpoint.from_wire(bundle.get("checkpoint"))
    except CheckpointError as exc:
        return BundleReport(str(exc))
    if not checkpoint.verifies(public):
        return BundleReport(f"checkpoint of size {checkpoint.size}: the signature does not "
                            "verify with the key")  # fmt: skip
    if checkpoint.domain != bundle.get("domain"):
        return BundleReport("checkpoint was signed for another domain")
    first, last = bundle.get("first_seq"), bundle.get("last_seq")
    records, purged = bundle.get("records"), bundle.get("purged", [])
    withheld = bundle.get("withheld", [])
    if type(first) is not int or type(last) is not int or not 1 <= first <= last + 1:
        return BundleReport("first_seq and last_seq must be integers, first_seq >= 1")
    if not all(isinstance(x, list) for x in (records, purged, withheld)):
        return BundleReport("records, purged and withheld must be lists")
    proof = bundle.get("proof")
    try:
        leaves = _hashes(bundle.get("leaves"), "leaves")
        if not isinstance(proof, dict):
            raise ValueError("proof must be a map of left and right")
        left, right = _hashes(proof.get("left"), "proof.left"), _hashes(proof.get("right"),
                                                                        "proof.right")
        if len(leaves) != last - first + 1 or last > checkpoint.size:
            raise ValueError("leaves must hold one hash per seq from first_seq to last_seq, "
                             "within the checkpoint")
        root = root_from_range(checkpoint.size, first - 1, left, leaves, right)
    except ValueError as exc:
        return BundleReport(str(exc), 0, checkpoint)
    if root != checkpoint.root:
        return BundleReport("the leaf hashes do not make the signed root: the bundle was "
                            "altered", 0, checkpoint)  # fmt: skip
    failure = _check_records(records, purged + withheld, first, last, leaves)
    return BundleReport(failure, len(records), checkpoint)


def _check_records(records: list[Any], skipped: list[Any], first: int, last: int,
                   leaves: list[bytes]) -> str | None:  # fmt: skip
    """The first record that does not match its proven leaf, in seq order."""
    gone = set(skipped)  # purged by retention, or withheld: known by their leaf hash only
    expected = [s for s in range(first, last + 1) if s not in gone]
    seqs = [r.get("seq") if isinstance(r, dict) else None for r in records]
    present = set(seqs)
    index = {leaf: first + i for i, leaf in enumerate(leaves)}
    for i, record in enumerate(records):
        seq = seqs[i]
        if type(seq) is not int:
            return f"record #{i + 1} has no integer seq"
        if i >= len(expected):
            return f"record {seq} was inserted (more records than the proof covers)"
        want = expected[i]
        if seq != want:
            if want in present:
                return f"record {seq} is out of order (record {want} belongs here): reordered"
            if seq > want:
                return f"record {want} was removed"
            return f"record {seq} was inserted"
        leaf = record_leaf(record)
        if leaf != leaves[seq - first]:
            other = index.get(leaf)
            if other is None:  # the content of another place, renumbered to look at home?
                other = next((first + j for j, proven in enumerate(leaves)
                              if record_leaf(dict(record, seq=first + j)) == proven), None)
            if other is not None:
                return f"record {seq} holds the content of record {other}: reordered"
            return f"record {seq} was altered: it does not match its leaf hash"
    if len(records) < len(expected):
        return f"record {expected[len(records)]} was removed"
    return None
