"""The last good copy of every subscribed ban feed, and its fetch state, so that a restart
(or a publisher that is down at start-up) changes nothing about who is held by a feed."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator

__all__ = [
    "StateRow",
    "STATE_COLUMNS",
    "load_states",
    "save_state",
    "load_entries",
    "put_entries",
    "delete_entries",
    "drop",
]

STATE_COLUMNS = (
    "name", "url", "key", "domain", "serial", "etag", "fetched_at", "ok_at", "errors",
    "last_error", "entries",
)  # fmt: skip
StateRow = tuple[
    str, str, str, str | None, int | None, str | None, float | None, float | None, int,
    str | None, int,
]  # fmt: skip


def load_states(conn: sqlite3.Connection) -> list[StateRow]:
    """Every feed's state row, in name order."""
    cols = ", ".join(STATE_COLUMNS)
    return conn.execute(f"SELECT {cols} FROM feed_state ORDER BY name").fetchall()


def save_state(conn: sqlite3.Connection, row: StateRow) -> None:
    """Insert or replace one feed's state row (`StateRow`, in `STATE_COLUMNS` order)."""
    marks = ", ".join("?" * len(STATE_COLUMNS))
    conn.execute(
        f"INSERT OR REPLACE INTO feed_state ({', '.join(STATE_COLUMNS)}) VALUES ({marks})", row
    )


def load_entries(conn: sqlite3.Connection, feed: str) -> Iterator[tuple[str, float | None]]:
    """Stream `(token, expires_at)` of a feed's last good copy."""
    return conn.execute("SELECT token, expires_at FROM feed_entries WHERE feed = ?", (feed,))


def put_entries(
    conn: sqlite3.Connection, feed: str, rows: Iterable[tuple[str, float | None]]
) -> None:
    """Add or update entries `(token, expires_at)` of a feed's copy."""
    conn.executemany(
        "INSERT OR REPLACE INTO feed_entries (feed, token, expires_at) VALUES (?, ?, ?)",
        ((feed, token, expires_at) for token, expires_at in rows),
    )


def delete_entries(conn: sqlite3.Connection, feed: str, tokens: Iterable[str]) -> None:
    """Remove entries of a feed's copy."""
    conn.executemany(
        "DELETE FROM feed_entries WHERE feed = ? AND token = ?", ((feed, t) for t in tokens)
    )


def drop(conn: sqlite3.Connection, feed: str) -> None:
    """Forget a feed altogether (its subscription was removed)."""
    conn.execute("DELETE FROM feed_entries WHERE feed = ?", (feed,))
    conn.execute("DELETE FROM feed_state WHERE name = ?", (feed,))
