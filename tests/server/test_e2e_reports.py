"""The whole story over real sockets: a harasser chats, the victim reports, a moderator reads
the queue and the evidence and bans; the exported bundle verifies with the public key alone,
and one altered byte, one removed record, one reordered pair are each caught. The reporter's
token is in nothing the harasser or a bystander can read."""

from __future__ import annotations

import json
import shutil
import sqlite3

import msgpack
import pytest

from domainserver.client import Client, RequestFailed

from .conftest import run_cli

BOX = {"type": "box", "position": [1, 0, 1]}


@pytest.fixture
def policy_extra(people):
    # `stranger` is the warden: the report queue and the log, besides kick and ban.
    return f"""
[roles.warden]
rez = "permanent"
scripts = true
rez_per_second = 1000
chat_per_second = 1000
caps = ["reports", "audit", "kick", "ban"]
rank = 200

[groups.wardens]
role = "warden"
members = ["{people.stranger.token}"]
"""


async def fails(code: str, awaitable) -> RequestFailed:
    with pytest.raises(RequestFailed) as err:
        await awaitable
    assert err.value.code == code, err.value
    return err.value


def seen(client: Client, replies: list[dict]) -> bytes:
    """Everything a client was sent (events and the replies it got), as bytes to search."""
    return msgpack.packb([client.drain_events(), replies])


async def domain_key(http) -> str:
    async with http.get("/api/v1/domain") as resp:
        assert resp.status == 200
        body = await resp.json()
    assert body["id"] == "testdomain" and body["key"].startswith("ed25519:")
    return body["key"]


async def test_harassment_report_to_ban_with_verifiable_evidence(harness, people, http,
                                                                 tmp_path):  # fmt: skip
    harasser = await harness.connect(people.griefer, name="Grr")
    bystander = await harness.connect(people.builder, name="Bea")
    victim = await harness.connect(people.visitor, name="Vic", invisible=True)
    warden = await harness.connect(people.stranger, name="Ward")
    harasser_replies = [await harasser.request("say", text="you are worthless")]
    harasser_replies.append(await harasser.request("rez", entity=BOX))
    harasser_replies.append(await harasser.request("say", text="leave or else"))
    await bystander.request("say", text="hey, not cool")

    filed = await victim.request(
        "report", reason="he keeps insulting me",
        target={"chat": {"from": {"avatar": people.griefer.token}, "text": "you are worthless"}})
    assert set(filed) == {"re", "ok", "report"}
    rid = filed["report"]

    # Neither the harasser nor a bystander may read the queue or the log.
    for client, replies in ((harasser, harasser_replies), (bystander, [])):
        for op, args in (("reports", {}), ("log", {}),
                         ("resolve", {"report": rid, "action": "dismiss"})):
            err = await fails("not_allowed", client.request(op, **args))
            replies.append({"error": err.message})

    # The moderator reads the queue: the harasser's words, proven, and nothing of the victim.
    queue = await warden.request("reports", state="open")
    (report,) = queue["reports"]
    assert report["id"] == rid and report["state"] == "open" and report["action"] is None
    assert report["target"] == {"chat": {"from": {"avatar": people.griefer.token},
                                         "text": "you are worthless"}}  # fmt: skip
    evidence = report["evidence"]
    texts = [r.get("text") for r in evidence["records"] if r["kind"] == "say"]
    assert texts == ["you are worthless", "leave or else", "hey, not cool"]
    assert any(r["kind"] == "rez" and r["actor"] == people.griefer.token
               for r in evidence["records"])  # fmt: skip
    assert evidence["withheld"]  # the victim's own arrival names the victim
    assert people.visitor.token not in json.dumps(report)
    log = await warden.request("log", kind="report")
    assert [r["report"] for r in log["records"]] == [rid]
    assert people.visitor.token not in json.dumps(log["records"])

    # The moderator bans from the report: the harasser is put out, the victim only told.
    resolved = await warden.request("resolve", report=rid, action="ban", reason="harassment",
                                    duration=3600)  # fmt: skip
    assert resolved["report"]["state"] == "closed" and resolved["report"]["action"] == "ban"
    assert (await harasser.event("kicked"))["reason"] == "harassment"
    assert await harasser.wait_closed() == 4003
    assert await victim.event("report_resolved") == {"ev": "report_resolved", "report": rid}
    await fails("banned", Client.connect(harness.ws_url, people.griefer))
    await fails("bad_request", warden.request("resolve", report=rid, action="dismiss"))
    for client, replies in ((harasser, harasser_replies), (bystander, [])):
        assert people.visitor.token.encode() not in seen(client, replies)
    assert people.visitor.token not in json.dumps(resolved)

    # Export while the server runs; verify elsewhere with only the bundle and the public key.
    key = await domain_key(http)
    out = tmp_path / "evidence.json"
    done = run_cli("export", "--db", str(harness.db), "--report", rid, "--out", str(out))
    assert done.returncode == 0, done.stderr
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    shutil.copy(out, elsewhere / "evidence.json")
    bundle_text = (elsewhere / "evidence.json").read_text()
    assert people.visitor.token not in bundle_text
    bundle = json.loads(bundle_text)
    assert bundle["key"] == key and bundle["report"]["id"] == rid
    assert all({"seq", "at", "kind"} <= set(r) for r in bundle["records"])
    ok = run_cli("verify-log", "evidence.json", "--key", key, cwd=elsewhere)
    assert ok.returncode == 0 and ok.stdout.startswith("ok:"), ok.stdout + ok.stderr

    def tampered(change) -> str:
        copy = json.loads(bundle_text)
        change(copy["records"])
        (elsewhere / "bad.json").write_text(json.dumps(copy))
        result = run_cli("verify-log", "bad.json", "--key", key, cwd=elsewhere)
        assert result.returncode == 1, result.stdout
        return result.stdout

    worthless = next(i for i, r in enumerate(bundle["records"])
                     if r.get("text") == "you are worthless")  # fmt: skip
    seq = bundle["records"][worthless]["seq"]
    # One altered byte in a record.
    said = tampered(lambda rs: rs[worthless].update(text="you are worthlesS"))
    assert f"record {seq} was altered" in said
    # One removed record.
    said = tampered(lambda rs: rs.pop(worthless))
    assert f"record {seq} was removed" in said
    # One reordered pair.
    said = tampered(lambda rs: rs.insert(worthless, rs.pop(worthless + 1)))
    assert "reordered" in said and str(seq) in said
    # A bundle signed by another key.
    other = "ed25519:" + "A" * 43 + "="
    result = run_cli("verify-log", "evidence.json", "--key", other, cwd=elsewhere)
    assert result.returncode == 1 and "signature does not verify" in result.stdout

    # The live database verifies too, with the key beside it.
    db_ok = run_cli("verify-log", "--db", str(harness.db))
    assert db_ok.returncode == 0, db_ok.stdout + db_ok.stderr


async def test_a_stopped_database_verifies_and_each_tampering_is_named(harness, people,
                                                                       tmp_path):  # fmt: skip
    talker = await harness.connect(people.visitor, name="Tal")
    for i in range(30):
        await talker.request("say", text=f"line {i}")
    await harness.stop()  # a clean shutdown signs a checkpoint over everything
    clean = run_cli("verify-log", "--db", str(harness.db))
    assert clean.returncode == 0 and "not under a checkpoint" not in clean.stdout, clean.stdout

    def copy_and(sql: str, *args) -> str:
        db = tmp_path / "copy.db"
        shutil.copy(harness.db, db)
        shutil.copy(str(harness.db) + ".key", str(db) + ".key")
        with sqlite3.connect(db) as conn:
            conn.execute(sql, args)
        conn.close()
        result = run_cli("verify-log", "--db", str(db))
        assert result.returncode == 1, result.stdout
        return result.stdout

    with sqlite3.connect(harness.db) as conn:
        seq, data = conn.execute("SELECT seq, data FROM log WHERE kind = 'say' LIMIT 1 OFFSET 9"
                                 ).fetchone()  # fmt: skip
    conn.close()
    altered = bytes(data).replace(b"line 9", b"line 8")
    assert f"record {seq} was altered" in copy_and("UPDATE log SET data = ? WHERE seq = ?",
                                                   altered, seq)  # fmt: skip
    assert f"record {seq} was removed" in copy_and("DELETE FROM log WHERE seq = ?", seq)
    swapped = copy_and(
        "UPDATE log SET data = CASE seq WHEN ? THEN (SELECT data FROM log WHERE seq = ?)"
        " ELSE (SELECT data FROM log WHERE seq = ?) END WHERE seq IN (?, ?)",
        seq, seq + 1, seq, seq, seq + 1)  # fmt: skip
    assert f"record {seq} holds the content of record {seq + 1}: reordered" in swapped


async def test_report_refusals_merging_and_caps(harness, people):
    await harness.restart(report_rate=1000.0, max_open_reports=2)
    griefer = await harness.connect(people.griefer)
    victim = await harness.connect(people.visitor)
    box = (await griefer.request("rez", entity=BOX))["entity"]
    await fails("not_found", victim.request("report", target={"entity": "0" * 16},
                                            reason="x"))  # fmt: skip
    await fails("not_found", victim.request("report", target={"chat": 999_999}, reason="x"))
    await fails("not_found", victim.request(
        "report", target={"avatar": people.trusted.token}, reason="x"))  # never seen here
    err = await fails("bad_request", victim.request(
        "report", target={"entity": box["id"]}, reason="x" * 1001))
    assert people.visitor.token not in err.message
    await fails("bad_request", victim.request("report", target={"planet": "x"}, reason="x"))
    await fails("bad_request", victim.request("report", target={"entity": box["id"]}))
    first = await victim.request("report", target={"entity": box["id"]}, reason="ugly")
    again = await victim.request("report", target={"entity": box["id"]}, reason="still ugly")
    assert again["report"] == first["report"]  # merged
    await victim.request("report", target={"owner": people.griefer.token}, reason="spam")
    err = await fails("rate_limited", victim.request(
        "report", target={"avatar": people.griefer.token}, reason="more"))
    assert people.visitor.token not in err.message
    # Another reporter has a cap of their own.
    other = await harness.connect(people.builder)
    assert (await other.request("report", target={"entity": box["id"]}, reason="ugly")
            )["report"] != first["report"]  # fmt: skip


async def test_reporting_too_fast_is_rate_limited(harness, people):
    griefer = await harness.connect(people.griefer)
    victim = await harness.connect(people.visitor)
    await griefer.request("say", text="boo")
    await victim.request("report", target={"avatar": people.griefer.token}, reason="boo")
    await fails("rate_limited", victim.request(
        "report", target={"chat": {"from": {"avatar": people.griefer.token}, "text": "boo"}},
        reason="boo"))


async def test_warn_and_kick_reach_the_reported_and_an_entity_means_its_owner(harness, people):
    await harness.restart(report_rate=1000.0)
    griefer = await harness.connect(people.griefer)
    victim = await harness.connect(people.visitor)
    warden = await harness.connect(people.stranger)
    box = (await griefer.request("rez", entity=BOX))["entity"]
    on_box = (await victim.request("report", target={"entity": box["id"]}, reason="r"))["report"]
    on_him = (await victim.request("report", target={"owner": people.griefer.token},
                                   reason="r"))["report"]  # fmt: skip
    await warden.request("resolve", report=on_box, action="warn", reason="tidy up")
    assert await griefer.event("warned") == {"ev": "warned", "reason": "tidy up"}
    assert await victim.event("report_resolved") == {"ev": "report_resolved", "report": on_box}
    await warden.request("resolve", report=on_him, action="kick")
    kicked = await griefer.event("kicked")
    assert kicked["reason"] and "r" != kicked["reason"]  # never the reporter's words
    assert await griefer.wait_closed() == 4002
    closed = await warden.request("reports", state="closed")
    assert {r["action"] for r in closed["reports"]} == {"warn", "kick"}
    await fails("not_found", warden.request("resolve", report="nope", action="warn"))
    await fails("bad_request", warden.request("resolve", report=on_him, action="smite"))


async def test_the_audit_log_reads_by_time_token_and_kind(harness, people):
    talker = await harness.connect(people.visitor, name="Tal")
    warden = await harness.connect(people.stranger)
    await talker.request("say", text="hello")
    await talker.request("rez", entity=BOX)
    mine = await warden.request("log", token=people.visitor.token)
    kinds = [r["kind"] for r in mine["records"]]
    assert kinds[:3] == ["rez", "say", "enter"]
    enter = next(r for r in mine["records"] if r["kind"] == "enter")
    assert enter["session"] == talker.hello["session"] and enter["name"] == "Tal"
    said = await warden.request("log", kind=["say"], limit=1)
    assert [r["text"] for r in said["records"]] == ["hello"]
    at = said["records"][0]["at"]
    assert (await warden.request("log", since=at + 1))["records"] == []
    assert [r["kind"] for r in (await warden.request("log", until=at, token=people.visitor.token,
                                                      kind="enter"))["records"]] == ["enter"]
    await fails("bad_request", warden.request("log", since="yesterday"))
    await fails("not_allowed", talker.request("log"))
