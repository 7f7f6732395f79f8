"""Memory never runs ahead of the database. A real failure is injected into the real SQLite
file (a trigger that aborts some writes); whatever a failed write would have changed stays
unchanged in memory, for every viewer, after a restart too; the request is told it met a
server fault; and the requests around it, in the same group commit, succeed in order."""

import asyncio
import logging
import re
import sqlite3

import pytest

from domainserver.client import RequestFailed

from .conftest import BLACKLIST_KEY

BOX = {"type": "box", "position": [1, 2, 3]}
DOOMED = {"type": "doomed", "position": [1, 2, 3]}
KEEP = {"type": "keep", "position": [1, 2, 3]}
HERE = {"center": [1, 2, 3], "radius": 5}


def inject(harness, *triggers):
    """Install triggers that abort chosen writes, through a second connection to the file."""
    conn = sqlite3.connect(harness.db, timeout=10)
    for name, definition in triggers:
        conn.execute(f"CREATE TRIGGER {name} {definition} BEGIN "
                     "SELECT RAISE(ABORT, 'injected fault'); END")  # fmt: skip
    conn.commit()
    conn.close()


FAIL_DOOMED_ROWS = ("doomed_rows", "BEFORE INSERT ON entities WHEN NEW.type = 'doomed'")
FAIL_DELETING_KEEP = ("keep_rows", "BEFORE DELETE ON entities WHEN OLD.type = 'keep'")
FAIL_BANS = ("no_bans", "BEFORE INSERT ON bans")
FAIL_UNBANS = ("no_unbans", "BEFORE DELETE ON bans")
FAIL_MUTES = ("no_mutes", "BEFORE INSERT ON mutes")


def assert_server_fault(reply):
    assert reply["ok"] is False and reply["error"]["code"] == "internal", reply
    assert "not a fault of your request" in reply["error"]["message"]
    return re.search(r"logged as (\w+)", reply["error"]["message"]).group(1)


async def seen_by(client):
    """Every event pushed to `client` so far (a round trip flushes its socket first)."""
    await client.request("whoami")
    return client.drain_events()


async def ids_near(client):
    return {e["id"] for e in (await client.request("look", **HERE))["entities"]}


async def test_a_failed_rez_leaves_no_ghost_and_fails_alone(harness, people, caplog):
    inject(harness, FAIL_DOOMED_ROWS)
    t = await harness.connect(people.trusted)
    bystander = await harness.connect(people.visitor)
    mod = await harness.connect(people.moderator)
    caplog.set_level(logging.ERROR, logger="domainserver")
    # Pipelined, so they share one group commit: only the doomed one may fail.
    first, doomed, look, second = (
        t.submit("rez", entity=BOX),
        t.submit("rez", entity=DOOMED),
        t.submit("look", **HERE),
        t.submit("rez", entity=BOX),
    )
    first, doomed, look, second = await asyncio.gather(first, doomed, look, second)
    assert first["ok"] and second["ok"]
    fault = assert_server_fault(doomed)
    assert fault in caplog.text  # the operator finds the fault by the id the client got
    kept = {first["entity"]["id"], second["entity"]["id"]}
    # The look came after the doomed rez: it never saw it, committed or not.
    assert {e["type"] for e in look["entities"]} <= {"box"}
    assert await ids_near(bystander) == kept
    added = {e["entity"]["id"] for e in await seen_by(bystander) if e["ev"] == "entity_added"}
    assert added == kept
    # It never counted toward anything: the owner holds exactly the two boxes.
    found = await mod.request("find", owner=people.trusted.token)
    assert {e["id"] for e in found["entities"]} == kept
    await harness.restart()
    v = await harness.connect(people.visitor)
    assert await ids_near(v) == kept


async def test_a_failed_edit_changes_nothing(harness, people):
    inject(harness, FAIL_DOOMED_ROWS)
    t = await harness.connect(people.trusted)
    bystander = await harness.connect(people.visitor)
    box = (await t.request("rez", entity=BOX))["entity"]
    await seen_by(bystander)
    reply = await t.submit("edit", entity=box["id"], set={"type": "doomed"})
    assert_server_fault(reply)
    assert (await bystander.request("get", entity=box["id"]))["entity"] == box
    assert not [e for e in await seen_by(bystander) if e["ev"] == "entity_changed"]
    # A later edit builds on what is committed, not on the failed one.
    edited = await t.request("edit", entity=box["id"], set={"props": {"n": 1}})
    assert edited["entity"]["type"] == "box" and edited["entity"]["props"] == {"n": 1}


async def test_failed_delete_and_remove_keep_the_entity_for_everyone(harness, people):
    inject(harness, FAIL_DELETING_KEEP)
    t = await harness.connect(people.trusted)
    mod = await harness.connect(people.moderator)
    bystander = await harness.connect(people.visitor)
    kept = (await t.request("rez", entity=KEEP))["entity"]["id"]
    await seen_by(bystander)
    assert_server_fault(await t.submit("delete", entity=kept))
    assert_server_fault(await mod.submit("remove", entities=[kept]))
    assert_server_fault(await mod.submit("remove", owner=people.trusted.token))
    assert await ids_near(bystander) == {kept}
    assert not [e for e in await seen_by(bystander) if e["ev"] == "entity_removed"]
    await harness.restart()
    v = await harness.connect(people.visitor)
    assert await ids_near(v) == {kept}


async def test_a_failed_ban_neither_kicks_nor_bans_nor_removes(harness, people, http):
    inject(harness, FAIL_BANS)
    g = await harness.connect(people.griefer)
    mod = await harness.connect(people.moderator)
    box = (await g.request("rez", entity=BOX))["entity"]["id"]
    reply = await mod.submit("ban", token=people.griefer.token, reason="spam")
    assert_server_fault(reply)
    # Not kicked: the griefer's socket still answers, and it was pushed no `kicked`.
    assert not [e for e in await seen_by(g) if e["ev"] in ("kicked", "entity_removed")]
    assert await ids_near(mod) == {box}
    # Not banned anywhere: the lookup and the list agree, and a new hello is admitted.
    headers = {"Authorization": f"Bearer {BLACKLIST_KEY}"}
    async with http.get(f"/api/v1/blacklist/{people.griefer.token}", headers=headers) as r:
        assert (await r.json())["banned"] is False
    async with http.get("/api/v1/blacklist", headers=headers) as r:
        assert (await r.json())["tokens"] == []
    again = await harness.connect(people.griefer)
    assert (await again.request("whoami"))["token"] == people.griefer.token
    await harness.restart()
    v = await harness.connect(people.griefer)
    assert await ids_near(v) == {box}


async def test_a_ban_kicks_only_once_committed(harness, people):
    g = await harness.connect(people.griefer)
    mod = await harness.connect(people.moderator)
    ban = mod.submit("ban", token=people.griefer.token, reason="spam")
    kicked = asyncio.ensure_future(g.event("kicked"))
    reply = await ban
    assert reply["ok"]
    assert (await kicked)["reason"] == "spam"
    assert harness.domain.bans.is_banned(people.griefer.token, harness.domain.clock())


async def test_a_failed_unban_keeps_the_ban(harness, people):
    g = await harness.connect(people.griefer)
    mod = await harness.connect(people.moderator)
    await mod.request("ban", token=people.griefer.token, reason="spam")
    await g.wait_closed()
    inject(harness, FAIL_UNBANS)
    assert_server_fault(await mod.submit("unban", token=people.griefer.token))
    with pytest.raises(RequestFailed) as refused:
        await harness.connect(people.griefer)
    assert refused.value.code == "banned"


async def test_a_failed_mute_filters_nothing(harness, people):
    inject(harness, FAIL_MUTES)
    victim = await harness.connect(people.visitor)
    g = await harness.connect(people.griefer)
    assert_server_fault(await victim.submit("mute", target={"owner": people.griefer.token}))
    assert (await victim.request("mutes"))["mutes"] == []
    await seen_by(victim)
    await g.request("rez", entity=BOX)
    await g.request("say", text="still heard")
    events = await seen_by(victim)
    assert {e["ev"] for e in events} >= {"entity_added", "chat"}
    await harness.restart()
    victim = await harness.connect(people.visitor)
    assert (await victim.request("mutes"))["mutes"] == []


async def test_pipelined_replies_come_in_request_order_and_reads_see_committed(harness, people):
    t = await harness.connect(people.trusted)
    rez = t.submit("rez", entity=BOX)
    look = t.submit("look", **HERE)
    who = t.submit("whoami")
    rez, look, who = await asyncio.gather(rez, look, who)
    assert t.reply_order[-3:] == [rez["re"], look["re"], who["re"]]
    # The look waited for the rez before it (same connection), so it sees it, committed.
    assert rez["entity"]["id"] in {e["id"] for e in look["entities"]}
    # And a burst of writes and reads, mixed, still answers strictly in order.
    sent = []
    for i in range(30):
        sent.append(t.submit("rez", entity=BOX) if i % 3 else t.submit("look", **HERE))
    replies = await asyncio.gather(*sent)
    assert t.reply_order[-30:] == [r["re"] for r in replies]
