"""The room log's Merkle tree (RFC 9162 hashing) and its proofs, as compact ranges.

Sans I/O and standalone, so that anyone can check a checkpoint, a range of records, or that
one checkpoint extends another, with nothing but hashes. The format is in docs/EVIDENCE.md.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from typing import Final

__all__ = [
    "EMPTY_ROOT",
    "leaf_hash",
    "node_hash",
    "range_nodes",
    "CompactRange",
    "root_of",
    "root_from_range",
    "tree_levels",
    "root_from_levels",
]

_sha256 = hashlib.sha256

EMPTY_ROOT: Final = _sha256(b"").digest()
"""The root of a tree of no leaves (RFC 9162 §2.1.1)."""


def leaf_hash(data: bytes) -> bytes:
    """SHA-256(0x00 || data): the hash of one leaf."""
    return _sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """SHA-256(0x01 || left || right): the hash of an interior node."""
    return _sha256(b"\x01" + left + right).digest()


def range_nodes(lo: int, hi: int) -> list[tuple[int, int]]:
    """The leaves [lo, hi) as the fewest aligned perfect subtrees, left to right:
    (start, size) pairs, each size a power of two dividing its start."""
    out: list[tuple[int, int]] = []
    while lo < hi:
        size = lo & -lo if lo else 1 << ((hi - lo).bit_length() - 1)
        while lo + size > hi:
            size >>= 1
        out.append((lo, size))
        lo += size
    return out


class CompactRange:
    """Perfect subtrees covering the leaves [start, end), merged as they are appended.

    Appending every leaf from 0 keeps the frontier of the tree (one subtree per bit of its
    size); its `root()` is the RFC 9162 root. Starting from the frontier of `m` leaves and
    appending the compact range of [m, n) yields the frontier of `n`: that is how both
    range proofs and consistency proofs are checked.
    """

    __slots__ = ("start", "end", "nodes")

    def __init__(self, start: int = 0) -> None:
        self.start = start
        self.end = start
        self.nodes: list[tuple[int, bytes]] = []  # (size, hash), left to right

    def push(self, size: int, digest: bytes) -> None:
        """Append the perfect subtree of `size` leaves that starts at `end`."""
        lo = self.end
        self.end = lo + size
        nodes = self.nodes
        # The top node and this one are siblings when they are equal and the top is aligned
        # on twice their size.
        while nodes and nodes[-1][0] == size and (lo - size) % (2 * size) == 0:
            digest = node_hash(nodes.pop()[1], digest)
            lo -= size
            size *= 2
        nodes.append((size, digest))

    def extend(self, leaf_hashes: Iterable[bytes]) -> None:
        """Append leaves by their hashes."""
        push = self.push
        for digest in leaf_hashes:
            push(1, digest)

    def hashes(self) -> list[bytes]:
        return [h for _, h in self.nodes]

    def root(self) -> bytes:
        """The root of the tree these subtrees make (meaningful when `start` is 0)."""
        if not self.nodes:
            return EMPTY_ROOT
        acc = self.nodes[-1][1]
        for _, digest in reversed(self.nodes[:-1]):
            acc = node_hash(digest, acc)
        return acc

    @classmethod
    def frontier(cls, size: int, hashes: Sequence[bytes]) -> CompactRange:
        """The frontier of a tree of `size` leaves from its subtree hashes, left to right."""
        shape = range_nodes(0, size)
        if len(shape) != len(hashes):
            raise ValueError(f"a tree of {size} leaves has {len(shape)} frontier nodes")
        out = cls(0)
        out.nodes = [(n, h) for (_, n), h in zip(shape, hashes, strict=True)]
        out.end = size
        return out


def root_of(leaf_hashes: Sequence[bytes]) -> bytes:
    """The RFC 9162 root of these leaves."""
    r = CompactRange()
    r.extend(leaf_hashes)
    return r.root()


def root_from_range(
    size: int, lo: int, left: Sequence[bytes], leaves: Sequence[bytes], right: Sequence[bytes]
) -> bytes:
    """The root of a tree of `size` leaves rebuilt from the frontier of its first `lo`
    leaves (`left`), the hashes of leaves [lo, lo + len(leaves)), and the compact range of
    the rest (`right`). Raises ValueError when the proof has the wrong shape."""
    hi = lo + len(leaves)
    if not 0 <= lo <= hi <= size:
        raise ValueError("the range is not inside the tree")
    r = CompactRange.frontier(lo, left)
    r.extend(leaves)
    shape = range_nodes(hi, size)
    if len(shape) != len(right):
        raise ValueError(f"expected {len(shape)} right-hand nodes, got {len(right)}")
    for (_, n), digest in zip(shape, right, strict=True):
        r.push(n, digest)
    return r.root()


def tree_levels(leaf_hashes: list[bytes]) -> list[list[bytes]]:
    """Every perfect aligned subtree of the leaves, level by level (level 0: the leaves).

    Level j holds the hash of leaves [k * 2**j, (k + 1) * 2**j) at index k. Built a level
    at a time: the fast way to check many checkpoints over a million leaves.
    """
    levels = [leaf_hashes]
    prefix = b"\x01"
    sha = _sha256
    while len(levels[-1]) > 1:
        below = levels[-1]
        it = iter(below[: len(below) & ~1])
        levels.append([sha(prefix + a + b).digest() for a, b in zip(it, it, strict=True)])
    return levels


def root_from_levels(levels: list[list[bytes]], size: int) -> bytes:
    """The root of the tree of the first `size` leaves, from `tree_levels` of at least that
    many leaves."""
    if size == 0:
        return EMPTY_ROOT
    acc: bytes | None = None
    for lo, n in reversed(range_nodes(0, size)):
        digest = levels[n.bit_length() - 1][lo // n]
        acc = digest if acc is None else node_hash(digest, acc)
    assert acc is not None
    return acc
