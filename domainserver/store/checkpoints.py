"""The room log's Merkle tree as stored: signed checkpoints (each with the frontier it ended
on), the hashes of large perfect subtrees, and the range proofs built from them.

Sealing folds only the leaves appended since the last checkpoint, so appending a record
never touches the tree; a checkpoint costs one pass over the new leaves.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Final

from ..evidence.checkpoints import Checkpoint, signed_message
from ..evidence.merkle import node_hash, range_nodes, root_of

__all__ = [
    "NODE_SIZE",
    "seal",
    "latest",
    "at_least",
    "all_checkpoints",
    "leaves",
    "subtree_hash",
    "range_proof",
]

NODE_SIZE: Final = 256
"""Perfect subtrees of this many leaves or more are stored once a checkpoint covers them."""

_CP_COLS: Final = "domain, size, root, at_ms, sig"


def _checkpoint(row: tuple[object, ...]) -> Checkpoint:
    domain, size, root, at_ms, sig = row
    return Checkpoint(str(domain), int(size), bytes(root), int(at_ms), bytes(sig))  # type: ignore[arg-type, call-overload]


def latest(conn: sqlite3.Connection) -> Checkpoint | None:
    """The newest checkpoint, or None before the first."""
    row = conn.execute(f"SELECT {_CP_COLS} FROM log_checkpoints ORDER BY size DESC LIMIT 1"
                       ).fetchone()  # fmt: skip
    return None if row is None else _checkpoint(row)


def at_least(conn: sqlite3.Connection, size: int) -> Checkpoint | None:
    """The first checkpoint covering at least `size` records."""
    row = conn.execute(f"SELECT {_CP_COLS} FROM log_checkpoints WHERE size >= ? ORDER BY size"
                       " LIMIT 1", (size,)).fetchone()  # fmt: skip
    return None if row is None else _checkpoint(row)


def all_checkpoints(conn: sqlite3.Connection) -> list[Checkpoint]:
    """Every checkpoint, oldest first."""
    return [_checkpoint(r) for r in conn.execute(
        f"SELECT {_CP_COLS} FROM log_checkpoints ORDER BY size")]  # fmt: skip


def seal(
    conn: sqlite3.Connection, domain: str, sign: Callable[[bytes], bytes], at_ms: int
) -> Checkpoint | None:
    """Sign a checkpoint over every record so far (None when none was added since the last
    one). Runs on the store's writer."""
    row = conn.execute(
        "SELECT size, frontier FROM log_checkpoints ORDER BY size DESC LIMIT 1"
    ).fetchone()
    size0, blob = (0, b"") if row is None else (int(row[0]), bytes(row[1]))
    nodes = [(n, blob[i * 32:(i + 1) * 32])
             for i, (_, n) in enumerate(range_nodes(0, size0))]  # fmt: skip
    end = size0
    stored: list[tuple[int, int, bytes]] = []
    for seq, digest in conn.execute("SELECT seq, hash FROM log WHERE seq > ? ORDER BY seq",
                                    (size0,)):  # fmt: skip
        if seq != end + 1:
            raise RuntimeError(f"room log has a gap before seq {seq}; not signing")
        lo, size, digest = end, 1, bytes(digest)
        end += 1
        while nodes and nodes[-1][0] == size and (lo - size) % (2 * size) == 0:
            digest = node_hash(nodes.pop()[1], digest)
            lo -= size
            size *= 2
            if size >= NODE_SIZE:
                stored.append((size.bit_length() - 1, lo // size, digest))
        nodes.append((size, digest))
    if end == size0:
        return None
    conn.executemany("INSERT OR REPLACE INTO log_nodes (level, idx, hash) VALUES (?, ?, ?)",
                     stored)  # fmt: skip
    acc = nodes[-1][1]
    for _, digest in reversed(nodes[:-1]):
        acc = node_hash(digest, acc)
    sig = sign(signed_message(domain, end, acc, at_ms))
    conn.execute(
        "INSERT INTO log_checkpoints (size, root, at_ms, domain, sig, frontier)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (end, acc, at_ms, domain, sig, b"".join(h for _, h in nodes)),
    )
    return Checkpoint(domain, end, acc, at_ms, sig)


def leaves(conn: sqlite3.Connection, first_seq: int, last_seq: int) -> list[bytes]:
    """The leaf hashes of records first_seq..last_seq, in order."""
    return [bytes(h) for (h,) in conn.execute(
        "SELECT hash FROM log WHERE seq BETWEEN ? AND ? ORDER BY seq", (first_seq, last_seq))]


def subtree_hash(conn: sqlite3.Connection, lo: int, size: int) -> bytes:
    """The hash of the perfect subtree of leaves [lo, lo + size) (0-based)."""
    if size >= NODE_SIZE:
        row = conn.execute("SELECT hash FROM log_nodes WHERE level = ? AND idx = ?",
                           (size.bit_length() - 1, lo // size)).fetchone()  # fmt: skip
        if row is not None:
            return bytes(row[0])
        half = size // 2
        return node_hash(subtree_hash(conn, lo, half), subtree_hash(conn, lo + half, half))
    found = leaves(conn, lo + 1, lo + size)
    if len(found) != size:
        raise RuntimeError(f"room log lacks leaves in {lo + 1}..{lo + size}")
    return root_of(found)


def range_proof(
    conn: sqlite3.Connection, size: int, first_seq: int, last_seq: int
) -> tuple[list[bytes], list[bytes]]:
    """What proves records first_seq..last_seq in the tree of `size` records: the frontier of
    the records before them and the compact range of those after (docs/EVIDENCE.md)."""
    left = [subtree_hash(conn, a, n) for a, n in range_nodes(0, first_seq - 1)]
    right = [subtree_hash(conn, a, n) for a, n in range_nodes(last_seq, size)]
    return left, right
