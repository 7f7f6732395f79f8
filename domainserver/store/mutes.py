"""Persistence of mutes: who muted whom, keyed by the caller's canonical target key.

`target_key` is a canonical string the mutes service computes from the target
map; `target` is the msgpack of that map, stored as given.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

__all__ = ["save", "delete", "load_all", "for_muter"]


def save(
    conn: sqlite3.Connection, muter: str, target_key: str, target_blob: bytes, created_at: float
) -> bool:
    """Record that `muter` muted the target; True if new, False if already muted
    (the existing mute, with its original time, is kept)."""
    cur = conn.execute(
        "INSERT OR IGNORE INTO mutes (muter, target_key, target, created_at) VALUES (?, ?, ?, ?)",
        (muter, target_key, target_blob, created_at),
    )
    return cur.rowcount > 0


def delete(conn: sqlite3.Connection, muter: str, target_key: str) -> bool:
    """Unmute; True if the mute existed."""
    cur = conn.execute("DELETE FROM mutes WHERE muter = ? AND target_key = ?", (muter, target_key))
    return cur.rowcount > 0


def load_all(conn: sqlite3.Connection) -> Iterator[tuple[str, str, bytes]]:
    """Stream every mute as `(muter, target_key, target_blob)`, grouped by muter."""
    # The cursor itself: row by row from SQLite, the fastest way to stream.
    return conn.execute("SELECT muter, target_key, target FROM mutes ORDER BY muter, target_key")


def for_muter(conn: sqlite3.Connection, muter: str) -> list[tuple[str, bytes]]:
    """The mutes of one muter as `(target_key, target_blob)`, ordered by key."""
    return conn.execute(
        "SELECT target_key, target FROM mutes WHERE muter = ? ORDER BY target_key", (muter,)
    ).fetchall()
