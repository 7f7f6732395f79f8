"""`domainserver backup OUT` copies the live database while the server writes to it: the
copy is consistent, holds everything acknowledged before it started, and the server never
stops acknowledging meanwhile; the copy is read through a read-only connection."""

import asyncio
import sqlite3

import pytest

from domainserver.client import Client
from domainserver.store.backup import open_reader

from .conftest import policy_text, run_cli
from .process import serve


async def test_backup_while_the_server_writes(tmp_path, people):
    perms = tmp_path / "p.toml"
    fast = policy_text(people).replace("max_entities = 50", "max_entities = 1000000")
    perms.write_text(fast.replace("rez_per_second = 1000", "rez_per_second = 1000000"))
    db = tmp_path / "live.db"
    served = await serve(tmp_path, "--permissions", str(perms), "--db", str(db))
    acked: list[str] = []
    stop = asyncio.Event()

    async def writer(client):
        n = 0
        while not stop.is_set():
            batch = [client.submit("rez", entity={"type": "box", "position": [n + i, 0, 0]})
                     for i in range(20)]  # fmt: skip
            for reply in await asyncio.gather(*batch):
                assert reply["ok"], reply
                acked.append(reply["entity"]["id"])
            n += 20

    c = None
    try:
        c = await Client.connect(served.url, people.moderator)
        task = asyncio.create_task(writer(c))
        async with asyncio.timeout(30):
            while len(acked) < 400 and not task.done():
                await asyncio.sleep(0.01)
            before = set(acked)
            out = await asyncio.to_thread(
                run_cli, "backup", str(tmp_path / "copy.db"), "--db", str(db)
            )
            during = len(acked)
            while len(acked) < during + 100 and not task.done():  # still acknowledging
                await asyncio.sleep(0.01)
            stop.set()
            await task
        assert len(before) >= 400 and len(acked) >= during + 100
    finally:
        stop.set()
        if c is not None:
            await c.close()
        assert served.stop() == 0
    assert out.returncode == 0, out.stderr
    assert "integrity ok" in out.stdout
    copy = sqlite3.connect(tmp_path / "copy.db")
    try:
        assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        ids = {row[0] for row in copy.execute("SELECT id FROM entities")}
    finally:
        copy.close()
    assert before <= ids  # everything acknowledged before the backup is in it
    assert ids <= set(acked)  # and nothing that was never acknowledged
    assert not (tmp_path / "copy.db.partial").exists()


def test_backup_reads_through_a_read_only_connection(tmp_path):
    db = tmp_path / "x.db"
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE t (x)")
    conn.commit()
    conn.close()
    reader = open_reader(str(db))
    try:
        with pytest.raises(sqlite3.OperationalError):
            reader.execute("INSERT INTO t VALUES (1)")
    finally:
        reader.close()


def test_backup_refuses_to_overwrite_and_a_missing_database(tmp_path):
    (tmp_path / "out.db").write_text("precious")
    db = tmp_path / "x.db"
    sqlite3.connect(db).close()
    out = run_cli("backup", str(tmp_path / "out.db"), "--db", str(db))
    assert out.returncode == 2 and "refusing to overwrite" in out.stderr
    assert (tmp_path / "out.db").read_text() == "precious"
    missing = run_cli("backup", str(tmp_path / "new.db"), "--db", str(tmp_path / "none.db"))
    assert missing.returncode == 2 and "no database at" in missing.stderr
    assert "Traceback" not in out.stderr + missing.stderr
