"""Writes.commit groups the units of one loop turn: entity rows and room-log records are
merged across units, yet every unit keeps its place in the order, another write between
them sees exactly what came before it, and a unit that fails fails alone."""

import asyncio
import sqlite3

import pytest

from domainserver.services.commits import Writes
from domainserver.store import Store
from domainserver.store import log as log_rows
from entities.model import NO_OVERRIDE, Entity


def _row(i: int, kind: str = "box") -> tuple:
    return Entity(
        id=f"e{i}", owner="o", creator="o", parent=None, type=kind, position=(i, 0.0, 0.0),
        dimensions=(1.0, 1.0, 1.0), visible=True, expires_at=None, script=None,
        override=NO_OVERRIDE, props={}, created_at=1.0,
    ).to_row()  # fmt: skip


def _logged(i: int) -> log_rows.Appends:
    return log_rows.Appends([(float(i), "rez", "o", f"e{i}", {"n": i})])


@pytest.fixture
def store(tmp_path):
    store = Store.open(tmp_path / "w.db")
    yield store
    store.close()


def _records(store: Store) -> list[tuple]:
    return store.read(lambda c: c.execute("SELECT seq, target FROM log ORDER BY seq").fetchall())


async def test_a_group_keeps_unit_order_around_other_writes(store):
    writes = Writes(store)
    seen: list[int] = []

    def count_log(conn: sqlite3.Connection) -> None:  # like a checkpoint: it reads the log
        seen.append(conn.execute("SELECT count(*) FROM log").fetchone()[0])

    applied: list[int] = []
    futures = []
    for i in range(6):
        done = writes.commit(_logged(i), save=[_row(i)], apply=lambda i=i: applied.append(i))
        futures.append(done)
        if i == 2:
            futures.append(writes.commit(count_log))
    # The same entity saved twice in one group: the later row wins.
    futures.append(writes.commit(save=[_row(0, "moved")]))
    await asyncio.gather(*futures)
    assert seen == [3]  # the records of the three units before it, none after
    assert _records(store) == [(i + 1, f"e{i}") for i in range(6)]
    assert store.read(log_rows.verify) is None  # every leaf matches its record and place
    assert applied == list(range(6))
    kinds = dict(store.read(lambda c: c.execute("SELECT id, type FROM entities").fetchall()))
    assert kinds == {"e0": "moved", **{f"e{i}": "box" for i in range(1, 6)}}
    assert store.stats.transactions <= 2  # one loop turn: one job


async def test_a_failing_unit_in_a_merged_group_fails_alone(store):
    store.write_sync(lambda c: c.execute(
        "CREATE TRIGGER doomed BEFORE INSERT ON entities WHEN NEW.type = 'doomed' "
        "BEGIN SELECT RAISE(ABORT, 'injected fault'); END"
    ))  # fmt: skip
    writes = Writes(store)
    applied: list[int] = []
    futures = [
        writes.commit(_logged(i), save=[_row(i, "doomed" if i == 2 else "box")],
                      apply=lambda i=i: applied.append(i))
        for i in range(5)
    ]  # fmt: skip
    results = await asyncio.gather(*futures, return_exceptions=True)
    assert [r is None for r in results] == [True, True, False, True, True]
    assert isinstance(results[2], sqlite3.IntegrityError)
    assert applied == [0, 1, 3, 4]
    # Neither the failed unit's row nor its record: the others' records are contiguous.
    assert _records(store) == [(1, "e0"), (2, "e1"), (3, "e3"), (4, "e4")]
    assert store.read(log_rows.verify) is None
    ids = {r[0] for r in store.read(lambda c: c.execute("SELECT id FROM entities").fetchall())}
    assert ids == {"e0", "e1", "e3", "e4"}
