"""Check a whole room log: every record against its leaf hash and its place, every checkpoint
against its signature and the root the records make. Names the first failure."""

from __future__ import annotations

import hashlib
import sqlite3
from typing import Final

import attrs
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from ..evidence.merkle import root_from_levels, tree_levels
from .checkpoints import all_checkpoints
from .log import check_row

__all__ = ["LogVerdict", "verify_log"]

_COLS: Final = "seq, at, kind, actor, target, data, hash"


@attrs.frozen
class LogVerdict:
    """`failure` is None when everything verified; `unsigned` records come after the last
    checkpoint (nothing vouches for them yet); `purged` lost their content to retention."""

    failure: str | None
    records: int
    checkpoints: int
    unsigned: int
    purged: int


def _moved(conn: sqlite3.Connection, seq: int, data: bytes) -> int | None:
    """The seq whose stored leaf hash is this content's: where a moved record came from."""
    digest = hashlib.sha256(b"\x00" + data).digest()
    row = conn.execute("SELECT seq FROM log WHERE hash = ? AND seq != ?", (digest, seq)
                       ).fetchone()  # fmt: skip
    return None if row is None else int(row[0])


def verify_log(conn: sqlite3.Connection, key: Ed25519PublicKey | None) -> LogVerdict:
    """Check everything; with `key` None the signatures are not checked (roots still are)."""
    sha = hashlib.sha256
    leaves: list[bytes] = []
    purged: list[int] = []
    purges: list[int] = []
    failure: tuple[int, str] | None = None
    cur = conn.execute(f"SELECT {_COLS} FROM log ORDER BY seq")
    cur.arraysize = 4096
    expected = 1
    while failure is None and (rows := cur.fetchmany()):
        for row in rows:
            data = row[5]
            leaf = None if data is None else sha(b"\x00" + data).digest()
            why = check_row(row, expected, leaf)
            if why is not None:
                seq, data = int(row[0]), row[5]
                if "altered" in why and data is not None:
                    source = _moved(conn, seq, bytes(data))
                    if source is not None:
                        why = f"record {seq} holds the content of record {source}: reordered"
                failure = (min(seq, expected), why)
                break
            if leaf is None:
                purged.append(expected)
                leaves.append(bytes(row[6]))
            else:
                leaves.append(leaf)
                if row[2] == "purge":
                    purges.append(expected)
            expected += 1
    cur.close()
    n = len(leaves)
    checkpoints = all_checkpoints(conn)
    levels = tree_levels(leaves) if leaves else [[]]
    signed = 0
    for cp in checkpoints:
        if failure is not None and cp.size >= failure[0]:
            break
        if key is not None and not cp.verifies(key):
            return LogVerdict(f"checkpoint of size {cp.size}: the signature does not verify "
                              "with the key", n, len(checkpoints), 0, len(purged))  # fmt: skip
        if cp.size > n:
            return LogVerdict(f"records {n + 1}..{cp.size} were removed: the checkpoint of "
                              f"size {cp.size} covers them", n, len(checkpoints), 0,
                              len(purged))  # fmt: skip
        if root_from_levels(levels, cp.size) != cp.root:
            return LogVerdict(f"checkpoint of size {cp.size}: the records do not make its "
                              f"root; one of records {signed + 1}..{cp.size} was altered, "
                              "removed, inserted or reordered", n, len(checkpoints), 0,
                              len(purged))  # fmt: skip
        signed = cp.size
    if failure is not None:
        return LogVerdict(failure[1], n, len(checkpoints), 0, len(purged))
    last_purge = max(purges, default=0)
    stray = next((s for s in purged if s > last_purge), None)
    if stray is not None:
        return LogVerdict(f"record {stray} lost its content, and no purge record follows it",
                          n, len(checkpoints), 0, len(purged))  # fmt: skip
    return LogVerdict(None, n, len(checkpoints), n - signed, len(purged))
