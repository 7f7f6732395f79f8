"""The room log as stored: records are Merkle leaves, checkpoints are signed over them, and
any record altered, removed, inserted or reordered is found by `verify_log`."""

from __future__ import annotations

import asyncio
import hashlib
import json
import sqlite3

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from domainserver.evidence import root_from_range, root_of
from domainserver.evidence.records import canonical
from domainserver.store import Store, schema
from domainserver.store import checkpoints as cps
from domainserver.store import log as roomlog
from domainserver.store import reports as report_rows
from domainserver.store.logverify import verify_log
from domainserver.store.reports import ReportRow

KEY = Ed25519PrivateKey.generate()
PUBLIC = KEY.public_key()


def _fill(conn: sqlite3.Connection, n: int, start: int = 0) -> list[int]:
    return [
        roomlog.append(conn, 100.0 + i, "say", f"actor{i % 3}", None, {"text": f"m{i}"})
        for i in range(start, start + n)
    ]


def _seal(conn: sqlite3.Connection, at_ms: int = 1):
    return cps.seal(conn, "dom", KEY.sign, at_ms)


def test_a_record_is_its_canonical_json_and_its_leaf_hash(conn):
    seq = roomlog.append(conn, 5, "ban", "mod", "tok", {"reason": "spam", "n": [1, 2.5]})
    (rec,) = roomlog.between(conn, 1, 1)
    wire = {"seq": 1, "at": 5.0, "kind": "ban", "actor": "mod", "target": "tok",
            "reason": "spam", "n": [1, 2.5]}
    assert seq == 1 and rec.to_wire() == wire
    assert rec.data == canonical(wire) == json.dumps(
        wire, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    assert rec.hash == hashlib.sha256(b"\x00" + rec.data).digest()
    assert rec.body_map() == {"reason": "spam", "n": [1, 2.5]}


def test_reads_by_seq_time_token_and_kind(conn):
    _fill(conn, 10)
    roomlog.append(conn, 200.0, "kick", "mod", "actor1", {"reason": "r"})
    assert [r.seq for r in roomlog.recent(conn, 3)] == [11, 10, 9]
    assert [r.seq for r in roomlog.recent(conn, 3, before_seq=8)] == [7, 6, 5]
    assert [r.seq for r in roomlog.between(conn, 4, 6)] == [4, 5, 6]
    assert [r.seq for r in roomlog.query(conn, limit=50, since=103, until=106)] == [6, 5, 4]
    assert [r.seq for r in roomlog.query(conn, limit=50, token="actor1")] == [11, 8, 5, 2]
    assert [r.seq for r in roomlog.query(conn, limit=50, kinds=["kick"])] == [11]
    assert roomlog.last_seq(conn) == 11 and roomlog.verify(conn) is None


def test_checkpoint_root_is_rfc9162_over_the_leaves_and_is_signed(conn):
    _fill(conn, 700)
    cp = _seal(conn)
    leaves = cps.leaves(conn, 1, 700)
    assert cp.size == 700 and cp.root == root_of(leaves) and cp.verifies(PUBLIC)
    assert _seal(conn) is None  # nothing new: no second checkpoint of the same size
    _fill(conn, 5, 700)
    cp2 = _seal(conn, 2)
    assert cp2.size == 705 and cp2.root == root_of(cps.leaves(conn, 1, 705))
    # Perfect subtrees of 256 and 512 leaves were stored when first covered.
    assert conn.execute("SELECT level, idx FROM log_nodes ORDER BY level, idx").fetchall() == [
        (8, 0), (8, 1), (9, 0)]


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 600), st.data())
def test_any_range_proves_against_the_checkpoint(n, data):
    conn = sqlite3.connect(":memory:", isolation_level=None)
    schema.migrate(conn)
    _fill(conn, n)
    cp = _seal(conn)
    first = data.draw(st.integers(1, n))
    last = data.draw(st.integers(first, n))
    left, right = cps.range_proof(conn, n, first, last)
    leaves = cps.leaves(conn, first, last)
    assert root_from_range(n, first - 1, left, leaves, right) == cp.root
    if leaves:
        leaves[0] = bytes(32)
        assert root_from_range(n, first - 1, left, leaves, right) != cp.root


def _tampered(conn: sqlite3.Connection, how: str) -> None:
    if how == "alter":
        data = conn.execute("SELECT data FROM log WHERE seq = 5").fetchone()[0]
        conn.execute("UPDATE log SET data = ? WHERE seq = 5", (data.replace(b"m4", b"m9"),))
    elif how == "alter-and-rehash":
        data = conn.execute("SELECT data FROM log WHERE seq = 5").fetchone()[0]
        data = data.replace(b"m4", b"m9")
        conn.execute("UPDATE log SET data = ?, hash = ? WHERE seq = 5",
                     (data, hashlib.sha256(b"\x00" + data).digest()))
    elif how == "column":
        conn.execute("UPDATE log SET actor = 'someone-else' WHERE seq = 5")
    elif how == "delete":
        conn.execute("DELETE FROM log WHERE seq = 5")
    elif how == "delete-tail":
        conn.execute("DELETE FROM log WHERE seq >= 19")
    elif how == "insert":
        conn.execute("UPDATE log SET seq = seq + 1000 WHERE seq >= 5")
        conn.execute("UPDATE log SET seq = seq - 999 WHERE seq >= 1000")
        row = conn.execute("SELECT at, kind, actor, target, data, hash FROM log WHERE seq = 6"
                           ).fetchone()
        conn.execute("INSERT INTO log (seq, at, kind, actor, target, data, hash)"
                     " VALUES (5, ?, ?, ?, ?, ?, ?)", row)
    elif how == "swap":
        a = conn.execute("SELECT at, kind, actor, target, data, hash FROM log WHERE seq = 5"
                         ).fetchone()
        b = conn.execute("SELECT at, kind, actor, target, data, hash FROM log WHERE seq = 6"
                         ).fetchone()
        for seq, row in ((5, b), (6, a)):
            conn.execute("UPDATE log SET at = ?, kind = ?, actor = ?, target = ?, data = ?,"
                         " hash = ? WHERE seq = ?", (*row, seq))
    elif how == "swap-content":
        a, b = (conn.execute("SELECT data FROM log WHERE seq = ?", (s,)).fetchone()[0]
                for s in (5, 6))
        conn.execute("UPDATE log SET data = ? WHERE seq = 5", (b,))
        conn.execute("UPDATE log SET data = ? WHERE seq = 6", (a,))
    elif how == "signature":
        conn.execute("UPDATE log_checkpoints SET sig = ? WHERE size = 10", (bytes(64),))
    elif how == "stray-purge":
        conn.execute("UPDATE log SET data = NULL WHERE seq = 5")


@pytest.mark.parametrize(("how", "says"), [
    ("alter", "record 5 was altered"),
    ("alter-and-rehash", "checkpoint of size 10: the records do not make its root"),
    ("column", "record 5 was altered: its columns"),
    ("delete", "record 5 was removed"),
    ("delete-tail", "records 19..20 were removed"),
    ("insert", "record 6 holds the content of record 5: reordered or inserted"),
    ("swap", "record 5 holds the content of record 6: reordered"),
    ("swap-content", "record 5 holds the content of record 6: reordered"),
    ("signature", "checkpoint of size 10: the signature does not verify"),
    ("stray-purge", "record 5 lost its content, and no purge record follows it"),
])
def test_verify_log_names_the_first_failure(conn, how, says):
    _fill(conn, 10)
    _seal(conn)
    _fill(conn, 10, 10)
    _seal(conn)
    ok = verify_log(conn, PUBLIC)
    assert ok.failure is None and (ok.records, ok.checkpoints, ok.unsigned) == (20, 2, 0)
    _tampered(conn, how)
    verdict = verify_log(conn, PUBLIC)
    assert verdict.failure is not None and says in verdict.failure, verdict.failure


def test_a_purge_keeps_the_log_verifiable_and_spares_cited_records(conn):
    for i in range(10):
        roomlog.append(conn, float(i), "say" if i % 2 else "ban", "a", None, {"i": i})
    _seal(conn)
    assert roomlog.purge(conn, {"say": 8.0}, None, keep=[(3, 4)], through_seq=10) == 3
    roomlog.append(conn, 20.0, "purge", None, None, {"purged": 3})
    _seal(conn, 2)
    verdict = verify_log(conn, PUBLIC)
    assert verdict.failure is None and verdict.purged == 3
    kept = {r.seq: r.purged for r in roomlog.between(conn, 1, 10)}
    assert [s for s, gone in kept.items() if gone] == [2, 6, 8]  # seq 4 is cited, 10 is new
    assert roomlog.between(conn, 2, 2)[0].to_wire() == {"seq": 2, "at": 1.0, "kind": "say",
                                                        "purged": True}


def test_concurrent_appends_through_the_store_get_distinct_seqs(tmp_path):
    async def main():
        with Store.open(tmp_path / "log.db") as store:
            await asyncio.gather(*(
                store.write(lambda c, i=i: roomlog.append(c, float(i), "say", "a", None,
                                                          {"i": i}))
                for i in range(100)))  # fmt: skip
            store.write_sync(lambda c: _seal(c))
            verdict = store.read(lambda c: verify_log(c, PUBLIC))
            assert verdict.failure is None and verdict.records == 100
            assert sorted(r.body_map()["i"] for r in store.read(
                lambda c: roomlog.between(c, 1, 100))) == list(range(100))  # fmt: skip

    asyncio.run(main())


def test_reports_are_a_queue_and_never_select_the_reporter(conn):
    def row(rid: str, at: float) -> ReportRow:
        return ReportRow(rid, '{"owner":"x"}', "x", "why", at, "open", None, None, 1, 2, b"{}")

    report_rows.save(conn, row("r1", 1.0), b"hidden-a", "k1")
    report_rows.save(conn, row("r2", 2.0), b"hidden-a", "k2")
    report_rows.save(conn, row("r3", 3.0), b"hidden-b", "k1")
    assert report_rows.find_open(conn, b"hidden-a", "k1") == "r1"
    assert report_rows.open_of_reporter(conn, b"hidden-a") == 2
    assert report_rows.close(conn, "r1", "warn", 5.0) and not report_rows.close(conn, "r1", "x", 6)
    assert report_rows.find_open(conn, b"hidden-a", "k1") is None
    assert [r.id for r in report_rows.page(conn, "open", None, 10)] == ["r2", "r3"]
    assert [r.id for r in report_rows.page(conn, None, (1.0, "r1"), 10)] == ["r2", "r3"]
    assert report_rows.open_spans(conn) == [(1, 2), (1, 2)]
    got = report_rows.get(conn, "r1")
    assert got is not None and got.state == "closed" and got.action == "warn"
    assert b"hidden-a" not in repr(got).encode()
    assert report_rows.reporter_of(conn, "r1") == b"hidden-a"
