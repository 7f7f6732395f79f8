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
