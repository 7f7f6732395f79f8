"""Abuse reports as stored: a queue of open and closed reports, each with the evidence it
captured. `reporter` is a keyed hash of the reporter's token, kept only to cap and merge a
reporter's reports; nothing that reads a report for display selects it."""

from __future__ import annotations

import sqlite3
from typing import Any, Final

import attrs

__all__ = [
    "ReportRow",
    "save",
    "get",
    "page",
    "open_of_reporter",
    "find_open",
    "close",
    "reporter_of",
    "open_spans",
]

# Every column but `reporter`: what a report shows is read without it.
_COLS: Final = ("id, target, subject, reason, created_at, state, action, closed_at, first_seq,"
                " last_seq, evidence")  # fmt: skip


@attrs.frozen
class ReportRow:
    id: str
    target: str  # JSON of the target map
    subject: str | None  # the token that `resolve` acts on
    reason: str
    created_at: float
    state: str
    action: str | None
    closed_at: float | None
    first_seq: int | None
    last_seq: int | None
    evidence: bytes  # JSON

    @classmethod
    def from_row(cls, row: tuple[Any, ...]) -> ReportRow:
        """Build from a row of `_COLS`."""
        (id_, target, subject, reason, created_at, state, action, closed_at, first_seq,
         last_seq, evidence) = row  # fmt: skip
        return cls(id_, target, subject, reason, float(created_at), state, action, closed_at,
                   first_seq, last_seq, bytes(evidence))  # fmt: skip


def save(conn: sqlite3.Connection, row: ReportRow, reporter: bytes, target_key: str) -> None:
    """Store a new open report."""
    conn.execute(
        "INSERT INTO reports (id, reporter, target_key, target, subject, reason, created_at,"
        " state, action, closed_at, first_seq, last_seq, evidence)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (row.id, reporter, target_key, row.target, row.subject, row.reason, row.created_at,
         row.state, row.action, row.closed_at, row.first_seq, row.last_seq, row.evidence),
    )  # fmt: skip


def get(conn: sqlite3.Connection, id: str) -> ReportRow | None:
    row = conn.execute(f"SELECT {_COLS} FROM reports WHERE id = ?", (id,)).fetchone()
    return None if row is None else ReportRow.from_row(row)


def page(
    conn: sqlite3.Connection, state: str | None, after: tuple[float, str] | None, limit: int
) -> list[ReportRow]:
    """Reports oldest first (the queue's order), keyset-paged by (created_at, id)."""
    where, args = [], []
    if state is not None:
        where.append("state = ?")
        args.append(state)
    if after is not None:
        where.append("(created_at, id) > (?, ?)")
        args += list(after)
    clause = f"WHERE {' AND '.join(where)}" if where else ""
    return [ReportRow.from_row(r) for r in conn.execute(
        f"SELECT {_COLS} FROM reports {clause} ORDER BY created_at, id LIMIT ?",
        (*args, limit))]  # fmt: skip


def open_of_reporter(conn: sqlite3.Connection, reporter: bytes) -> int:
    return int(conn.execute("SELECT count(*) FROM reports WHERE reporter = ? AND state = 'open'",
                            (reporter,)).fetchone()[0])  # fmt: skip


def find_open(conn: sqlite3.Connection, reporter: bytes, target_key: str) -> str | None:
    """The id of this reporter's open report on this target, if any (to merge into)."""
    row = conn.execute("SELECT id FROM reports WHERE reporter = ? AND target_key = ? AND"
                       " state = 'open'", (reporter, target_key)).fetchone()  # fmt: skip
    return None if row is None else str(row[0])


def close(conn: sqlite3.Connection, id: str, action: str, at: float) -> bool:
    """Close an open report; False when it is not open."""
    return conn.execute(
        "UPDATE reports SET state = 'closed', action = ?, closed_at = ? WHERE id = ? AND"
        " state = 'open'", (action, at, id)).rowcount == 1  # fmt: skip


def reporter_of(conn: sqlite3.Connection, id: str) -> bytes | None:
    """The keyed hash of who reported (only to tell their sessions it was addressed)."""
    row = conn.execute("SELECT reporter FROM reports WHERE id = ?", (id,)).fetchone()
    return None if row is None else bytes(row[0])


def open_spans(conn: sqlite3.Connection) -> list[tuple[int, int]]:
    """The log spans cited by open reports: retention keeps them."""
    return [(int(a), int(b)) for a, b in conn.execute(
        "SELECT first_seq, last_seq FROM reports WHERE state = 'open' AND first_seq IS NOT NULL")]
