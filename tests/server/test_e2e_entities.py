"""Issue 2 end to end: handshake, stamping, ownership, lifetimes, lineage, expiry, restart."""

import asyncio

import msgpack
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from domainserver.client import RequestFailed

BOX = {"type": "box", "position": [1, 2, 3]}


async def test_handshake_gives_derived_token_role_and_caps(harness, people):
    v = await harness.connect(people.visitor)
    assert v.hello["token"] == people.visitor.token
    assert v.hello["role"] == "visitor" and v.hello["caps"] == []
    assert v.challenge["domain"] == "testdomain" and len(v.challenge["nonce"]) == 32
    m = await harness.connect(people.moderator)
    who = await m.request("whoami")
    assert who["token"] == people.moderator.token and who["role"] == "moderator"
    assert "ban" in who["caps"]
    assert v.hello["session"] != m.hello["session"]


async def test_bad_signature_is_auth_failed_and_closed_4001(harness):
    import aiohttp

    async with aiohttp.ClientSession() as http:
        ws = await http.ws_connect(harness.ws_url)
        challenge = msgpack.unpackb(await ws.receive_bytes())
        key = Ed25519PrivateKey.generate()
        wrong = key.sign(b"domainserver-hello/v1\nsomeotherdomain\n" + challenge["nonce"])
        from cryptography.hazmat.primitives import serialization

        raw = key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        await ws.send_bytes(
            msgpack.packb(
                {"op": "hello", "id": 1, "key": raw, "sig": wrong, "name": "x", "invisible": False}
            )
        )
        reply = msgpack.unpackb(await ws.receive_bytes())
        assert reply["ok"] is False and reply["error"]["code"] == "auth_failed"
        msg = await ws.receive()
        assert msg.type == aiohttp.WSMsgType.CLOSE and ws.close_code == 4001


async def test_ops_before_hello_are_not_authenticated(harness):
    import aiohttp

    async with aiohttp.ClientSession() as http:
        ws = await http.ws_connect(harness.ws_url)
        await ws.receive_bytes()
        await ws.send_bytes(msgpack.packb({"op": "rez", "id": 7, "entity": BOX}))
        reply = msgpack.unpackb(await ws.receive_bytes())
        assert reply == {
            "re": 7,
            "ok": False,
            "error": {"code": "not_authenticated", "message": "send hello first"},
        }


async def test_visitor_rez_is_temporary_and_clamped(harness, people):
    v = await harness.connect(people.visitor)
    default = (await v.request("rez", entity=BOX))["entity"]
    assert default["temporary"] and default["owner"] == people.visitor.token
    assert default["expires_at"] == pytest.approx(default["created_at"] + 60)
    long = (await v.request("rez", entity={**BOX, "lifetime": 10_000}))["entity"]
    assert long["expires_at"] == pytest.approx(long["created_at"] + 600)
    assert long["creator"] == people.visitor.token and long["parent"] is None


async def test_trusted_member_rez_is_permanent(harness, people):
    t = await harness.connect(people.trusted)
    e = (await t.request("rez", entity=BOX))["entity"]
    assert e["temporary"] is False and e["expires_at"] is None
    timed = (await t.request("rez", entity={**BOX, "lifetime": 5000}))["entity"]
    assert timed["expires_at"] == pytest.approx(timed["created_at"] + 5000)  # not capped


async def test_client_cannot_supply_owner(harness, people):
    v = await harness.connect(people.visitor)
    with pytest.raises(RequestFailed) as err:
        await v.request("rez", entity={**BOX, "owner": people.moderator.token})
    assert err.value.code == "bad_request"


async def test_non_owner_edit_delete_refused(harness, people):
    owner = await harness.connect(people.trusted)
    other = await harness.connect(people.visitor)
    e = (await owner.request("rez", entity=BOX))["entity"]
    for op, args in [
        ("edit", {"set": {"position": [0, 0, 0]}}),
        ("delete", {}),
        ("set_override", {"anyone": True, "groups": []}),
        ("edit", {"set": {"owner": people.visitor.token}}),
    ]:
        with pytest.raises(RequestFailed) as err:
            await other.request(op, entity=e["id"], **args)
        assert err.value.code == "not_owner", op
    assert (await other.request("get", entity=e["id"]))["entity"] == e


@pytest.mark.parametrize("field", ["owner", "creator", "id", "parent", "created_at"])
async def test_owner_field_edits_are_owner_immutable(harness, people, field):
    owner = await harness.connect(people.trusted)
    e = (await owner.request("rez", entity=BOX))["entity"]
    with pytest.raises(RequestFailed) as err:
        await owner.request("edit", entity=e["id"], set={field: people.visitor.token})
    assert err.value.code == "owner_immutable"


async def test_owner_edit_and_delete_are_broadcast(harness, people):
    owner = await harness.connect(people.trusted)
    watcher = await harness.connect(people.visitor)
    e = (await owner.request("rez", entity=BOX))["entity"]
    assert (await watcher.event("entity_added"))["entity"]["id"] == e["id"]
    changed = (await owner.request("edit", entity=e["id"], set={"position": [9, 9, 9]}))["entity"]
    assert changed["position"] == [9, 9, 9]
    assert (await watcher.event("entity_changed"))["entity"]["position"] == [9, 9, 9]
    await owner.request("delete", entity=e["id"])
    removed = await watcher.event("entity_removed")
    assert removed == {"ev": "entity_removed", "id": e["id"], "reason": "deleted"}
    with pytest.raises(RequestFailed) as err:
        await owner.request("get", entity=e["id"])
    assert err.value.code == "not_found"


async def test_override_for_anyone_and_for_group(harness, people):
    owner = await harness.connect(people.trusted)
    visitor = await harness.connect(people.visitor)
    builder = await harness.connect(people.builder)
    e = (await owner.request("rez", entity=BOX))["entity"]
    await owner.request("set_override", entity=e["id"], anyone=False, groups=["builders"])
    await builder.request("edit", entity=e["id"], set={"props": {"by": "builder"}})
    with pytest.raises(RequestFailed) as err:
        await visitor.request("edit", entity=e["id"], set={"props": {}})
    assert err.value.code == "not_owner"
    o = (await owner.request("set_override", entity=e["id"], anyone=True, groups=[]))["entity"]
    assert o["override"] == {"anyone": True, "groups": []}
    edited = (await visitor.request("edit", entity=e["id"], set={"position": [4, 4, 4]}))["entity"]
    assert edited["owner"] == people.trusted.token  # the override never changes the owner
    # ... but delete and set_override stay with the owner.
    for op, args in [("delete", {}), ("set_override", {"anyone": False, "groups": []})]:
        with pytest.raises(RequestFailed) as err:
            await visitor.request(op, entity=e["id"], **args)
        assert err.value.code == "not_owner"


async def test_visitor_with_override_cannot_make_entity_permanent(harness, people):
    owner = await harness.connect(people.trusted)
    visitor = await harness.connect(people.visitor)
    e = (await owner.request("rez", entity=BOX))["entity"]
    await owner.request("set_override", entity=e["id"], anyone=True, groups=[])
    with pytest.raises(RequestFailed) as err:
        await visitor.request("edit", entity=e["id"], set={"lifetime": None})
    assert err.value.code == "not_allowed"


async def test_parent_lineage_keeps_creator(harness, people):
    griefer = await harness.connect(people.trusted)  # may run scripts
    victim = await harness.connect(people.builder)
    gift = (await griefer.request("rez", entity={**BOX, "script": "https://s/ring.js"}))["entity"]
    copy = (
        await victim.request(
            "rez", entity={**BOX, "script": "https://s/ring.js"}, parent=gift["id"]
        )
    )["entity"]
    assert copy["owner"] == people.builder.token
    assert copy["creator"] == people.trusted.token and copy["parent"] == gift["id"]
    grandchild = (await victim.request("rez", entity=BOX, parent=copy["id"]))["entity"]
    assert grandchild["creator"] == people.trusted.token


async def test_parent_must_be_scripted_and_rezzer_may_script(harness, people):
    maker = await harness.connect(people.trusted)
    visitor = await harness.connect(people.visitor)
    plain = (await maker.request("rez", entity=BOX))["entity"]
    scripted = (await maker.request("rez", entity={**BOX, "script": "s"}))["entity"]
    for who, parent in [(maker, plain["id"]), (visitor, scripted["id"]), (maker, "nope")]:
        with pytest.raises(RequestFailed) as err:
            await who.request("rez", entity=BOX, parent=parent)
        assert err.value.code == "not_allowed"


async def test_script_needs_permission(harness, people):
    v = await harness.connect(people.visitor)
    with pytest.raises(RequestFailed) as err:
        await v.request("rez", entity={**BOX, "script": "https://s/x.js"})
    assert err.value.code == "script_not_allowed"


async def test_expiry_removes_and_notifies(harness, people):
    t = await harness.connect(people.trusted)
    watcher = await harness.connect(people.visitor)
    e = (await t.request("rez", entity={**BOX, "lifetime": 0.2}))["entity"]
    removed = await watcher.event("entity_removed", timeout=5)
    assert removed == {"ev": "entity_removed", "id": e["id"], "reason": "expired"}
    with pytest.raises(RequestFailed):
        await t.request("get", entity=e["id"])
    from domainserver.store import entities as rows

    assert harness.domain.store.read(lambda c: rows.count(c)) == 0


async def test_restart_keeps_acknowledged_and_drops_expired(harness, people):
    t = await harness.connect(people.trusted)
    keep = (await t.request("rez", entity=BOX))["entity"]
    edited = (await t.request("edit", entity=keep["id"], set={"props": {"n": 1}}))["entity"]
    short = (await t.request("rez", entity={**BOX, "lifetime": 0.3}))["entity"]
    await harness.stop()  # down before the short one expires
    await asyncio.sleep(0.4)
    await harness.start()
    t2 = await harness.connect(people.trusted)
    assert (await t2.request("get", entity=keep["id"]))["entity"] == edited
    with pytest.raises(RequestFailed) as err:
        await t2.request("get", entity=short["id"])
    assert err.value.code == "not_found"


async def test_malformed_frames_get_errors_and_connection_keeps_working(harness, people):
    v = await harness.connect(people.visitor)
    await v.send_raw(b"\xc1\xc1 not msgpack")
    assert (await v.event("error"))["error"]["code"] == "bad_frame"
    await v.send_raw(msgpack.packb([1, 2, 3]))
    assert (await v.event("error"))["error"]["code"] == "bad_frame"
    await v.send_raw("a text frame")
    assert (await v.event("error"))["error"]["code"] == "bad_frame"
    await v.send_raw(msgpack.packb({"op": "whoami"}))
    assert (await v.event("error"))["error"]["code"] == "bad_request"
    await v.send_raw(msgpack.packb({"op": "say", "id": 1, "text": "x" * 70_000}))
    assert (await v.event("error"))["error"]["code"] == "too_large"
    with pytest.raises(RequestFailed) as err:
        await v.request("no_such_op")
    assert err.value.code == "bad_request"
    assert (await v.request("whoami"))["token"] == people.visitor.token


async def test_repeated_garbage_closes_1008_without_hurting_others(harness, people):
    bad = await harness.connect(people.griefer)
    good = await harness.connect(people.visitor)
    for _ in range(70):
        await bad.send_raw(b"\xc1")
    assert await bad.wait_closed() == 1008
    assert (await good.request("whoami"))["role"] == "visitor"


async def test_chat_and_entity_say_carry_owner(harness, people):
    owner = await harness.connect(people.trusted, name="Tess")
    listener = await harness.connect(people.visitor)
    await owner.request("say", text="hello")
    chat = await listener.event("chat")
    assert chat["from"] == {"avatar": people.trusted.token, "name": "Tess"}
    ring = (await owner.request("rez", entity={**BOX, "script": "https://s/r.js"}))["entity"]
    await owner.request("entity_say", entity=ring["id"], text="bling")
    chat = await listener.event("chat")
    assert chat == {
        "ev": "chat",
        "from": {"entity": ring["id"], "owner": people.trusted.token},
        "text": "bling",
    }
    with pytest.raises(RequestFailed) as err:
        await listener.request("entity_say", entity=ring["id"], text="framed")
    assert err.value.code == "not_owner"
    plain = (await owner.request("rez", entity=BOX))["entity"]
    with pytest.raises(RequestFailed) as err:
        await owner.request("entity_say", entity=plain["id"], text="x")
    assert err.value.code == "not_allowed"


async def test_look_pages_nearest_first(harness, people):
    t = await harness.connect(people.trusted)
    ids = []
    for x in range(5):
        ids.append(
            (await t.request("rez", entity={"type": "box", "position": [x, 0, 0]}))["entity"]["id"]
        )
    await t.request("rez", entity={"type": "box", "position": [100, 0, 0]})
    first = await t.request("look", center=[0, 0, 0], radius=10, limit=3)
    assert [e["id"] for e in first["entities"]] == ids[:3] and first["next"]
    second = await t.request("look", center=[0, 0, 0], radius=10, limit=3, cursor=first["next"])
    assert [e["id"] for e in second["entities"]] == ids[3:] and second["next"] is None
    with pytest.raises(RequestFailed) as err:
        await t.request("look", center=[0, 0, 0], radius=10, cursor="garbage!")
    assert err.value.code == "bad_request"


async def test_move_and_healthz(harness, people):
    v = await harness.connect(people.visitor)
    await v.request("move", position=[5, 6, 7])
    async with __import__("aiohttp").ClientSession() as http:
        async with http.get(harness.server.make_url("/healthz")) as r:
            assert r.status == 200


async def test_pipelined_requests_reply_in_order(harness, people):
    t = await harness.connect(people.trusted)
    futures = [t.submit("rez", entity=BOX) for _ in range(50)]
    replies = await asyncio.gather(*futures)
    assert all(r["ok"] for r in replies)
    target = replies[0]["entity"]["id"]
    # An edit and a get sent back to back: the get must see the edit (per-connection order).
    edit = t.submit("edit", entity=target, set={"props": {"v": 2}})
    get = t.submit("get", entity=target)
    delete = t.submit("delete", entity=target)
    get_after = t.submit("get", entity=target)
    edit, get, delete, get_after = await asyncio.gather(edit, get, delete, get_after)
    # Answered in the order sent, not in the order they happened to finish.
    assert t.reply_order[-54:] == [r["re"] for r in [*replies, edit, get, delete, get_after]]
    assert edit["ok"] and get["entity"]["props"] == {"v": 2}
    assert delete["ok"] and get_after["error"]["code"] == "not_found"
