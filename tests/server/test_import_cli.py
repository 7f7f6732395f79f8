"""`domainserver import` end to end: creates the database, imports in one transaction
(a malformed file imports nothing), and the imported bans hold at the server's next start
and are published in its feed."""

import sqlite3

from domainserver.client import Identity

from .conftest import run_cli
from .feeds_helpers import hello_refused


def _bans(db):
    with sqlite3.connect(db) as conn:
        return dict(conn.execute("SELECT token, reason FROM bans").fetchall())


def test_csv_import_creates_the_database_and_counts_what_it_did(tmp_path):
    a, b = Identity.generate().token, Identity.generate().token
    csv = tmp_path / "bans.csv"
    csv.write_text(f"token,reason,expires_at\n{a},spam,\n{b},old,1\n{a},spam again,\n")
    db = tmp_path / "new.db"
    done = run_cli("import", str(csv), "--db", str(db))
    assert done.returncode == 0, done.stderr
    assert "imported 1 ban(s)" in done.stdout and "1 duplicate row(s)" in done.stdout
    assert "1 already expired" in done.stdout
    assert _bans(db) == {a: "spam again"}
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT banned FROM ban_changes WHERE token = ?", (a,)).fetchone()
        assert conn.execute("SELECT kind FROM log").fetchall() == [("import",)]


def test_a_malformed_file_imports_nothing(tmp_path):
    a = Identity.generate().token
    db = tmp_path / "d.db"
    first = tmp_path / "first.csv"
    first.write_text(f"{a},kept\n")
    assert run_cli("import", str(first), "--db", str(db)).returncode == 0
    rows = "".join(f"{Identity.generate().token},r{i}\n" for i in range(50))
    bad = tmp_path / "bad.csv"
    bad.write_text(rows + "zzz,broken\n" + rows)
    done = run_cli("import", str(bad), "--db", str(db))
    assert done.returncode == 1
    assert done.stderr.strip() == f'{bad}:51: "zzz" is not a token (32 characters of a-z and ' \
        "2-7); nothing imported"
    assert _bans(db) == {a: "kept"}


def test_overte_import_writes_the_mapped_permissions_and_reports(tmp_path):
    from pathlib import Path

    example = Path(__file__).resolve().parents[2] / "examples" / "overte-settings.json"
    out = tmp_path / "mapped.toml"
    db = tmp_path / "d.db"
    done = run_cli("import", str(example), "--db", str(db), "--permissions-out", str(out))
    assert done.returncode == 0, done.stderr
    assert "imported 1 ban(s)" in done.stdout and "not mapped (11):" in done.stdout
    assert run_cli("check", str(out)).returncode == 0
    again = run_cli("import", str(example), "--db", str(db), "--permissions-out", str(out))
    assert again.returncode == 2 and "refusing to overwrite" in again.stderr


async def test_imported_bans_hold_at_start_and_are_published(harness, http):
    griefer = Identity.generate()
    csv = harness.db.parent / "in.csv"
    csv.write_text(f"{griefer.token},imported\n")
    await harness.stop()
    import asyncio
    import sys

    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "domainserver", "import", str(csv), "--db", str(harness.db),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    await asyncio.wait_for(proc.communicate(), timeout=60)
    assert proc.returncode == 0
    await harness.start()
    assert await hello_refused(harness, griefer) == "banned"
    async with http.get(str(harness.server.make_url("/api/v1/banfeed"))) as resp:
        body = await resp.json()
    assert [e["token"] for e in body["entries"]] == [griefer.token]
