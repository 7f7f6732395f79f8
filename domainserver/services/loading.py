"""Start-up: the domain's state brought back from the store. The world comes from the
snapshot a clean stop left, when the database says it still matches (`snapshots.py`);
otherwise from every row, a reader thread overlapping SQLite with building, with progress
logged each second so an operator watching a big restart sees it move."""

from __future__ import annotations

import ctypes
import gc
import logging
import queue
import threading
import time
from collections.abc import Iterable, Iterator
from typing import Any

from entities import Entity, MuteTarget

from ..store import Store, snapshot
from ..store import bans as ban_rows
from ..store import entities as entity_rows
from ..store import mutes as mute_rows
from .domain import Domain
from .feeds import load_feeds
from .snapshots import restore

__all__ = ["load"]

log = logging.getLogger(__name__)

PROGRESS_EVERY = 1.0  # seconds between progress lines while rows are read


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


def _with_progress(batches: Iterable[list[Any]], total: int) -> Iterator[list[Any]]:
    started = last = time.monotonic()
    done = 0
    for batch in batches:
        yield batch
        done += len(batch)
        now = time.monotonic()
        if now - last >= PROGRESS_EVERY:
            last = now
            log.info("loading entities from the database: %s of %s (%d%%), %.1f s",
                     f"{done:,}", f"{total:,}", 100 * done // max(total, 1),
                     now - started)  # fmt: skip


def _from_database(domain: Domain) -> None:
    store = domain.store
    total = store.read(entity_rows.count)
    log.info("loading %s entities from the database", f"{total:,}")
    shared: dict[Any, Any] = {}
    domain.world.load(
        Entity.from_row(row, shared)
        for batch in _with_progress(_rows_in_background(store), total)
        for row in batch
    )


def _return_free_memory() -> None:
    """Give the C heap's free pages back to the system. A load leaves megabytes of
    transient rows and columns freed but still held by glibc's malloc (about 10 bytes an
    entity at a million); elsewhere this does nothing."""
    try:
        trim = getattr(ctypes.CDLL(None), "malloc_trim", None)  # the process's own libc
    except (OSError, TypeError):
        trim = None
    if trim is not None:
        trim(0)


def load(domain: Domain) -> dict[str, Any]:
    """Bring state back from the store; what expired while we were down is deleted first."""
    store = domain.store
    now = domain.clock()
    started = time.perf_counter()
    # Taken before anything else writes: from here on the snapshot is only good for this start.
    sealed = store.write_sync(snapshot.take_seal)
    expired = store.write_sync(lambda c: entity_rows.delete_expired(c, now))
    # The cyclic collector would rescan the growing heap again and again while a million
    # long-lived objects arrive; none of them form cycles, so it waits, and they are frozen
    # out of every later collection before it runs again (else its first pass would walk
    # them all: 0.4 s at a million).
    gc.disable()
    try:
        from_snapshot = restore(domain, sealed, expired)
        if not from_snapshot:
            _from_database(domain)
    finally:
        gc.freeze()
        gc.enable()
    _return_free_memory()
    world_seconds = time.perf_counter() - started
    store.write_sync(lambda c: ban_rows.delete_expired(c, now))
    store.read(lambda c: domain.bans.bulk_load(ban_rows.load_active(c, now)))
    for muter, _key, blob in store.read(lambda c: list(mute_rows.load_all(c))):
        domain.mutes_of(muter).add(MuteTarget.from_blob(blob))
    return {
        "entities": len(domain.world),
        "world_from": "snapshot" if from_snapshot else "database",
        "world_seconds": round(world_seconds, 2),
        "expired_while_down": len(expired),
        "bans": len(domain.bans),
        "muters": len(domain.mutes),
        **load_feeds(domain),
    }
