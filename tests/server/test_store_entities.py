"""Entity rows round-trip through SQLite unchanged, and expiry removes exactly the expired."""

from __future__ import annotations

import json

import msgpack

from domainserver.store import Store
from domainserver.store import entities as entity_rows


def row(i: int, *, expires_at: float | None = None, owner: str | None = "alice") -> tuple:
    return (
        f"e{i}", owner, "alice", None, "box",
        1.0 * i, 2.0, 3.0, 0.5, 0.5, 0.5,
        1, expires_at, None,
        0, json.dumps(["builders"]), msgpack.packb({"colour": "red", "n": i}), 100.0 + i,
    )  # fmt: skip


def test_row_has_one_value_per_column():
    assert len(row(0)) == len(entity_rows.COLUMNS) == 18


def test_save_load_round_trip_and_replace(conn):
    rows = [row(i) for i in range(10)]
    entity_rows.save(conn, rows)
    assert sorted(entity_rows.load_all(conn)) == sorted(rows)
    changed = row(3, owner="bob")
    entity_rows.save(conn, [changed])
    assert entity_rows.count(conn) == 10
    assert changed in set(entity_rows.load_all(conn))


def test_delete_counts_only_existing(conn):
    entity_rows.save(conn, [row(i) for i in range(5)])
    assert entity_rows.delete(conn, ["e1", "e2", "nope"]) == 2
    assert entity_rows.delete(conn, []) == 0
    assert {r[0] for r in entity_rows.load_all(conn)} == {"e0", "e3", "e4"}


def test_delete_expired_removes_exactly_the_expired(conn):
    entity_rows.save(
        conn, [row(0, expires_at=10.0), row(1, expires_at=20.0), row(2), row(3, expires_at=10.5)]
    )
    assert sorted(entity_rows.delete_expired(conn, 10.5)) == ["e0", "e3"]
    assert entity_rows.delete_expired(conn, 10.5) == []
    assert sorted(r[0] for r in entity_rows.load_all(conn)) == ["e1", "e2"]


def test_load_all_streams_many_rows_through_the_store(tmp_path):
    with Store.open(tmp_path / "e.sqlite3") as store:
        store.write_sync(lambda c: entity_rows.save(c, (row(i) for i in range(20_000))))
        assert store.read(entity_rows.count) == 20_000
        ids = store.read(lambda c: {r[0] for r in entity_rows.load_all(c)})
    assert len(ids) == 20_000
