"""The room log on a running server: the domain key beside the database, checkpoints every
N records or T seconds, retention that keeps the log verifiable and spares what an open
report cites, and a time range exported and verified."""

from __future__ import annotations

import asyncio
import json
import os
import stat
import time

import aiohttp
import pytest

from domainserver.evidence import verify_bundle
from domainserver.services import evidence, reports
from domainserver.services.domainkey import DomainKey, DomainKeyError
from domainserver.store import checkpoints as cps
from domainserver.store import log as log_rows
from domainserver.store import reports as report_rows
from domainserver.store.logverify import verify_log

from .conftest import run_cli


async def until(predicate, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.02)


async def identity(http) -> dict:
    async with http.get("/api/v1/domain") as resp:
        assert resp.status == 200
        return await resp.json()


async def test_the_domain_key_is_made_once_beside_the_database_owner_only(harness, http):
    first = await identity(http)
    key_file = str(harness.db) + ".key"
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    assert first == {"id": "testdomain", "key": harness.domain.key.text}
    await harness.restart()
    async with aiohttp.ClientSession(base_url=str(harness.server.make_url("/"))) as again:
        assert await identity(again) == first  # the same database answers with the same key
    os.chmod(key_file, 0o644)
    with pytest.raises(DomainKeyError, match="chmod 600"):
        DomainKey.load_or_create(str(harness.db))


def signed(store) -> int:
    latest = store.read(cps.latest)
    return 0 if latest is None else latest.size


async def test_a_checkpoint_every_n_records(harness, people):
    await harness.restart(checkpoint_every=10, checkpoint_seconds=3600)
    store = harness.domain.store
    talker = await harness.connect(people.visitor)
    for i in range(12):
        await talker.request("say", text=f"n{i}")
    await until(lambda: signed(store) >= 10)
    verdict = store.read(lambda c: verify_log(c, harness.domain.key.public))
    assert verdict.failure is None and verdict.checkpoints >= 1


async def test_a_checkpoint_t_seconds_after_a_record(harness, people):
    await harness.restart(checkpoint_every=10**6, checkpoint_seconds=0.3)
    store = harness.domain.store
    before = signed(store)
    talker = await harness.connect(people.visitor)
    await talker.request("say", text="alone")  # chat is logged, not waited for
    await until(lambda: store.read(log_rows.last_seq) > before)
    target = store.read(log_rows.last_seq)
    await until(lambda: signed(store) >= target)


async def test_retention_purges_chat_keeps_cited_records_and_stays_verifiable(harness, people):
    await harness.restart(report_rate=1000.0, retention=(("say", 60.0),))
    domain = harness.domain
    griefer = await harness.connect(people.griefer)
    victim = await harness.connect(people.visitor)
    for i in range(5):
        await griefer.request("say", text=f"old {i}")
    rid = (await victim.request("report", target={"avatar": people.griefer.token},
                                reason="r"))["report"]  # fmt: skip
    for i in range(5):
        await griefer.request("say", text=f"new {i}")
    await evidence.seal(domain)
    purged = await evidence.purge(domain, now=domain.clock() + 3600)
    records = domain.store.read(lambda c: log_rows.between(c, 1, 10_000))
    cited = domain.store.read(lambda c: c.execute(
        "SELECT first_seq, last_seq FROM reports WHERE id = ?", (rid,)).fetchone())
    says = [r for r in records if r.kind == "say"]
    assert purged == sum(r.purged for r in records) > 0
    assert all(not r.purged for r in says if cited[0] <= r.seq <= cited[1])
    assert all(r.purged for r in says if not cited[0] <= r.seq <= cited[1])
    assert not any(r.purged for r in records if r.kind != "say")
    assert any(r.kind == "purge" and r.body_map()["purged"] == purged for r in records)
    verdict = domain.store.read(lambda c: verify_log(c, domain.key.public))
    assert verdict.failure is None and verdict.purged == purged and verdict.unsigned == 0
    # The report's evidence, captured before the purge, still verifies as a bundle.
    row = domain.store.read(lambda c: report_rows.get(c, rid))
    bundle = reports.bundle_of(domain, reports.report_wire(row))
    assert verify_bundle(bundle, domain.key.text).ok


async def test_a_time_range_exports_and_verifies_with_the_key_alone(harness, people, http,
                                                                    tmp_path):  # fmt: skip
    talker = await harness.connect(people.visitor)
    start = time.time() - 1
    for i in range(12):
        await talker.request("say", text=f"range {i}")
    await evidence.seal(harness.domain)
    out = tmp_path / "hour.json"
    done = run_cli("export", "--db", str(harness.db), "--since", str(start), "--out", str(out))
    assert done.returncode == 0, done.stderr
    bundle = json.loads(out.read_text())
    assert [r["text"] for r in bundle["records"] if r["kind"] == "say"] == [
        f"range {i}" for i in range(12)]
    key = (await identity(http))["key"]
    checked = run_cli("verify-log", str(out), "--key", key)
    assert checked.returncode == 0, checked.stdout
    none = run_cli("export", "--db", str(harness.db), "--since", "1", "--until", "2",
                   "--out", str(tmp_path / "none.json"))  # fmt: skip
    assert none.returncode == 2 and "no signed record" in none.stderr
