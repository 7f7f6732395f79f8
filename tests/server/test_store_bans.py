"""Bans: expiry, the keyset walk's exactly-once property under churn, and a million rows."""

from __future__ import annotations

import sqlite3

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domainserver.store import Store, schema
from domainserver.store import bans as ban_rows

NOW = 1000.0


def _conn() -> sqlite3.Connection:
    c = sqlite3.connect(":memory:", isolation_level=None)
    schema.migrate(c)
    return c


@pytest.fixture
def conn():
    c = _conn()
    yield c
    c.close()


def test_save_get_delete(conn):
    ban_rows.save(conn, "t1", "spam", "mod", 1.0, None)
    assert ban_rows.get(conn, "t1", NOW) == ("t1", "spam", "mod", 1.0, None)
    ban_rows.save(conn, "t1", "worse", "admin", 2.0, NOW + 5)
    assert ban_rows.get(conn, "t1", NOW) == ("t1", "worse", "admin", 2.0, NOW + 5)
    assert ban_rows.delete(conn, "t1") is True
    assert ban_rows.delete(conn, "t1") is False
    assert ban_rows.get(conn, "t1", NOW) is None


def test_expiry(conn):
    ban_rows.save_many(
        conn,
        [
            ("forever", "r", None, 1.0, None),
            ("past", "r", None, 1.0, NOW - 1),
            ("exactly-now", "r", None, 1.0, NOW),
            ("future", "r", None, 1.0, NOW + 1),
        ],
    )
    assert ban_rows.get(conn, "past", NOW) is None
    assert ban_rows.get(conn, "exactly-now", NOW) is None
    assert ban_rows.get(conn, "future", NOW) is not None
    assert dict(ban_rows.load_active(conn, NOW)) == {"forever": None, "future": NOW + 1}
    assert ban_rows.page_tokens(conn, None, 10, NOW) == ["forever", "future"]
    assert sorted(ban_rows.delete_expired(conn, NOW)) == ["exactly-now", "past"]
    assert ban_rows.delete_expired(conn, NOW) == []
    assert ban_rows.get(conn, "future", NOW + 2) is None


def test_page_bans_carries_the_whole_row(conn):
    ban_rows.save_many(conn, [(f"t{i}", f"r{i}", "mod", float(i), None) for i in range(5)])
    page = ban_rows.page_bans(conn, "t1", 2, NOW)
    assert page == [("t2", "r2", "mod", 2.0, None), ("t3", "r3", "mod", 3.0, None)]
    assert ban_rows.page_bans(conn, "t4", 2, NOW) == []
    assert ban_rows.page_tokens(conn, None, 0, NOW) == []


tokens = st.text(alphabet="abcdef", min_size=1, max_size=4)


@settings(max_examples=150, deadline=None)
@given(
    stable=st.sets(tokens, max_size=30),
    initial_churn=st.sets(tokens, max_size=30),
    ops=st.lists(st.lists(st.tuples(st.booleans(), tokens), max_size=6), max_size=40),
    limit=st.integers(min_value=1, max_value=7),
)
def test_keyset_walk_returns_every_stable_ban_exactly_once(stable, initial_churn, ops, limit):
    """Whatever is banned or unbanned between pages, a token banned throughout the
    walk is returned exactly once, and no token is ever returned twice."""
    conn = _conn()
    try:
        churn_pool = initial_churn - stable
        ban_rows.save_many(conn, [(t, "stable", None, 1.0, None) for t in stable])
        ban_rows.save_many(conn, [(t, "churn", None, 1.0, None) for t in churn_pool])
        seen: list[str] = []
        after = None
        step = 0
        while True:
            page = ban_rows.page_tokens(conn, after, limit, NOW)
            if not page:
                break
            seen.extend(page)
            after = page[-1]
            # Interleave bans and unbans of tokens that are not stable.
            for ban, token in ops[step] if step < len(ops) else []:
                if token in stable:
                    continue
                if ban:
                    ban_rows.save(conn, token, "churn", None, 1.0, None)
                else:
                    ban_rows.delete(conn, token)
            step += 1
        assert seen == sorted(set(seen))
        assert stable <= set(seen)
    finally:
        conn.close()


def test_a_million_bans(tmp_path):
    n = 1_000_000
    with Store.open(tmp_path / "bans.sqlite3") as store:
        store.write_sync(
            lambda c: ban_rows.save_many(
                c,
                (
                    (f"tok{i:07d}", "bulk", None, 1.0, None if i % 10 else NOW + 1 + i)
                    for i in range(n)
                ),
            )
        )
        assert store.read(lambda c: c.execute("SELECT count(*) FROM bans").fetchone()[0]) == n
        assert store.read(lambda c: ban_rows.get(c, "tok0500001", NOW)) == (
            "tok0500001",
            "bulk",
            None,
            1.0,
            None,
        )
        first = store.read(lambda c: ban_rows.page_tokens(c, None, 3, NOW))
        assert first == ["tok0000000", "tok0000001", "tok0000002"]
        middle = store.read(lambda c: ban_rows.page_tokens(c, "tok0499999", 2, NOW))
        assert middle == ["tok0500000", "tok0500001"]
        assert store.read(lambda c: ban_rows.page_tokens(c, "tok0999999", 5, NOW)) == []
        # Every tenth ban expires at NOW + 1 + i and drops out of pages once past.
        late = NOW + 500_000
        assert store.read(lambda c: ban_rows.page_tokens(c, "tok0499989", 2, late)) == [
            "tok0499991",
            "tok0499992",
        ]
        removed = store.write_sync(lambda c: ban_rows.delete_expired(c, late))
        assert len(removed) == 50_000  # i = 0, 10, ..., 499_990
