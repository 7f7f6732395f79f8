"""The world snapshot (fast restart): read only when the database says it matches, so a
kill -9, a crash, another program's edit or a damaged file can never bring back a world
the database does not hold."""

import logging
import signal
import sqlite3

import pytest

from domainserver.client import Client, RequestFailed
from domainserver.store import Store, snapshot
from domainserver.store import entities as entity_rows
from entities import Entity, World

from ..entities.test_columns import state_of
from .conftest import policy_text, run_cli
from .process import serve

BOX = {"type": "box", "position": [1, 2, 3]}


def world_from_rows(db) -> World:
    """The world exactly as the database holds it, built the slow way."""
    with Store.open(db) as store:
        rows = store.read(lambda c: list(entity_rows.load_all(c)))
    world = World()
    world.load(Entity.from_row(r) for r in rows)
    return world


def loaded_from(caplog) -> str:
    lines = [r.getMessage() for r in caplog.records if "loaded:" in r.getMessage()]
    assert lines, "no load line logged"
    return "snapshot" if "'world_from': 'snapshot'" in lines[-1] else "database"


async def rez_a_varied_world(harness, people):
    t = await harness.connect(people.trusted)
    made = []
    for i in range(12):
        entity = {**BOX, "position": [i * 30.0, -i * 7.0, i % 3]}
        if i % 3 == 0:
            entity["visible"] = False
        if i % 4 == 1:
            entity["lifetime"] = 3600
        if i % 5 == 2:
            entity["props"] = {"n": i, "tags": ["x"]}
        if i == 0:
            entity["script"] = "https://scripts.example/spawner.js"
        made.append((await t.request("rez", entity=entity))["entity"])
    child = (await t.request("rez", entity=BOX, parent=made[0]["id"]))["entity"]
    await t.request("set_override", entity=made[1]["id"], anyone=False, groups=["builders"])
    await t.request("delete", entity=made[2]["id"])
    return made, child


async def test_a_clean_stop_restarts_from_the_snapshot_with_the_same_world(
    harness, people, caplog
):
    caplog.set_level(logging.INFO)
    made, _ = await rez_a_varied_world(harness, people)
    before = state_of(harness.domain.world)
    await harness.stop()
    assert snapshot.path_for(harness.db).exists()
    caplog.clear()
    await harness.start()
    assert loaded_from(caplog) == "snapshot"
    after = state_of(harness.domain.world)
    assert after == before
    # ...and it is the world the database holds, built row by row.
    assert after == state_of(world_from_rows(harness.db))
    t = await harness.connect(people.trusted)
    got = await t.request("get", entity=made[1]["id"])
    assert got["entity"]["override"]["groups"] == ["builders"]


async def test_a_start_takes_the_seal_so_a_later_crash_reads_the_database(
    harness, people, caplog
):
    caplog.set_level(logging.INFO)
    await rez_a_varied_world(harness, people)
    await harness.stop()
    await harness.start()  # from the snapshot, which it may use only this once
    t = await harness.connect(people.trusted)
    late = (await t.request("rez", entity=BOX))["entity"]
    # A crash now: the server never stops cleanly, so no new seal is written. The store is
    # closed under it the way a dead process leaves it, without the shutdown's snapshot.
    await harness.close()
    harness.domain.store.close()
    with Store.open(harness.db) as store:
        assert store.write_sync(snapshot.take_seal) is None
    caplog.clear()
    await harness.start()
    assert loaded_from(caplog) == "database"
    assert late["id"] in harness.domain.world


async def test_an_entity_row_changed_by_another_program_voids_the_seal(
    harness, people, caplog
):
    caplog.set_level(logging.INFO)
    made, _ = await rez_a_varied_world(harness, people)
    await harness.stop()
    with sqlite3.connect(harness.db) as db:  # an operator's hand edit, while stopped
        db.execute("UPDATE entities SET px = 999.0 WHERE id = ?", (made[3]["id"],))
    caplog.clear()
    await harness.start()
    assert loaded_from(caplog) == "database"
    assert harness.domain.world.get(made[3]["id"]).position[0] == 999.0


@pytest.mark.parametrize("damage", ["flip", "truncate", "foreign", "missing"])
async def test_a_damaged_or_missing_snapshot_is_refused_and_the_database_read(
    harness, people, caplog, damage
):
    caplog.set_level(logging.INFO)
    await rez_a_varied_world(harness, people)
    expected = state_of(harness.domain.world)
    await harness.stop()
    path = snapshot.path_for(harness.db)
    data = bytearray(path.read_bytes())
    if damage == "flip":
        data[-10] ^= 0xFF
        path.write_bytes(data)
    elif damage == "truncate":
        path.write_bytes(data[: len(data) // 2])
    elif damage == "foreign":
        path.write_bytes(b"not a snapshot at all" + data)
    else:
        path.unlink()
    caplog.clear()
    await harness.start()
    assert loaded_from(caplog) == "database"
    said = " ".join(r.getMessage() for r in caplog.records)
    assert "world snapshot not used" in said
    assert {"flip": "damaged", "truncate": "damaged", "foreign": "not a world snapshot",
            "missing": "missing"}[damage] in said  # fmt: skip
    assert state_of(harness.domain.world) == expected


async def test_world_snapshot_off_writes_none(harness, people, caplog):
    caplog.set_level(logging.INFO)
    await harness.restart(world_snapshot=False)
    await rez_a_varied_world(harness, people)
    await harness.stop()
    assert not snapshot.path_for(harness.db).exists()
    caplog.clear()
    await harness.start()
    assert loaded_from(caplog) == "database"


def test_an_entity_change_between_opening_and_sealing_leaves_no_seal(tmp_path):
    with Store.open(tmp_path / "d.db") as store:
        store.write_sync(snapshot.open_seal)
        store.write_sync(lambda c: c.execute(
            "INSERT INTO entities (id, type, visible, override_anyone, override_groups, props,"
            " created_at) VALUES ('e1', 'box', 1, 0, '[]', x'80', 1.0)"
        ))  # fmt: skip
        assert store.write_sync(lambda c: snapshot.seal(c, b"s" * 16)) is False
        assert store.write_sync(snapshot.take_seal) is None
        # Without a change in between the seal holds, once.
        store.write_sync(snapshot.open_seal)
        assert store.write_sync(lambda c: snapshot.seal(c, b"s" * 16)) is True
        assert store.write_sync(snapshot.take_seal) == b"s" * 16
        assert store.write_sync(snapshot.take_seal) is None


def test_a_snapshot_of_another_seal_is_not_read(tmp_path):
    path = tmp_path / "d.db.snapshot"
    snapshot.write(path, {"id": []}, b"a" * 16)
    assert snapshot.read(path, b"a" * 16) == {"id": []}
    with pytest.raises(snapshot.SnapshotUnusable, match="another stop"):
        snapshot.read(path, b"b" * 16)
    with pytest.raises(snapshot.SnapshotUnusable, match="no seal"):
        snapshot.read(path, None)


async def test_kill_9_after_a_fast_start_loses_nothing_acknowledged(tmp_path, people):
    """The real process: stop cleanly, start from the snapshot, change the world, kill -9;
    the next start reads the database and has every acknowledged change."""
    (tmp_path / "p.toml").write_text(policy_text(people))
    args = ["--db", "d.db", "--permissions", "p.toml"]
    first = await serve(tmp_path, *args, name="first")
    c = await Client.connect(first.url, people.trusted)
    kept = [(await c.request("rez", entity=BOX))["entity"]["id"] for _ in range(5)]
    await c.close()
    assert first.stop() == 0
    assert "world snapshot of 5 entities written" in first.log()

    second = await serve(tmp_path, *args, name="second")
    assert "'world_from': 'snapshot'" in second.log()
    c = await Client.connect(second.url, people.trusted)
    late = (await c.request("rez", entity=BOX))["entity"]["id"]
    await c.request("delete", entity=kept[0])
    await c.close()
    second.proc.send_signal(signal.SIGKILL)
    second.proc.wait(10)

    third = await serve(tmp_path, *args, name="third")
    try:
        assert "'world_from': 'database'" in third.log()
        c = await Client.connect(third.url, people.trusted)
        for eid in [*kept[1:], late]:
            assert (await c.request("get", entity=eid))["entity"]["id"] == eid
        with pytest.raises(RequestFailed) as gone:
            await c.request("get", entity=kept[0])
        assert gone.value.code == "not_found"
        await c.close()
    finally:
        assert third.stop() == 0
    assert run_cli("verify-log", "--db", str(tmp_path / "d.db")).returncode == 0


def test_a_failed_write_leaves_no_partial_file_behind(tmp_path, monkeypatch):
    import os

    path = tmp_path / "d.db.snapshot"
    real_fsync = os.fsync

    def full_disk(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", full_disk)
    with pytest.raises(OSError, match="No space"):
        snapshot.write(path, {"id": []}, b"a" * 16)
    monkeypatch.setattr(os, "fsync", real_fsync)
    assert list(tmp_path.iterdir()) == []
