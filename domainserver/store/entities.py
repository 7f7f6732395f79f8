"""Persistence of entities as plain row tuples; the entities core converts Entity <-> row.

Rows are tuples in exactly `COLUMNS` order: `override_groups` is JSON array text
and `props` a msgpack blob, both stored as given.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from typing import Any, Final

__all__ = [
    "COLUMNS",
    "Row",
    "save",
    "delete",
    "delete_owned_by",
    "load_all",
    "delete_expired",
    "count",
]

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


# Rows per multi-row statement: 500 x 18 parameters stays well under SQLite's 32766.
_CHUNK: Final = 500
_ROW_PLACEHOLDER: Final = f"({', '.join('?' * len(COLUMNS))})"


def _chunks(items: list[Any]) -> Iterator[list[Any]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


def save(conn: sqlite3.Connection, rows: Iterable[Row]) -> None:
    """Insert or replace every row (keyed by id).

    One multi-row statement per 500 rows rather than `executemany`: the sqlite3 module
    gives up the GIL at every step, and in a busy server each step then waits for the
    event loop's thread; one step per chunk keeps group commit fast.
    """
    rows = list(rows)
    for chunk in _chunks(rows):
        values = ", ".join([_ROW_PLACEHOLDER] * len(chunk))
        params = [value for row in chunk for value in row]
        conn.execute(f"INSERT OR REPLACE INTO entities ({_COLS}) VALUES {values}", params)


def delete(conn: sqlite3.Connection, ids: Iterable[str]) -> int:
    """Delete the entities with these ids; returns how many existed."""
    removed = 0
    for chunk in _chunks(list(ids)):
        marks = ", ".join("?" * len(chunk))
        removed += conn.execute(f"DELETE FROM entities WHERE id IN ({marks})", chunk).rowcount
    return removed


def delete_owned_by(conn: sqlite3.Connection, owner: str) -> int:
    """Delete every entity of `owner` in one statement (a ban): far cheaper than by id."""
    return conn.execute("DELETE FROM entities WHERE owner = ?", (owner,)).rowcount


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
