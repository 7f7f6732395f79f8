"""Store.submit: queued in call order, resolved per batch on the caller's loop, durable."""

import asyncio
import sqlite3

import pytest

from domainserver.store import Store


async def test_submit_orders_commits_and_resolves(tmp_path):
    store = Store.open(tmp_path / "s.db")
    try:
        store.write_sync(lambda c: c.execute("CREATE TABLE t (n INTEGER)"))
        futures = [
            store.submit(lambda c, i=i: c.execute("INSERT INTO t VALUES (?)", (i,)) and i)
            for i in range(500)
        ]
        results = await asyncio.gather(*futures)
        assert results == list(range(500))
        # Committed and visible to a fresh connection, in submission order.
        fresh = sqlite3.connect(tmp_path / "s.db")
        assert [r[0] for r in fresh.execute("SELECT n FROM t ORDER BY rowid")] == list(range(500))
        fresh.close()
        assert store.stats.transactions < 500
    finally:
        store.close()


async def test_submit_failure_reaches_only_its_caller(tmp_path):
    store = Store.open(tmp_path / "s.db")
    try:
        store.write_sync(lambda c: c.execute("CREATE TABLE t (n INTEGER)"))
        ok = store.submit(lambda c: c.execute("INSERT INTO t VALUES (1)"))
        bad = store.submit(lambda c: c.execute("INSERT INTO nope VALUES (1)"))
        await ok
        with pytest.raises(sqlite3.OperationalError):
            await bad
        assert store.read(lambda c: c.execute("SELECT count(*) FROM t").fetchone()[0]) == 1
    finally:
        store.close()


def test_an_abandoned_load_lets_go_of_the_store(tmp_path):
    """When building the world fails part-way, the row reader must not keep the store's
    read lock waiting on a full queue: a later read would hang forever."""
    import threading

    from domainserver.services.loading import _rows_in_background
    from domainserver.store import entities as entity_rows
    from entities import Entity
    from entities.model import NO_OVERRIDE

    store = Store.open(tmp_path / "w.db")
    released = False
    try:
        base = Entity(
            "x",
            "o" * 32,
            "o" * 32,
            None,
            "box",
            (0.0, 0.0, 0.0),
            (0.1, 0.1, 0.1),
            True,
            None,
            None,
            NO_OVERRIDE,
            {},
            1.0,
        ).to_row()
        store.write_sync(
            lambda c: entity_rows.save(c, [(f"{i:016x}", *base[1:]) for i in range(2000)])
        )
        chunks = _rows_in_background(store, batch=10)  # 200 chunks: more than the queue holds
        assert len(next(chunks)) == 10
        chunks.close()  # what a KeyError in World.load does to the generator
        counted: list[int] = []
        later = threading.Thread(
            target=lambda: counted.append(store.read(entity_rows.count)), daemon=True
        )
        later.start()
        later.join(timeout=10)
        released = not later.is_alive()
        assert released, "a read after the abandoned load hangs"
        assert counted == [2000]
    finally:
        if released:  # otherwise close() would wait forever on the held read lock
            store.close()
