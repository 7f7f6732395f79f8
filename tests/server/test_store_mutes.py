"""Mutes are a set per muter: saving twice is one mute, and delete reports what it found."""

from __future__ import annotations

import msgpack

from domainserver.store import mutes as mute_rows

BOB = msgpack.packb({"avatar": "bob"})
CAROL = msgpack.packb({"token": "carol"})


def test_save_is_new_only_once(conn):
    assert mute_rows.save(conn, "alice", "avatar:bob", BOB, 1.0) is True
    assert mute_rows.save(conn, "alice", "avatar:bob", BOB, 2.0) is False
    assert mute_rows.save(conn, "dave", "avatar:bob", BOB, 2.0) is True
    assert mute_rows.for_muter(conn, "alice") == [("avatar:bob", BOB)]


def test_load_all_and_for_muter(conn):
    mute_rows.save(conn, "alice", "token:carol", CAROL, 1.0)
    mute_rows.save(conn, "alice", "avatar:bob", BOB, 1.0)
    mute_rows.save(conn, "dave", "avatar:bob", BOB, 1.0)
    assert list(mute_rows.load_all(conn)) == [
        ("alice", "avatar:bob", BOB),
        ("alice", "token:carol", CAROL),
        ("dave", "avatar:bob", BOB),
    ]
    assert mute_rows.for_muter(conn, "alice") == [("avatar:bob", BOB), ("token:carol", CAROL)]
    assert mute_rows.for_muter(conn, "nobody") == []


def test_delete(conn):
    mute_rows.save(conn, "alice", "avatar:bob", BOB, 1.0)
    assert mute_rows.delete(conn, "alice", "avatar:bob") is True
    assert mute_rows.delete(conn, "alice", "avatar:bob") is False
    assert list(mute_rows.load_all(conn)) == []
