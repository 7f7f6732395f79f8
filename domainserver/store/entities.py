"""Persistence of entities as plain row tuples; the entities core converts Entity <-> row.

Rows are tuples in exactly `COLUMNS` order: `override_groups` is JSON array text
and `props` a msgpack blob, both stored as given.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from typing import Any, Final

__all__ = ["COLUMNS", "Row", "save", "delete", "load_all", "delete_expired", "count"]

COLUMNS: Final = (
    "id", "owner", "creator", "parent", "type",
    "px", "py", "pz", "dx", "dy", "dz",
    "visible", "expires_at", "script",
    "override_anyone", "override_groups", "props", "created_at",
)  # fmt: skip
"""Column order of an entity row tuple."""

Row = tuple[Any, ...]
"""One entity row: a tuple of `len(COLUMNS)` values in `COLUMNS` order."""

_COLS: Final = ", ".join(COLUMNS)
_SAVE: Final = f"INSERT OR REPLACE INTO entities ({_COLS}) VALUES ({', '.join('?' * len(COLUMNS))})"


def save(conn: sqlite3.Connection, rows: Iterable[Row]) -> None:
    """Insert or replace every row (keyed by id)."""
    conn.executemany(_SAVE, rows)


def delete(conn: sqlite3.Connection, ids: Iterable[str]) -> int:
    """Delete the entities with these ids; returns how many existed."""
    cur = conn.executemany("DELETE FROM entities WHERE id = ?", ((i,) for i in ids))
    return max(cur.rowcount, 0)


def load_all(conn: sqlite3.Connection) -> Iterator[Row]:
    """Stream every entity row, in no particular order, without building a list."""
    # The cursor itself: row by row from SQLite, the fastest way to stream.
    return conn.execute(f"SELECT {_COLS} FROM entities")


def delete_expired(conn: sqlite3.Connection, now: float) -> list[str]:
    """Delete entities whose `expires_at` is at or before `now`; returns their ids."""
    cur = conn.execute(
        "DELETE FROM entities WHERE expires_at IS NOT NULL AND expires_at <= ? RETURNING id",
        (now,),
    )
    return [row[0] for row in cur.fetchall()]


def count(conn: sqlite3.Connection) -> int:
    """Number of stored entities."""
    return int(conn.execute("SELECT count(*) FROM entities").fetchone()[0])
