"""The room log as the services use it: append a record in a commit, read pages, verify."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from ..store import Store
from ..store import log as log_rows
from ..store.log import LogRecord
from ..store.logverify import LogVerdict, verify_log
from .commits import Writes

__all__ = ["RoomLog", "LogRecord", "LogVerdict"]


class RoomLog:
    """Append-only and hash-chained (see `store.log`); every write goes through `Writes`."""

    def __init__(self, writes: Writes, store: Store, clock: Callable[[], float]) -> None:
        self._writes = writes
        self._store = store
        self._clock = clock

    def entry(
        self, kind: str, actor: str | None, target: str | None, body: dict[str, Any]
    ) -> Callable[[Any], Any]:
        """A write appending one record, to commit in the unit of the change it records (the
        records of consecutive units are appended by one statement)."""
        return log_rows.Appends([(self._clock(), kind, actor, target, body)])

    def record(
        self, kind: str, actor: str | None, target: str | None, body: dict[str, Any]
    ) -> asyncio.Future[Any]:
        """Append one record on its own (for events that change nothing else)."""
        return self._writes.commit(self.entry(kind, actor, target, body))

    async def page(self, limit: int, before: int | None) -> list[LogRecord]:
        """Up to `limit` records, newest first, older than seq `before` when given."""
        return await self._store.read_async(lambda c: log_rows.recent(c, limit, before))

    async def verify_signed(self, key: Ed25519PublicKey) -> LogVerdict:
        """Every record against its leaf and every signed checkpoint against `key` and the
        root its records make; how many records no checkpoint vouches for yet."""
        return await self._store.read_async(lambda c: verify_log(c, key))

    async def verify(self) -> tuple[int | None, int]:
        """(the first seq whose hash breaks the chain or None, the last seq)."""

        def check(conn: sqlite3.Connection) -> tuple[int | None, int]:
            return log_rows.verify(conn), log_rows.last_seq(conn)

        return await self._store.read_async(check)
