"""Persistence of bans by token, with keyset pagination for the operator API.

A ban with `expires_at` NULL is permanent; otherwise it is active while
`expires_at > now`. Rows are `(token, reason, actor, created_at, expires_at)`.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from typing import Final

__all__ = [
    "BanRow",
    "save",
    "save_many",
    "delete",
    "get",
    "load_active",
    "delete_expired",
    "page_tokens",
    "page_bans",
]

BanRow = tuple[str, str, str | None, float, float | None]
"""`(token, reason, actor, created_at, expires_at)`."""

_ACTIVE: Final = "(expires_at IS NULL OR expires_at > ?)"
_SAVE: Final = (
    "INSERT OR REPLACE INTO bans (token, reason, actor, created_at, expires_at)"
    " VALUES (?, ?, ?, ?, ?)"
)


def save(
    conn: sqlite3.Connection,
    token: str,
    reason: str,
    actor: str | None,
    created_at: float,
    expires_at: float | None,
    shared: bool = False,
) -> None:
    """Ban `token`, replacing any earlier ban of it; `shared` marks it for a feed that
    publishes only shared bans (docs/FEEDS.md)."""
    conn.execute(
        "INSERT OR REPLACE INTO bans (token, reason, actor, created_at, expires_at, shared)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (token, reason, actor, created_at, expires_at, int(shared)),
    )


def save_many(conn: sqlite3.Connection, rows: Iterable[BanRow]) -> None:
    """Ban many tokens at once (rows as `BanRow`); streams, so a generator of a
    million rows is fine."""
    conn.executemany(_SAVE, rows)


def delete(conn: sqlite3.Connection, token: str) -> bool:
    """Lift the ban on `token`; True if there was one (even an expired one)."""
    return conn.execute("DELETE FROM bans WHERE token = ?", (token,)).rowcount > 0


def get(conn: sqlite3.Connection, token: str, now: float) -> BanRow | None:
    """The active ban of `token` at `now`, or None."""
    row = conn.execute(
        f"SELECT token, reason, actor, created_at, expires_at FROM bans"
        f" WHERE token = ? AND {_ACTIVE}",
        (token, now),
    ).fetchone()
    return row


def load_active(conn: sqlite3.Connection, now: float) -> Iterator[tuple[str, float | None]]:
    """Stream `(token, expires_at)` of every ban active at `now`, in no particular order."""
    # The cursor itself: row by row from SQLite, the fastest way to stream.
    return conn.execute(f"SELECT token, expires_at FROM bans WHERE {_ACTIVE}", (now,))


def delete_expired(conn: sqlite3.Connection, now: float) -> list[str]:
    """Delete bans expired at `now` (`expires_at <= now`); returns their tokens."""
    cur = conn.execute(
        "DELETE FROM bans WHERE expires_at IS NOT NULL AND expires_at <= ? RETURNING token",
        (now,),
    )
    return [row[0] for row in cur.fetchall()]


def _page(
    conn: sqlite3.Connection, columns: str, after: str | None, limit: int, now: float
) -> list[tuple]:
    if limit <= 0:
        return []
    if after is None:
        sql = f"SELECT {columns} FROM bans WHERE {_ACTIVE} ORDER BY token LIMIT ?"
        return conn.execute(sql, (now, limit)).fetchall()
    sql = f"SELECT {columns} FROM bans WHERE token > ? AND {_ACTIVE} ORDER BY token LIMIT ?"
    return conn.execute(sql, (after, now, limit)).fetchall()


def page_tokens(conn: sqlite3.Connection, after: str | None, limit: int, now: float) -> list[str]:
    """Up to `limit` tokens of active bans, ascending, strictly greater than `after`
    (None: from the start).

    Keyset pagination: pass the last token of a page as the next `after`. A walk
    returns every token banned throughout it exactly once, whatever is banned or
    unbanned between pages; an empty page ends the walk.
    """
    return [row[0] for row in _page(conn, "token", after, limit, now)]


def page_bans(conn: sqlite3.Connection, after: str | None, limit: int, now: float) -> list[BanRow]:
    """Like `page_tokens`, with whole `BanRow`s."""
    return _page(conn, "token, reason, actor, created_at, expires_at", after, limit, now)
