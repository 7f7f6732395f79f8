"""The room log's rows: append-only records, each stored as its canonical JSON (the Merkle
leaf data, docs/EVIDENCE.md) with its leaf hash, and read back by seq, time, token and kind.

The tree, its checkpoints and proofs are in `checkpoints`; checking a whole database is in
`logverify`. `at`, `kind`, `actor` and `target` are copies of the content for queries;
`verify` checks they agree with it.
"""

from __future__ import annotations

import hashlib
import json
import json.scanner
import sqlite3
from collections.abc import Iterable
from typing import Any, Final

import attrs

from ..evidence.records import BASE_FIELDS, canonical

__all__ = [
    "LogRecord",
    "Appends",
    "Entry",
    "append",
    "append_many",
    "recent",
    "between",
    "query",
    "last_seq",
    "verify",
    "purge",
]

_COLS: Final = "seq, at, kind, actor, target, data, hash"
_sha256 = hashlib.sha256


@attrs.frozen
class LogRecord:
    """One room-log record as stored: `data` is the canonical JSON its leaf hashes (None once
    purged by retention; the leaf hash stays, so the tree still verifies)."""

    seq: int
    at: float
    kind: str
    actor: str | None
    target: str | None
    data: bytes | None
    hash: bytes

    @classmethod
    def from_row(cls, row: tuple[Any, ...]) -> LogRecord:
        """Build from a `(seq, at, kind, actor, target, data, hash)` row."""
        seq, at, kind, actor, target, data, hash_ = row
        return cls(int(seq), float(at), kind, actor, target,
                   None if data is None else bytes(data), bytes(hash_))  # fmt: skip

    @property
    def purged(self) -> bool:
        return self.data is None

    def body_map(self) -> dict[str, Any]:
        """The kind's own fields (everything but seq, at, kind, actor, target)."""
        record = self.to_wire()
        return {k: v for k, v in record.items() if k not in BASE_FIELDS}

    def to_wire(self) -> dict[str, Any]:
        """The record as shown everywhere (contract §6): exactly what its leaf hashes; a
        purged one is `{seq, at, kind, purged: true}`."""
        if self.data is None:
            return {"seq": self.seq, "at": self.at, "kind": self.kind, "purged": True}
        record: dict[str, Any] = json.loads(self.data)
        return record


Entry = tuple[float, str, str | None, str | None, dict[str, Any]]
"""A record to append: (at, kind, actor, target, body)."""

# Records per multi-row INSERT: 500 x 7 parameters stays well under SQLite's 32766.
_CHUNK: Final = 500
_INSERT: Final = "INSERT INTO log (seq, at, kind, actor, target, data, hash) VALUES "


def append(
    conn: sqlite3.Connection,
    at: float,
    kind: str,
    actor: str | None,
    target: str | None,
    body: dict[str, Any],
) -> int:
    """Append one record on the store's writer; returns its seq. `body` holds the kind's
    own fields (names other than seq, at, kind, actor, target)."""
    return append_many(conn, [(at, kind, actor, target, body)])


def append_many(conn: sqlite3.Connection, entries: list[Entry]) -> int:
    """Append records in order, one statement per 500 (each statement and each re-take of
    the GIL costs the writer more than a record does); returns the last one's seq."""
    seq = int(conn.execute("SELECT coalesce(max(seq), 0) FROM log").fetchone()[0])
    for start in range(0, len(entries), _CHUNK):
        params: list[Any] = []
        for at, kind, actor, target, body in entries[start : start + _CHUNK]:
            seq += 1
            at = float(at)
            data = canonical({**body, "seq": seq, "at": at, "kind": kind, "actor": actor,
                              "target": target})  # fmt: skip
            params += (seq, at, kind, actor, target, data, _sha256(b"\x00" + data).digest())
        rows = len(params) // 7
        conn.execute(_INSERT + ", ".join(["(?, ?, ?, ?, ?, ?, ?)"] * rows), params)
    return seq


class Appends:
    """A write appending room-log records; the commit queue merges consecutive ones into
    one (see `services.commits`)."""

    __slots__ = ("entries",)

    def __init__(self, entries: list[Entry]) -> None:
        self.entries = entries

    def __call__(self, conn: sqlite3.Connection) -> int:
        return append_many(conn, self.entries)


def _records(cur: sqlite3.Cursor) -> list[LogRecord]:
    return [LogRecord.from_row(row) for row in cur.fetchall()]


def recent(conn: sqlite3.Connection, limit: int, before_seq: int | None = None) -> list[LogRecord]:
    """Up to `limit` records with seq below `before_seq` (None: the newest), newest first."""
    return query(conn, limit=limit, before_seq=before_seq)


def between(conn: sqlite3.Connection, first_seq: int, last_seq: int) -> list[LogRecord]:
    """Records with `first_seq <= seq <= last_seq`, oldest first."""
    return _records(conn.execute(
        f"SELECT {_COLS} FROM log WHERE seq BETWEEN ? AND ? ORDER BY seq", (first_seq, last_seq)
    ))  # fmt: skip


def query(
    conn: sqlite3.Connection,
    *,
    limit: int,
    before_seq: int | None = None,
    since: float | None = None,
    until: float | None = None,
    token: str | None = None,
    kinds: Iterable[str] = (),
) -> list[LogRecord]:
    """Up to `limit` records, newest first, with seq below `before_seq`, `since <= at <
    until`, `token` as actor or target, and kind in `kinds` (each criterion when given)."""
    where, args = [], []
    if before_seq is not None:
        where.append("seq < ?")
        args.append(before_seq)
    if since is not None:
        where.append("at >= ?")
        args.append(since)
    if until is not None:
        where.append("at < ?")
        args.append(until)
    if token is not None:
        where.append("(actor = ? OR target = ?)")
        args += [token, token]
    kinds = sorted(set(kinds))
    if kinds:
        where.append(f"kind IN ({', '.join('?' * len(kinds))})")
        args += kinds
    clause = f"WHERE {' AND '.join(where)}" if where else ""
    # Newest first by seq: with a time range, SQLite picks the `at` index or the rowid.
    return _records(conn.execute(
        f"SELECT {_COLS} FROM log {clause} ORDER BY seq DESC LIMIT ?", (*args, limit)
    ))  # fmt: skip


def last_seq(conn: sqlite3.Connection) -> int:
    """The seq of the newest record, 0 if the log is empty."""
    return int(conn.execute("SELECT coalesce(max(seq), 0) FROM log").fetchone()[0])


# The C scanner straight away: json.loads on bytes first sniffs the encoding and matches
# whitespace twice, which is half of what checking a million records costs.
_scan = json.scanner.make_scanner(json.JSONDecoder())  # type: ignore[attr-defined]


def check_row(row: tuple[Any, ...], expected_seq: int, leaf: bytes | None = None) -> str | None:
    """Why one stored row is not a sound record at position `expected_seq`, or None.
    `leaf` is SHA-256(0x00 || data) when the caller has computed it already."""
    seq, at, kind, actor, target, data, hash_ = row
    if seq != expected_seq:
        return (f"record {expected_seq} was removed" if seq > expected_seq
                else f"record {seq} is out of place")  # fmt: skip
    if data is None:
        return None
    if (leaf or _sha256(b"\x00" + data).digest()) != hash_:
        return f"record {seq} was altered: its content does not match its leaf hash"
    try:
        text = data.decode("utf-8")
        content, end = _scan(text, 0)
    except (ValueError, StopIteration, UnicodeDecodeError):
        return f"record {seq} was altered: its content is not JSON"
    if end != len(text):
        return f"record {seq} was altered: its content is not one JSON object"
    if not isinstance(content, dict) or content.get("seq") != seq:
        source = content.get("seq") if isinstance(content, dict) else None
        return f"record {seq} holds the content of record {source}: reordered or inserted"
    if (content.get("at"), content.get("kind"), content.get("actor"),
            content.get("target")) != (at, kind, actor, target):  # fmt: skip
        return f"record {seq} was altered: its columns do not match its content"
    return None


def verify(conn: sqlite3.Connection) -> int | None:
    """Check every record against its own leaf hash, its columns and its place; None if
    sound, else the first bad seq. (Signatures and roots: `logverify.verify_log`.)"""
    cur = conn.execute(f"SELECT {_COLS} FROM log ORDER BY seq")
    cur.arraysize = 2000
    expected = 1
    while rows := cur.fetchmany():
        for row in rows:
            if check_row(row, expected) is not None:
                return min(int(row[0]), expected)
            expected += 1
    return None


def purge(
    conn: sqlite3.Connection,
    cutoffs: dict[str, float],
    default_cutoff: float | None,
    keep: Iterable[tuple[int, int]] = (),
    through_seq: int | None = None,
) -> int:
    """Drop the content of records older than their kind's cutoff (`default_cutoff` for the
    kinds not named; None keeps them), up to `through_seq`, except the seq spans in `keep`.
    Leaf hashes stay, so the tree and its checkpoints still verify. Returns how many."""
    spans = list(keep)
    guard = "".join(" AND seq NOT BETWEEN ? AND ?" for _ in spans)
    span_args = [x for span in spans for x in span]
    limit = "" if through_seq is None else " AND seq <= ?"
    limit_args = [] if through_seq is None else [through_seq]
    purged = 0
    for kind, cutoff in cutoffs.items():
        purged += conn.execute(
            f"UPDATE log SET data = NULL WHERE kind = ? AND at < ? AND data IS NOT NULL"
            f"{limit}{guard}", (kind, cutoff, *limit_args, *span_args)
        ).rowcount  # fmt: skip
    if default_cutoff is not None:
        named = list(cutoffs)
        not_named = f" AND kind NOT IN ({', '.join('?' * len(named))})" if named else ""
        purged += conn.execute(
            "UPDATE log SET data = NULL WHERE at < ? AND data IS NOT NULL AND kind != 'purge'"
            f"{not_named}"
            f"{limit}{guard}", (default_cutoff, *named, *limit_args, *span_args)
        ).rowcount  # fmt: skip
    return purged
