"""The room log's hash chain: appends link up, and any edit or deletion is pinpointed."""

from __future__ import annotations

import asyncio
import hashlib
import sqlite3

import msgpack
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domainserver.store import Store, schema
from domainserver.store import log as roomlog


def _fill(conn: sqlite3.Connection, n: int) -> list[roomlog.LogRecord]:
    return [
        roomlog.append(conn, 100 + i, "chat", f"actor{i % 3}", None, {"text": f"m{i}"})
        for i in range(n)
    ]


def test_first_record_and_hash_formula(conn):
    rec = roomlog.append(conn, 5, "ban", "mod", "tok", {"reason": "spam"})
    assert rec.seq == 1 and rec.prev_hash == bytes(32) and rec.at == 5.0
    body = msgpack.packb({"reason": "spam"})
    expected = hashlib.sha256(bytes(32) + msgpack.packb([1, 5.0, "ban", "mod", "tok", body]))
    assert rec.hash == expected.digest()
    assert roomlog.last_seq(conn) == 1


def test_records_chain_and_read_back(conn):
    written = _fill(conn, 10)
    for prev, rec in zip(written, written[1:], strict=False):
        assert rec.prev_hash == prev.hash and rec.seq == prev.seq + 1
    assert roomlog.between(conn, 1, 10) == written
    assert roomlog.between(conn, 4, 6) == written[3:6]
    assert roomlog.recent(conn, 3) == written[:-4:-1]
    assert roomlog.recent(conn, 3, before_seq=8) == [written[6], written[5], written[4]]
    assert roomlog.last_seq(conn) == 10
    assert roomlog.verify(conn) is None


def test_to_wire(conn):
    rec = roomlog.append(conn, 1.5, "mute", "alice", None, {"target": {"avatar": "bob"}})
    wire = rec.to_wire()
    assert wire["body"] == {"target": {"avatar": "bob"}}
    assert wire["hash"] == rec.hash.hex() and wire["prev_hash"] == "00" * 32
    assert (
        roomlog.LogRecord.from_row(conn.execute("SELECT * FROM log WHERE seq = 1").fetchone())
        == rec
    )


def test_empty_log(conn):
    assert roomlog.last_seq(conn) == 0
    assert roomlog.verify(conn) is None
    assert roomlog.recent(conn, 5) == []


def test_tampered_body_is_found(conn):
    _fill(conn, 10)
    forged = msgpack.packb({"text": "I never said that"})
    conn.execute("UPDATE log SET body = ? WHERE seq = 6", (forged,))
    assert roomlog.verify(conn) == 6


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(min_value=1, max_value=15),
    data=st.data(),
)
def test_any_single_edit_or_deletion_is_found_at_its_seq(n, data):
    conn = sqlite3.connect(":memory:", isolation_level=None)
    try:
        schema.migrate(conn)
        _fill(conn, n)
        seq = data.draw(st.integers(min_value=1, max_value=n))
        column, value = data.draw(
            st.sampled_from(
                [
                    ("at", 1.25),
                    ("kind", "forged"),
                    ("actor", "someone-else"),
                    ("target", "x"),
                    ("body", msgpack.packb({})),
                    ("prev_hash", b"\x01" * 32),
                    ("hash", b"\x02" * 32),
                    (None, None),
                ]
            )
        )
        if column is None:
            conn.execute("DELETE FROM log WHERE seq = ?", (seq,))
            # Removing the newest record is a truncation the chain cannot see.
            assert roomlog.verify(conn) == (seq + 1 if seq < n else None)
        else:
            conn.execute(f"UPDATE log SET {column} = ? WHERE seq = ?", (value, seq))
            assert roomlog.verify(conn) == seq
    finally:
        conn.close()


async def test_concurrent_appends_through_the_store_form_one_chain(tmp_path):
    with Store.open(tmp_path / "log.sqlite3") as store:
        records = await asyncio.gather(
            *(
                store.write(lambda c, i=i: roomlog.append(c, float(i), "chat", "a", None, {"i": i}))
                for i in range(100)
            )
        )
        assert sorted(r.seq for r in records) == list(range(1, 101))
        assert store.read(roomlog.verify) is None
        assert store.read(lambda c: roomlog.between(c, 1, 100)) == sorted(
            records, key=lambda r: r.seq
        )


def test_reports(conn):
    _fill(conn, 3)
    evidence = roomlog.between(conn, 2, 3)[-1].hash
    target = msgpack.packb({"avatar": "bob"})
    roomlog.save_report(conn, "r1", "alice", target, "harassment", 9.0, 2, 3, evidence)
    assert roomlog.get_report(conn, "r1") == (
        "r1", "alice", target, "harassment", 9.0, 2, 3, evidence,
    )  # fmt: skip
    assert roomlog.get_report(conn, "nope") is None
    with pytest.raises(sqlite3.IntegrityError):
        roomlog.save_report(conn, "r1", "alice", target, "again", 9.0, None, None, evidence)
