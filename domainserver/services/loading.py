"""Start-up: the domain's state brought back from the store, fast enough for a million
entities (a reader thread overlaps SQLite with building; the collector waits)."""

from __future__ import annotations

import gc
import queue
import threading
from collections.abc import Iterator
from typing import Any

from entities import Entity, MuteTarget

from ..store import Store
from ..store import bans as ban_rows
from ..store import entities as entity_rows
from ..store import mutes as mute_rows
from .domain import Domain
from .feeds import load_feeds

__all__ = ["load"]


def _rows_in_background(store: Store, batch: int = 10_000) -> Iterator[list[Any]]:
    """Every entity row, fetched by a reader thread while the caller builds entities:
    SQLite gives up the GIL while it steps, so reading and building overlap."""
    rows: queue.Queue[list[Any] | BaseException | None] = queue.Queue(maxsize=16)
    stop = threading.Event()

    def produce(conn: Any) -> None:
        cursor = entity_rows.load_all(conn)
        while not stop.is_set() and (chunk := cursor.fetchmany(batch)):
            rows.put(chunk)

    def run() -> None:
        try:
            store.read(produce)
            rows.put(None)
        except BaseException as exc:  # handed to the consumer
            rows.put(exc)

    reader = threading.Thread(target=run, name="entity-loader", daemon=True)
    reader.start()
    try:
        while (item := rows.get()) is not None:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        # If the consumer stopped early (a bad row), unblock the reader so it lets go of
        # the store's read lock instead of waiting forever on a full queue.
        stop.set()
        while reader.is_alive():
            try:
                rows.get(timeout=0.1)
            except queue.Empty:
                pass
        reader.join()


def load(domain: Domain) -> dict[str, int]:
    """Bring state back from the store; what expired while we were down is deleted first."""
    store = domain.store
    now = domain.clock()
    expired = store.write_sync(lambda c: entity_rows.delete_expired(c, now))
    shared: dict[Any, Any] = {}
    # The cyclic collector would rescan the growing heap again and again while a
    # million long-lived objects arrive; none of them form cycles, so it waits, and
    # afterwards they are frozen out of every later collection.
    gc.disable()
    try:
        domain.world.load(
            Entity.from_row(row, shared) for batch in _rows_in_background(store) for row in batch
        )
    finally:
        gc.enable()
    gc.freeze()
    store.write_sync(lambda c: ban_rows.delete_expired(c, now))
    store.read(lambda c: domain.bans.bulk_load(ban_rows.load_active(c, now)))
    for muter, _key, blob in store.read(lambda c: list(mute_rows.load_all(c))):
        domain.mutes_of(muter).add(MuteTarget.from_blob(blob))
    return {
        "entities": len(domain.world),
        "expired_while_down": len(expired),
        "bans": len(domain.bans),
        "muters": len(domain.mutes),
        **load_feeds(domain),
    }
