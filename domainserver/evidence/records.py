"""A room-log record's canonical bytes: what its Merkle leaf hashes, and what an outside
verifier recomputes from a record it was shown. Sans I/O."""

from __future__ import annotations

import json
import math
from typing import Any, Final

from .merkle import leaf_hash

__all__ = ["BASE_FIELDS", "canonical", "leaf_data", "record_leaf", "plain"]

BASE_FIELDS: Final = ("seq", "at", "kind", "actor", "target")
"""Every record has these; the rest are the kind's own fields."""

# Sorted keys, no whitespace, UTF-8, no NaN: the C encoder does it in a few microseconds.
_encode = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
).encode


def plain(value: Any) -> Any:
    """`value` with what canonical JSON cannot hold made into text (non-finite floats, bytes,
    other types) and tuples into lists; map keys become strings."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if value is None or isinstance(value, str | int | float):
        return value
    if isinstance(value, bytes | bytearray):
        return bytes(value).hex()
    return str(value)


def canonical(value: Any) -> bytes:
    """The canonical JSON bytes of `value` (see docs/EVIDENCE.md, "Leaf data")."""
    try:
        return _encode(value).encode("utf-8")
    except (TypeError, ValueError, UnicodeEncodeError):
        return _encode(plain(value)).encode("utf-8", "replace")


def leaf_data(record: dict[str, Any]) -> bytes:
    """What a record's leaf hashes: its canonical JSON, `seq` included (so a record moved to
    another place no longer matches its own leaf, and the verifier can say which it was)."""
    return canonical(record)


def record_leaf(record: dict[str, Any]) -> bytes:
    """The Merkle leaf hash of a record as shown."""
    return leaf_hash(leaf_data(record))
