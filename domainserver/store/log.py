"""The room log and abuse reports: an append-only record made tamper-evident by a hash chain.

Each record's hash covers the previous hash and the record's own fields, so
editing or deleting any record breaks the chain from there on (`verify`).
"""

from __future__ import annotations

import hashlib
import sqlite3
from typing import Any, Final

import attrs
import msgpack

__all__ = [
    "GENESIS_HASH",
    "LogRecord",
    "append",
    "recent",
    "between",
    "last_seq",
    "verify",
    "chain_hash",
    "ReportRow",
    "save_report",
    "get_report",
]

GENESIS_HASH: Final = bytes(32)
"""`prev_hash` of the first record."""

_COLS: Final = "seq, at, kind, actor, target, body, prev_hash, hash"


def chain_hash(
    prev_hash: bytes,
    seq: int,
    at: float,
    kind: str,
    actor: str | None,
    target: str | None,
    body: bytes,
) -> bytes:
    """SHA-256(prev_hash + msgpack([seq, at, kind, actor, target, body])): a record's hash."""
    packed = msgpack.packb([seq, at, kind, actor, target, body], use_bin_type=True)
    return hashlib.sha256(prev_hash + packed).digest()


@attrs.frozen
class LogRecord:
    """One room-log record as stored; `body` is the msgpack bytes that were hashed."""

    seq: int
    at: float
    kind: str
    actor: str | None
    target: str | None
    body: bytes
    prev_hash: bytes
    hash: bytes

    @classmethod
    def from_row(cls, row: tuple[Any, ...]) -> LogRecord:
        """Build from a `(seq, at, kind, actor, target, body, prev_hash, hash)` row."""
        seq, at, kind, actor, target, body, prev_hash, hash_ = row
        return cls(int(seq), float(at), kind, actor, target, bytes(body), bytes(prev_hash),
                   bytes(hash_))  # fmt: skip

    def body_map(self) -> dict[str, Any]:
        """The decoded body (a fresh dict each call)."""
        body: dict[str, Any] = msgpack.unpackb(self.body, raw=False)
        return body

    def to_wire(self) -> dict[str, Any]:
        """The record as a wire/JSON map: decoded body, hashes as hex."""
        return {
            "seq": self.seq,
            "at": self.at,
            "kind": self.kind,
            "actor": self.actor,
            "target": self.target,
            "body": self.body_map(),
            "prev_hash": self.prev_hash.hex(),
            "hash": self.hash.hex(),
        }


def append(
    conn: sqlite3.Connection,
    at: float,
    kind: str,
    actor: str | None,
    target: str | None,
    body: dict[str, Any],
) -> LogRecord:
    """Append a record chained to the last one; must run on the store's writer
    (inside `Store.write`), whose single transaction keeps the chain linear."""
    last = conn.execute("SELECT seq, hash FROM log ORDER BY seq DESC LIMIT 1").fetchone()
    seq, prev_hash = (1, GENESIS_HASH) if last is None else (last[0] + 1, bytes(last[1]))
    # SQLite stores `at` as REAL; hash the float it will read back.
    at = float(at)
    body_bytes = msgpack.packb(body, use_bin_type=True)
    digest = chain_hash(prev_hash, seq, at, kind, actor, target, body_bytes)
    record = LogRecord(seq, at, kind, actor, target, body_bytes, prev_hash, digest)
    conn.execute(
        f"INSERT INTO log ({_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (seq, at, kind, actor, target, body_bytes, prev_hash, digest),
    )
    return record


def recent(conn: sqlite3.Connection, limit: int, before_seq: int | None = None) -> list[LogRecord]:
    """Up to `limit` records with seq below `before_seq` (None: the newest),
    newest first. Page back by passing the last record's seq as `before_seq`."""
    if before_seq is None:
        rows = conn.execute(
            f"SELECT {_COLS} FROM log ORDER BY seq DESC LIMIT ?", (limit,)
        ).fetchall()
    else:
        rows = conn.execute(
            f"SELECT {_COLS} FROM log WHERE seq < ? ORDER BY seq DESC LIMIT ?",
            (before_seq, limit),
        ).fetchall()
    return [LogRecord.from_row(row) for row in rows]


def between(conn: sqlite3.Connection, first_seq: int, last_seq: int) -> list[LogRecord]:
    """Records with `first_seq <= seq <= last_seq`, oldest first."""
    rows = conn.execute(
        f"SELECT {_COLS} FROM log WHERE seq BETWEEN ? AND ? ORDER BY seq", (first_seq, last_seq)
    ).fetchall()
    return [LogRecord.from_row(row) for row in rows]


def last_seq(conn: sqlite3.Connection) -> int:
    """The seq of the newest record, 0 if the log is empty."""
    return int(conn.execute("SELECT coalesce(max(seq), 0) FROM log").fetchone()[0])


def verify(conn: sqlite3.Connection) -> int | None:
    """Recompute the chain in order; None if intact, else the first bad seq.

    A record is bad if its seq is not the next number, its `prev_hash` is not
    the previous record's hash, or its hash does not match its fields. Deleting
    the newest records (truncation) cannot be detected from the chain alone;
    compare with a hash kept elsewhere (a report's evidence, a signed export).
    """
    prev = GENESIS_HASH
    expected_seq = 1
    cur = conn.execute(f"SELECT {_COLS} FROM log ORDER BY seq")
    cur.arraysize = 2000
    while rows := cur.fetchmany():
        for row in rows:
            seq, at, kind, actor, target, body, prev_hash, hash_ = row
            if not isinstance(at, float) or not isinstance(body, bytes):
                return int(seq)
            if seq != expected_seq or bytes(prev_hash) != prev:
                return int(seq)
            digest = chain_hash(prev, seq, at, kind, actor, target, body)
            if digest != hash_:
                return int(seq)
            prev = digest
            expected_seq += 1
    return None


# -- reports -----------------------------------------------------------------

ReportRow = tuple[str, str, bytes, str, float, int | None, int | None, bytes]
"""`(id, reporter, target, reason, at, first_seq, last_seq, evidence_hash)`."""


def save_report(
    conn: sqlite3.Connection,
    id: str,
    reporter: str,
    target: bytes,
    reason: str,
    at: float,
    first_seq: int | None,
    last_seq: int | None,
    evidence_hash: bytes,
) -> None:
    """Store an abuse report: `target` is the msgpack target map and
    `evidence_hash` pins the log span `first_seq..last_seq` it cites."""
    conn.execute(
        "INSERT INTO reports (id, reporter, target, reason, at, first_seq, last_seq,"
        " evidence_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (id, reporter, target, reason, at, first_seq, last_seq, evidence_hash),
    )


def get_report(conn: sqlite3.Connection, id: str) -> ReportRow | None:
    """The report with this id as a `ReportRow`, or None."""
    row: ReportRow | None = conn.execute(
        "SELECT id, reporter, target, reason, at, first_seq, last_seq, evidence_hash"
        " FROM reports WHERE id = ?",
        (id,),
    ).fetchone()
    return row
