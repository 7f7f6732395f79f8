"""The Store's promises: group commit, per-write failure isolation, durability, migrations."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from domainserver.store import SCHEMA_VERSION, Store, StoreClosed, schema
from domainserver.store import bans as ban_rows

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def store(tmp_path):
    s = Store.open(tmp_path / "domain.sqlite3")
    yield s
    s.close()


def _ban(token: str):
    def fn(conn: sqlite3.Connection) -> str:
        ban_rows.save(conn, token, "test", None, 1.0, None)
        return token

    return fn


def _fail(conn: sqlite3.Connection) -> None:
    ban_rows.save(conn, "doomed", "should be rolled back", None, 1.0, None)
    raise ValueError("boom")


def _fresh_tokens(path: Path) -> set[str]:
    with sqlite3.connect(path) as conn:
        return {row[0] for row in conn.execute("SELECT token FROM bans")}


async def _held_writer(store: Store):
    """Occupy the writer with a write that waits; returns (release event, its task)."""
    started, release = threading.Event(), threading.Event()

    def gate(conn: sqlite3.Connection) -> str:
        started.set()
        release.wait()
        return "gate"

    task = asyncio.create_task(store.write(gate))
    await asyncio.to_thread(started.wait)
    return release, task


async def _release(release: threading.Event) -> None:
    # Scheduled last: by the time it runs, every earlier task has queued its write.
    release.set()


async def test_concurrent_writes_are_group_committed(store, tmp_path):
    release, gate = await _held_writer(store)
    before = store.stats.transactions
    tokens = [f"tok{i:03d}" for i in range(200)]
    results = await asyncio.gather(*(store.write(_ban(t)) for t in tokens), _release(release))
    assert await gate == "gate"
    assert results[:-1] == tokens
    # The gate's transaction plus one for all 200 queued behind it.
    assert store.stats.transactions - before == 2
    assert store.stats.writes == 201
    # Acknowledged means committed: a fresh connection sees every row.
    assert _fresh_tokens(tmp_path / "domain.sqlite3") == set(tokens)


async def test_failing_write_raises_only_to_its_caller(store, tmp_path):
    release, gate = await _held_writer(store)
    before = store.stats.transactions
    results = await asyncio.gather(
        store.write(_ban("a")),
        store.write(_fail),
        store.write(_ban("b")),
        _release(release),
        return_exceptions=True,
    )
    await gate
    assert results[0] == "a" and results[2] == "b"
    assert isinstance(results[1], ValueError)
    # The gate's transaction, then one holding all three writes.
    assert store.stats.transactions - before == 2
    assert store.stats.largest_batch == 3
    assert _fresh_tokens(tmp_path / "domain.sqlite3") == {"a", "b"}


async def test_write_result_and_read_see_same_data(store):
    assert await store.write(_ban("x")) == "x"
    assert store.read(lambda c: ban_rows.get(c, "x", 2.0))[0] == "x"
    assert (await store.read_async(lambda c: ban_rows.get(c, "y", 2.0))) is None


async def test_sql_error_in_write_leaves_writer_running(store):
    with pytest.raises(sqlite3.OperationalError):
        await store.write(lambda c: c.execute("INSERT INTO no_such_table VALUES (1)"))
    assert await store.write(_ban("after")) == "after"


async def test_write_that_ends_the_transaction_fails_its_batch_only(store):
    with pytest.raises(RuntimeError, match="ended the store's transaction"):
        await store.write(lambda c: c.execute("COMMIT"))
    assert await store.write(_ban("later")) == "later"
    assert store.read(lambda c: ban_rows.get(c, "later", 2.0)) is not None


def test_write_sync_and_write_from_another_loop(store):
    assert store.write_sync(_ban("sync")) == "sync"
    # A second event loop (as some test harnesses use) works too.
    assert asyncio.run(store.write(_ban("other-loop"))) == "other-loop"
    with pytest.raises(ValueError):
        store.write_sync(_fail)


def test_write_sync_from_many_threads(store, tmp_path):
    tokens = [f"t{i}" for i in range(64)]
    threads = [threading.Thread(target=store.write_sync, args=(_ban(t),)) for t in tokens]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert _fresh_tokens(tmp_path / "domain.sqlite3") == set(tokens)


async def test_close_drains_queued_writes_and_is_idempotent(tmp_path):
    s = Store.open(tmp_path / "d.sqlite3")
    release, gate = await _held_writer(s)

    async def release_and_close() -> None:
        # Runs after the write tasks created before it have queued their writes.
        release.set()
        await asyncio.to_thread(s.close)

    writes = [asyncio.create_task(s.write(_ban(f"q{i}"))) for i in range(5)]
    await asyncio.create_task(release_and_close())
    s.close()
    await gate
    assert [await w for w in writes] == [f"q{i}" for i in range(5)]
    assert _fresh_tokens(tmp_path / "d.sqlite3") == {f"q{i}" for i in range(5)}
    with pytest.raises(StoreClosed):
        await s.write(_ban("late"))
    with pytest.raises(StoreClosed):
        s.read(lambda c: None)


def test_migrations_set_user_version_and_reopen_is_idempotent(tmp_path):
    path = tmp_path / "m.sqlite3"
    with Store.open(path) as s:
        s.write_sync(_ban("kept"))
    with Store.open(path) as s:
        assert s.read(schema.current_version) == SCHEMA_VERSION
        assert s.read(lambda c: ban_rows.get(c, "kept", 2.0)) is not None
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        names = {r[0] for r in conn.execute("SELECT name FROM sqlite_schema WHERE type='table'")}
    assert {"entities", "bans", "mutes", "log", "reports"} <= names


def test_newer_schema_is_refused(tmp_path):
    path = tmp_path / "new.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(schema.SchemaError, match="newer"):
        Store.open(path)


def test_bad_synchronous_is_refused(tmp_path):
    with pytest.raises(ValueError, match="synchronous"):
        Store.open(tmp_path / "x.sqlite3", synchronous="SOMETIMES")


def test_acknowledged_write_survives_kill_9(tmp_path):
    path = tmp_path / "crash.sqlite3"
    script = textwrap.dedent(
        f"""
        import asyncio, os, signal
        from domainserver.store import Store, bans

        async def main():
            store = Store.open({str(path)!r})
            await store.write(lambda c: bans.save(c, "survivor", "r", None, 1.0, None))
            print("acked", flush=True)
            os.kill(os.getpid(), signal.SIGKILL)

        asyncio.run(main())
        """
    )
    env = dict(
        os.environ, PYTHONPATH=os.pathsep.join([str(REPO_ROOT), os.environ.get("PYTHONPATH", "")])
    )
    proc = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=60
    )
    assert proc.stdout.strip() == "acked", proc.stderr
    assert proc.returncode == -signal.SIGKILL
    with Store.open(path) as s:
        assert s.read(lambda c: ban_rows.get(c, "survivor", 2.0)) is not None


def test_read_refuses_to_leak_a_cursor(store):
    store.write_sync(_ban("x"))
    with pytest.raises(TypeError, match="materialised"):
        store.read(lambda c: c.execute("SELECT 1"))
    with pytest.raises(TypeError, match="materialised"):
        store.read(lambda c: ban_rows.load_active(c, 0.0))
    assert store.read(lambda c: list(ban_rows.load_active(c, 0.0))) == [("x", None)]
