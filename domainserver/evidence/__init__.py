"""Tamper evidence for the room log, sans I/O: the Merkle tree, canonical record bytes,
signed checkpoints and evidence bundles. Imports nothing of ours, so the store, the
services and the command line all use it, and an outside verifier can read it alone."""

from __future__ import annotations

from .bundle import FORMAT, BundleReport, make_bundle, verify_bundle
from .checkpoints import Checkpoint, CheckpointError, format_key, parse_key, signed_message
from .merkle import CompactRange, leaf_hash, node_hash, range_nodes, root_from_range, root_of
from .records import canonical, leaf_data, record_leaf

__all__ = [
    "FORMAT",
    "BundleReport",
    "verify_bundle",
    "make_bundle",
    "Checkpoint",
    "CheckpointError",
    "format_key",
    "parse_key",
    "signed_message",
    "CompactRange",
    "leaf_hash",
    "node_hash",
    "range_nodes",
    "root_from_range",
    "root_of",
    "canonical",
    "leaf_data",
    "record_leaf",
]
