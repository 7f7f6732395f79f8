"""The change log behind the published ban feed: one row per token with the serial of its
latest change, so `?since=SERIAL` is an index range scan however long the list is.

Serials only rise: each change takes MAX(serial) + 1, and replacing a token's row moves it
to the new serial. The publication choice in force, and the serial it took effect at, are
kept beside it so a subscriber's delta never crosses a change of what is published.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable

__all__ = [
    "record",
    "record_many",
    "lift",
    "serial",
    "changes_since",
    "in_force",
    "mode",
    "set_mode",
]

Change = tuple[str, bool, float | None]
_NEXT = "(SELECT COALESCE(MAX(serial), 0) + 1 FROM ban_changes)"
_RECORD = (
    "INSERT OR REPLACE INTO ban_changes (token, serial, banned, expires_at, shared)"
    f" VALUES (?, {_NEXT}, ?, ?, ?)"
)


def record(
    conn: sqlite3.Connection, token: str, banned: bool, expires_at: float | None, shared: bool
) -> None:
    """Note that `token` was banned (or lifted) now, under the next serial."""
    conn.execute(_RECORD, (token, int(banned), expires_at, int(shared)))


def record_many(conn: sqlite3.Connection, rows: Iterable[tuple[str, float | None, bool]]) -> None:
    """Note many bans `(token, expires_at, shared)` at once, each under its own serial."""
    start = serial(conn)
    conn.executemany(
        "INSERT OR REPLACE INTO ban_changes (token, serial, banned, expires_at, shared)"
        " VALUES (?, ?, 1, ?, ?)",
        ((t, start + i, exp, int(sh)) for i, (t, exp, sh) in enumerate(rows, 1)),
    )


def lift(conn: sqlite3.Connection, token: str) -> None:
    """Note that the ban on `token` was lifted, if there is one (call before deleting it):
    the lift is published as widely as the ban was."""
    row = conn.execute("SELECT shared FROM bans WHERE token = ?", (token,)).fetchone()
    if row is not None:
        record(conn, token, False, None, bool(row[0]))


def serial(conn: sqlite3.Connection) -> int:
    """The serial of the latest change (0 before any)."""
    return int(conn.execute("SELECT COALESCE(MAX(serial), 0) FROM ban_changes").fetchone()[0])


def changes_since(conn: sqlite3.Connection, since: int, shared_only: bool) -> list[Change]:
    """Every token whose latest change is after `since`, oldest change first."""
    sql = "SELECT token, banned, expires_at FROM ban_changes WHERE serial > ?"
    if shared_only:
        sql += " AND shared = 1"
    rows = conn.execute(sql + " ORDER BY serial", (since,)).fetchall()
    return [(t, bool(b), exp) for t, b, exp in rows]


def in_force(conn: sqlite3.Connection, now: float, shared_only: bool) -> list[Change]:
    """Every ban in force at `now` (only shared ones when asked), in token order."""
    sql = "SELECT token, expires_at FROM bans WHERE (expires_at IS NULL OR expires_at > ?)"
    if shared_only:
        sql += " AND shared = 1"
    return [(t, True, exp) for t, exp in conn.execute(sql + " ORDER BY token", (now,))]


def mode(conn: sqlite3.Connection) -> tuple[str, int] | None:
    """(the publication choice last in force, the serial it took effect at)."""
    row = conn.execute("SELECT mode, since FROM banfeed_mode WHERE id = 1").fetchone()
    return None if row is None else (row[0], int(row[1]))


def set_mode(conn: sqlite3.Connection, publish: str) -> int:
    """Record a new publication choice as taking effect at the current serial; returns it."""
    at = serial(conn)
    conn.execute(
        "INSERT OR REPLACE INTO banfeed_mode (id, mode, since) VALUES (1, ?, ?)", (publish, at)
    )
    return at
