"""The griefing story end to end: a scripted gift that replicates on its victim, the
victim's mutes, the moderators' powers, the room log, and the quotas that slow a griefer.

Several real clients on a real server. To show that something did NOT reach a viewer, the
test triggers it, then makes a round trip on that viewer (`settle`): every event queued for
it before the reply has then arrived, so `drain_events()` holds all there is to see.
"""

import asyncio
import textwrap

import aiohttp
import msgpack
import pytest

from domainserver.client import Client, RequestFailed
from domainserver.store import log as roomlog

from .conftest import BLACKLIST_KEY

RING = "https://scripts.example/ring.js"
TINY = [0.01, 0.01, 0.01]
CLUSTER = {"center": [101, 0, 0], "radius": 5}  # where the invisible copies sit
WORLD = {"center": [-50, 0, 0], "radius": 256}  # the largest look: -306 m to 206 m


async def settle(client):
    """Every event pushed to `client` so far, after a round trip has flushed its socket."""
    await client.request("whoami")
    return client.drain_events()


def about(events):
    """The entity ids and avatar tokens the entity and chat events in `events` concern."""
    seen = set()
    for e in events:
        if e["ev"] in ("entity_added", "entity_changed"):
            seen.add(e["entity"]["id"])
        elif e["ev"] == "chat":
            seen.add(e["from"].get("entity") or e["from"]["avatar"])
        elif e["ev"] == "entity_removed":
            seen.add(("removed", e["id"], e["reason"]))
    return seen


async def fails(code, awaitable):
    with pytest.raises(RequestFailed) as err:
        await awaitable
    assert err.value.code == code, err.value
    return err.value


async def ids_of(client, **look):
    return {e["id"] for e in (await client.request("look", **look))["entities"]}


class Scene:
    """The griefer's gift, its copies on the victim, and a bystander's unrelated box.

    - `gift`: rezzed by the griefer, scripted, visible, at the origin.
    - `copies`: rezzed by the victim through `parent=gift`: owned by the victim, created
      by the griefer, invisible and tiny, at x = 100..102 (inside CLUSTER).
    - `loud`: one more copy, visible, at x = 200.
    - `control`: the bystander's own box far away, which no mute covers.
    """

    @classmethod
    async def build(cls, harness, people):
        s = cls()
        s.griefer = await harness.connect(people.trusted, name="Grim")  # builder: may script
        s.victim = await harness.connect(people.builder, name="Vera")  # builder: may script
        s.bystander = await harness.connect(people.visitor, name="Bea")
        s.gift = (await s.griefer.request(
            "rez", entity={"type": "ring", "position": [0, 0, 0], "script": RING}))["entity"]
        s.copies = []
        for i in range(3):
            copy = (await s.victim.request("rez", parent=s.gift["id"], entity={
                "type": "ring", "position": [100 + i, 0, 0], "dimensions": TINY,
                "visible": False, "script": RING}))["entity"]
            s.copies.append(copy)
        s.loud = (await s.victim.request("rez", parent=s.gift["id"], entity={
            "type": "ring", "position": [200, 0, 0], "script": RING}))["entity"]
        s.control = (await s.bystander.request(
            "rez", entity={"type": "box", "position": [-300, 0, 0]}))["entity"]
        for c in (*s.copies, s.loud):
            assert c["owner"] == people.builder.token
            assert c["creator"] == people.trusted.token and c["parent"] == s.gift["id"]
        assert all(c["visible"] is False and c["dimensions"] == TINY for c in s.copies)
        for client in (s.griefer, s.victim, s.bystander):
            await settle(client)
        return s

    @property
    def copy_ids(self):
        return {c["id"] for c in self.copies}

    async def noise(self):
        """Every kind of event about every scene entity, from whoever may cause it."""
        for c in self.copies:
            await self.victim.request("edit", entity=c["id"], set={"props": {"spam": 1}})
            await self.victim.request("entity_say", entity=c["id"], text="free ring!")
        await self.victim.request("entity_say", entity=self.loud["id"], text="LOUD")
        await self.griefer.request("edit", entity=self.gift["id"], set={"props": {"spam": 1}})
        await self.griefer.request("entity_say", entity=self.gift["id"], text="bling")
        await self.griefer.request("say", text="hey vera")
        await self.bystander.request("edit", entity=self.control["id"], set={"props": {"n": 1}})
        await self.bystander.request("say", text="just passing")


@pytest.fixture
async def scene(harness, people):
    return await Scene.build(harness, people)


# -- mutes ------------------------------------------------------------------------------------


async def test_unmuted_victim_sees_all_the_noise(scene, people):
    """The baseline the mute tests compare against: without mutes everything arrives."""
    await scene.noise()
    everything = {scene.gift["id"], scene.loud["id"], scene.control["id"], *scene.copy_ids,
                  people.trusted.token, people.visitor.token}
    assert about(await settle(scene.victim)) == everything
    assert about(await settle(scene.bystander)) == everything


async def test_entity_say_from_a_copy_carries_the_victims_own_token(scene, people):
    await scene.victim.request("entity_say", entity=scene.copies[0]["id"], text="free ring!")
    chats = [e for e in await settle(scene.victim) if e["ev"] == "chat"]
    assert chats == [{"ev": "chat", "text": "free ring!",
                      "from": {"entity": scene.copies[0]["id"], "owner": people.builder.token}}]


async def test_mute_owner_hides_its_entities_now_and_later_and_its_chat(scene, people):
    victim, griefer = scene.victim, scene.griefer
    reply = await victim.request("mute", target={"owner": people.trusted.token})
    assert reply["muted"] == 1  # the gift; the copies are the victim's own
    later = (await griefer.request(
        "rez", entity={"type": "box", "position": [1, 0, 0], "script": RING}))["entity"]
    await griefer.request("edit", entity=later["id"], set={"position": [2, 0, 0]})
    await scene.noise()
    seen = about(await settle(victim))
    assert seen == {scene.loud["id"], scene.control["id"], *scene.copy_ids,
                    people.visitor.token}
    # the bystander, who muted nothing, got what the victim did not
    assert {later["id"], scene.gift["id"], people.trusted.token} <= about(
        await settle(scene.bystander))
    visible = await ids_of(victim, **WORLD)
    assert scene.gift["id"] not in visible and later["id"] not in visible
    assert {scene.loud["id"], scene.control["id"], *scene.copy_ids} <= visible
    await griefer.request("delete", entity=later["id"])
    assert await settle(victim) == [
        {"ev": "entity_removed", "id": later["id"], "reason": "deleted"}]


async def test_mute_invisible_is_judged_at_delivery(scene, people):
    victim = scene.victim
    assert (await victim.request("mute", target={"invisible": True}))["muted"] == 3
    fresh = (await victim.request("rez", parent=scene.gift["id"], entity={
        "type": "ring", "position": [103, 0, 0], "dimensions": TINY, "visible": False,
        "script": RING}))["entity"]
    await scene.noise()
    seen = about(await settle(victim))
    assert seen == {scene.gift["id"], scene.loud["id"], scene.control["id"],
                    people.trusted.token, people.visitor.token}
    assert fresh["id"] not in seen
    assert not (scene.copy_ids | {fresh["id"]}) & await ids_of(victim, **WORLD)
    # One that becomes visible again reaches the victim again ...
    back = scene.copies[0]["id"]
    await victim.request("edit", entity=back, set={"visible": True})
    await victim.request("entity_say", entity=back, text="I am back")
    events = await settle(victim)
    assert [e["ev"] for e in events] == ["entity_changed", "chat"]
    assert events[0]["entity"]["id"] == back and events[0]["entity"]["visible"] is True
    assert events[1]["from"] == {"entity": back, "owner": people.builder.token}
    assert back in await ids_of(victim, **WORLD)
    # ... and one that turns invisible stops reaching it.
    await victim.request("edit", entity=scene.loud["id"], set={"visible": False})
    await victim.request("entity_say", entity=scene.loud["id"], text="now you don't")
    assert await settle(victim) == []
    assert scene.loud["id"] not in await ids_of(victim, **WORLD)
    # entity_removed is still delivered for a muted entity.
    await victim.request("delete", entity=scene.copies[1]["id"])
    assert await settle(victim) == [
        {"ev": "entity_removed", "id": scene.copies[1]["id"], "reason": "deleted"}]


async def test_mute_area_follows_entities_moving_in_and_out(scene, people):
    victim, loud = scene.victim, scene.loud["id"]
    assert (await victim.request("mute", target={"area": CLUSTER}))["muted"] == 3
    await scene.noise()
    assert about(await settle(victim)) == {
        scene.gift["id"], loud, scene.control["id"], people.trusted.token, people.visitor.token}
    assert not scene.copy_ids & await ids_of(victim, **WORLD)
    # Moving into the muted area: the move itself and everything after stop reaching it.
    await victim.request("edit", entity=loud, set={"position": [101, 3, 0]})
    await victim.request("entity_say", entity=loud, text="hidden in the crowd")
    assert await settle(victim) == []
    assert loud not in await ids_of(victim, **WORLD)
    # Moving out: seen again, at its new place.
    await victim.request("edit", entity=loud, set={"position": [200, 0, 0]})
    await victim.request("entity_say", entity=loud, text="out again")
    events = await settle(victim)
    assert [e["ev"] for e in events] == ["entity_changed", "chat"]
    assert events[0]["entity"]["position"] == [200, 0, 0]
    assert loud in await ids_of(victim, **WORLD)


async def test_mute_entity_hides_only_that_entity(scene, people):
    victim, gift = scene.victim, scene.gift["id"]
    assert (await victim.request("mute", target={"entity": gift}))["muted"] == 1
    assert (await victim.request("mute", target={"entity": "no-such-id"}))["muted"] == 0
    await scene.noise()
    assert about(await settle(victim)) == {
        scene.loud["id"], scene.control["id"], *scene.copy_ids,
        people.trusted.token, people.visitor.token}  # the griefer's own voice still arrives
    assert gift not in await ids_of(victim, **WORLD)
    await scene.griefer.request("delete", entity=gift)
    assert await settle(victim) == [{"ev": "entity_removed", "id": gift, "reason": "deleted"}]


async def test_mute_avatar_hides_its_chat_only(scene, people):
    victim = scene.victim
    assert (await victim.request("mute", target={"avatar": people.trusted.token}))["muted"] == 0
    await scene.griefer.request("say", text="you cannot hear me")
    await scene.bystander.request("say", text="but you hear me")
    await scene.griefer.request("edit", entity=scene.gift["id"], set={"props": {"x": 1}})
    events = await settle(victim)
    assert [(e["ev"], e.get("text")) for e in events] == [
        ("chat", "but you hear me"), ("entity_changed", None)]


async def test_mutes_list_unmute_and_survive_reconnect_and_restart(harness, scene, people):
    victim = scene.victim
    targets = [{"owner": people.trusted.token}, {"invisible": True}, {"area": CLUSTER},
               {"entity": scene.loud["id"]}, {"avatar": people.visitor.token}]
    for target in targets:
        await victim.request("mute", target=target)
    await victim.request("mute", target={"invisible": True})  # again: no duplicate
    listed = (await victim.request("mutes"))["mutes"]
    assert len(listed) == 5 and all(t in listed for t in targets)

    assert (await victim.request("unmute", target={"avatar": people.visitor.token}))["muted"] == 0
    assert (await victim.request("unmute", target={"entity": scene.loud["id"]}))["muted"] == 1
    await victim.request("unmute", target={"avatar": people.visitor.token})  # not muted: fine
    await scene.noise()
    assert about(await settle(victim)) == {scene.loud["id"], scene.control["id"],
                                           people.visitor.token}
    kept = targets[:3]

    async def still_muted(victim, griefer):
        listed = (await victim.request("mutes"))["mutes"]
        assert len(listed) == len(kept) and all(t in listed for t in kept)
        await griefer.request("say", text="still here")
        await griefer.request("edit", entity=scene.gift["id"], set={"props": {"again": 1}})
        for c in scene.copies:
            await victim.request("entity_say", entity=c["id"], text="spam")
        await victim.request("entity_say", entity=scene.loud["id"], text="heard")
        events = await settle(victim)
        assert [(e["ev"], e["from"].get("entity")) for e in events] == [
            ("chat", scene.loud["id"])]
        assert await ids_of(victim, **WORLD) == {scene.loud["id"], scene.control["id"]}

    await victim.close()
    again = await harness.connect(people.builder, name="Vera")
    await still_muted(again, scene.griefer)

    await harness.restart()
    victim = await harness.connect(people.builder, name="Vera")
    griefer = await harness.connect(people.trusted, name="Grim")
    await still_muted(victim, griefer)


async def test_mute_bad_targets_are_bad_request(harness, people):
    v = await harness.connect(people.visitor)
    for target in [{"owner": "not-a-token"}, {"avatar": "A" * 32}, {"entity": ""},
                   {"area": {"center": [0, 0, 0]}}, {"area": {"center": [0, 0], "radius": 1}},
                   {"area": {"center": [0, 0, 0], "radius": -1}}, {"invisible": False},
                   {}, {"owner": people.stranger.token, "invisible": True}, "owner", None]:
        await fails("bad_request", v.request("mute", target=target))
    assert (await v.request("mutes"))["mutes"] == []


# -- moderators -------------------------------------------------------------------------------


async def test_find_by_creator_pages_without_repeats(harness, scene, people):
    mod = await harness.connect(people.moderator)
    griefs = {scene.gift["id"], scene.loud["id"], *scene.copy_ids}
    pages, cursor = [], None
    while True:
        args = {"creator": people.trusted.token, "limit": 2}
        if cursor is not None:
            args["cursor"] = cursor
        reply = await mod.request("find", **args)
        pages.append([e["id"] for e in reply["entities"]])
        cursor = reply["next"]
        if cursor is None:
            break
        assert len(pages) < 10
    assert [len(p) for p in pages] == [2, 2, 1]
    flat = [i for p in pages for i in p]
    assert len(flat) == len(set(flat)) == 5 and set(flat) == griefs

    async def found(**query):
        reply = await mod.request("find", **query)
        assert reply["next"] is None
        return {e["id"] for e in reply["entities"]}

    assert await found(owner=people.builder.token) == scene.copy_ids | {scene.loud["id"]}
    assert await found(owner=people.trusted.token) == {scene.gift["id"]}
    assert await found(area=CLUSTER) == scene.copy_ids
    assert await found(invisible=True) == scene.copy_ids
    assert await found(invisible=False) == {scene.gift["id"], scene.loud["id"],
                                            scene.control["id"]}
    assert await found(creator=people.trusted.token, invisible=False) == {
        scene.gift["id"], scene.loud["id"]}
    assert await found(creator=people.stranger.token) == set()
    assert await found() == griefs | {scene.control["id"]}


async def test_remove_by_creator_removes_every_copy_for_every_viewer(harness, scene, people):
    mod = await harness.connect(people.moderator)
    await scene.victim.request("mute", target={"invisible": True})  # removal still reaches it
    griefs = {scene.gift["id"], scene.loud["id"], *scene.copy_ids}
    reply = await mod.request("remove", creator=people.trusted.token, reason="griefing ring")
    assert reply["removed"] == 5
    for viewer in (scene.victim, scene.griefer, scene.bystander, mod):
        events = await settle(viewer)
        assert {e["id"] for e in events if e["ev"] == "entity_removed"} == griefs
        assert {e["reason"] for e in events if e["ev"] == "entity_removed"} == {"removed"}
    assert (await mod.request("find", creator=people.trusted.token))["entities"] == []
    await fails("not_found", scene.victim.request("get", entity=scene.loud["id"]))
    assert await ids_of(scene.bystander, **WORLD) == {scene.control["id"]}
    # by id and by owner too; unknown ids are skipped
    assert (await mod.request("remove", entities=[scene.control["id"], "gone"]))["removed"] == 1
    box = (await scene.bystander.request("rez", entity={"type": "box", "position": [0, 0, 0]}))
    assert (await mod.request("remove", owner=people.visitor.token))["removed"] == 1
    await fails("not_found", mod.request("get", entity=box["entity"]["id"]))


async def test_locate_lists_invisible_avatars_with_positions(harness, people):
    mod = await harness.connect(people.moderator, name="Mo")
    ghost = await harness.connect(people.griefer, name="Ghost", invisible=True)
    await ghost.request("move", position=[5, 6, 7])
    await mod.request("move", position=[1, 1, 1])
    avatars = {a["token"]: a for a in (await mod.request("locate"))["avatars"]}
    assert avatars[people.griefer.token] == {
        "token": people.griefer.token, "name": "Ghost", "position": [5, 6, 7],
        "invisible": True, "session": ghost.hello["session"]}
    assert avatars[people.moderator.token]["position"] == [1, 1, 1]
    assert avatars[people.moderator.token]["invisible"] is False
    assert len(avatars) == 2


async def test_kick_pushes_kicked_and_closes_4002(harness, scene, people):
    mod = await harness.connect(people.moderator)
    second = await harness.connect(people.trusted, name="Grim again")  # every session goes
    await mod.request("kick", avatar=people.trusted.token, reason="cool off")
    # at once again: the sessions are on their way out, so nobody is left to kick
    await fails("not_found", mod.request("kick", avatar=people.trusted.token, reason="x"))
    for client in (scene.griefer, second):
        assert await client.event("kicked") == {"ev": "kicked", "reason": "cool off"}
        assert await client.wait_closed() == 4002
    await fails("not_found", mod.request("kick", avatar=people.stranger.token, reason="x"))
    # a kick is not a ban: the griefer may come back, and kept its entities
    back = await harness.connect(people.trusted)
    assert (await back.request("get", entity=scene.gift["id"]))["entity"]["id"] == scene.gift["id"]


async def test_ban_kicks_closes_4003_removes_entities_and_refuses_hello(harness, scene, people):
    mod = await harness.connect(people.moderator)
    extra = (await scene.griefer.request(
        "rez", entity={"type": "box", "position": [3, 0, 0]}))["entity"]
    await settle(scene.victim)
    reply = await mod.request("ban", token=people.trusted.token, reason="griefing")
    assert reply["removed"] == 2  # what the griefer owns; the copies are the victim's
    assert await scene.griefer.event("kicked") == {"ev": "kicked", "reason": "griefing"}
    assert await scene.griefer.wait_closed() == 4003
    gone = {scene.gift["id"], extra["id"]}
    for viewer in (scene.victim, scene.bystander, mod):
        removed = [e for e in await settle(viewer) if e["ev"] == "entity_removed"]
        assert {e["id"] for e in removed} == gone and {e["reason"] for e in removed} == {"banned"}
    assert (await scene.victim.request("get", entity=scene.loud["id"]))["entity"]
    err = await fails("banned", Client.connect(harness.ws_url, people.trusted))
    assert err.code == "banned"
    reply, code = await raw_hello(harness.ws_url, people.trusted)
    assert reply["error"]["code"] == "banned" and code == 4003
    assert await blacklisted(harness, people.trusted.token) is True


async def test_long_reasons_arrive_whole_and_keep_the_close_codes(harness, people):
    """A close frame holds 123 bytes of reason; the full reason travels in `kicked`."""
    mod = await harness.connect(people.moderator)
    reason = "é" * 900  # 1800 bytes of UTF-8
    kicked = await harness.connect(people.visitor)
    await mod.request("kick", avatar=people.visitor.token, reason=reason)
    assert (await kicked.event("kicked"))["reason"] == reason
    assert await kicked.wait_closed() == 4002
    banned = await harness.connect(people.griefer)
    await mod.request("ban", token=people.griefer.token, reason=reason)
    assert (await banned.event("kicked"))["reason"] == reason
    assert await banned.wait_closed() == 4003


async def test_ban_with_keep_entities_keeps_them(harness, scene, people):
    mod = await harness.connect(people.moderator)
    reply = await mod.request("ban", token=people.trusted.token, reason="x", keep_entities=True)
    assert reply["removed"] == 0
    assert await scene.griefer.wait_closed() == 4003
    assert (await mod.request("get", entity=scene.gift["id"]))["entity"]["id"] == scene.gift["id"]
    removed = [e for e in await settle(scene.victim) if e["ev"] == "entity_removed"]
    assert removed == []


async def test_timed_ban_expires_and_unban_lifts(harness, people):
    mod = await harness.connect(people.moderator)
    await mod.request("ban", token=people.griefer.token, reason="short", duration=0.3)
    await fails("banned", Client.connect(harness.ws_url, people.griefer))
    await asyncio.sleep(0.4)
    admitted = await harness.connect(people.griefer)
    assert admitted.hello["token"] == people.griefer.token
    assert await blacklisted(harness, people.griefer.token) is False

    await mod.request("ban", token=people.stranger.token, reason="until lifted")
    await fails("banned", Client.connect(harness.ws_url, people.stranger))
    await mod.request("unban", token=people.stranger.token)
    assert (await harness.connect(people.stranger)).hello["token"] == people.stranger.token
    await mod.request("unban", token=people.visitor.token)  # never banned: still ok
    await mod.request("unban", token=people.stranger.token)  # already lifted: still ok


async def test_bans_survive_restart(harness, people):
    mod = await harness.connect(people.moderator)
    await mod.request("ban", token=people.griefer.token, reason="forever")
    await mod.request("ban", token=people.stranger.token, reason="a day", duration=86400)
    await mod.request("ban", token=people.visitor.token, reason="lifted")
    await mod.request("unban", token=people.visitor.token)
    await harness.restart()
    for banned in (people.griefer, people.stranger):
        await fails("banned", Client.connect(harness.ws_url, banned))
    assert (await harness.connect(people.visitor)).hello["role"] == "visitor"


async def test_room_log_records_moderation_with_an_intact_chain(harness, scene, people):
    mod = await harness.connect(people.moderator)
    await mod.request("remove", creator=people.trusted.token, reason="ring cleanup")
    await mod.request("kick", avatar=people.visitor.token, reason="shouting")
    await mod.request("ban", token=people.trusted.token, reason="griefing", duration=3600)
    await mod.request("unban", token=people.trusted.token)
    records = harness.domain.store.read(lambda c: roomlog.recent(c, 10))
    by_kind = {r.kind: r for r in records}
    assert {"remove", "kick", "ban", "unban"} <= set(by_kind)
    assert all(by_kind[k].actor == people.moderator.token
               for k in ("remove", "kick", "ban", "unban"))
    assert by_kind["remove"].target == people.trusted.token
    assert by_kind["remove"].body_map()["reason"] == "ring cleanup"
    assert by_kind["remove"].body_map()["removed"] == 5
    assert by_kind["kick"].target == people.visitor.token
    assert by_kind["kick"].body_map()["reason"] == "shouting"
    assert by_kind["ban"].target == people.trusted.token
    assert by_kind["ban"].body_map()["reason"] == "griefing"
    assert by_kind["ban"].body_map()["expires_at"] is not None
    assert by_kind["unban"].target == people.trusted.token
    acts = [r.kind for r in records if r.kind in ("unban", "ban", "kick", "remove")]
    assert acts[:4] == ["unban", "ban", "kick", "remove"]
    assert harness.domain.store.read(roomlog.verify) is None


OPERATOR_OPS = [
    ("find", {"creator": "a" * 32}),
    ("remove", {"creator": "a" * 32}),
    ("kick", {"avatar": "a" * 32, "reason": "x"}),
    ("ban", {"token": "a" * 32, "reason": "x"}),
    ("unban", {"token": "a" * 32}),
    ("locate", {}),
]


@pytest.mark.parametrize(("op", "args"), OPERATOR_OPS, ids=[o for o, _ in OPERATOR_OPS])
async def test_operator_ops_without_the_cap_are_not_allowed(harness, people, op, args):
    for who in (people.visitor, people.trusted):  # a visitor, and a builder with no caps
        client = await harness.connect(who)
        await fails("not_allowed", client.request(op, **args))
    assert len(harness.domain.bans) == 0


BAD_ARGS = [
    ("find", {"creator": "not-a-token"}),
    ("find", {"owner": "A" * 32}),
    ("find", {"owner": 12}),
    ("find", {"area": {"center": [0, 0, 0]}}),
    ("find", {"area": {"center": [0, 0], "radius": 1}}),
    ("find", {"area": {"center": [0, 0, 0], "radius": -1}}),
    ("find", {"area": [0, 0, 0]}),
    ("find", {"invisible": "yes"}),
    ("find", {"limit": 0}),
    ("find", {"limit": -3}),
    ("find", {"limit": "2"}),
    ("find", {"limit": True}),
    ("find", {"cursor": "garbage!"}),
    ("find", {"cursor": 7}),
    ("remove", {}),
    ("remove", {"owner": "a" * 32, "creator": "a" * 32}),
    ("remove", {"entities": "abc"}),
    ("remove", {"entities": [1, 2]}),
    ("remove", {"creator": "short"}),
    ("kick", {"avatar": "x"}),
    ("kick", {}),
    ("ban", {"token": "A" * 32}),
    ("ban", {"token": "a" * 31}),
    ("ban", {"token": "a" * 32, "duration": -1}),
    ("ban", {"token": "a" * 32, "duration": "soon"}),
    ("ban", {"token": "a" * 32, "keep_entities": "yes"}),
    ("ban", {"token": "a" * 32, "reason": 5}),
    ("unban", {"token": 42}),
]


async def test_bad_operator_arguments_are_bad_request(harness, people):
    mod = await harness.connect(people.moderator)
    for op, args in BAD_ARGS:
        with pytest.raises(RequestFailed) as err:
            await mod.request(op, **args)
        assert err.value.code == "bad_request", (op, args, err.value)
    assert len(harness.domain.bans) == 0
    assert (await mod.request("whoami"))["role"] == "moderator"


# -- quotas and rate limits -------------------------------------------------------------------

QUOTA_POLICY = """
[domain]
id = "quotadomain"
access = "open"
max_temp_lifetime = 600
default_temp_lifetime = 60
lineage_rez_per_second = 3

[roles.visitor]
rez = "temporary"
scripts = false
max_entities = 3
rez_per_second = 1000
chat_per_second = 1000
caps = []

[roles.builder]
rez = "permanent"
scripts = true
max_entities = 100

[roles.slow]
rez = "permanent"
scripts = true
max_entities = 100
rez_per_second = 1
chat_per_second = 1

[members]
"{trusted}" = "builder"
"{builder}" = "builder"
"{stranger}" = "slow"
"{griefer}" = "slow"
"""


@pytest.fixture
async def quotas(harness, people):
    harness.policy_path.write_text(textwrap.dedent(QUOTA_POLICY).format(
        trusted=people.trusted.token, builder=people.builder.token,
        stranger=people.stranger.token, griefer=people.griefer.token))
    # No fsync per commit here: the budgets below are judged against a wall clock.
    await harness.restart(synchronous="NORMAL")
    return harness


async def test_max_entities_is_quota_exceeded(quotas, people):
    v = await quotas.connect(people.visitor)
    made = [(await v.request("rez", entity={"type": "box", "position": [i, 0, 0]}))["entity"]
            for i in range(3)]
    await fails("quota_exceeded", v.request("rez", entity={"type": "box", "position": [0, 0, 0]}))
    await v.request("delete", entity=made[0]["id"])
    await v.request("rez", entity={"type": "box", "position": [0, 0, 0]})
    await fails("quota_exceeded", v.request("rez", entity={"type": "box", "position": [0, 0, 0]}))
    assert quotas.domain.world.count_owned(people.visitor.token) == 3


async def test_rez_rate_limit_and_refusals_spend_nothing(quotas, people):
    slow = await quotas.connect(people.stranger)  # 1 rez per second, bucket of 1
    box = {"type": "box", "position": [0, 0, 0]}
    await slow.request("rez", entity=box)
    for _ in range(5):  # had these spent, the bucket would be 5 seconds in debt
        await fails("rate_limited", slow.request("rez", entity=box))
    await asyncio.sleep(1.05)  # one token's refill
    await slow.request("rez", entity=box)
    await fails("rate_limited", slow.request("rez", entity=box))
    assert quotas.domain.world.count_owned(people.stranger.token) == 2


async def test_chat_rate_limit_for_say_and_entity_say(quotas, people):
    listener = await quotas.connect(people.visitor)
    talker = await quotas.connect(people.stranger, name="Talker")  # 1 chat per second
    await talker.request("say", text="one")
    await fails("rate_limited", talker.request("say", text="two"))
    owner = await quotas.connect(people.griefer, name="Owner")  # 1 chat per second
    ring = (await owner.request(
        "rez", entity={"type": "ring", "position": [0, 0, 0], "script": RING}))["entity"]
    await owner.request("entity_say", entity=ring["id"], text="bling")
    await fails("rate_limited", owner.request("entity_say", entity=ring["id"], text="bling"))
    await fails("rate_limited", owner.request("say", text="the same budget"))
    chats = [(e["from"], e["text"]) for e in await settle(listener) if e["ev"] == "chat"]
    assert chats == [({"avatar": people.stranger.token, "name": "Talker"}, "one"),
                     ({"entity": ring["id"], "owner": people.griefer.token}, "bling")]


async def test_lineage_budget_is_shared_across_owners(quotas, people):
    griefer = await quotas.connect(people.trusted)  # builders: their own budgets are ample
    victim = await quotas.connect(people.builder)
    scripted = {"type": "ring", "position": [0, 0, 0], "script": RING}
    root = (await griefer.request("rez", entity=scripted))["entity"]
    child = (await victim.request("rez", entity=scripted, parent=root["id"]))["entity"]
    sibling = (await griefer.request("rez", entity=scripted, parent=root["id"]))["entity"]
    grandchild = (await victim.request("rez", entity=scripted, parent=child["id"]))["entity"]
    assert grandchild["creator"] == people.trusted.token
    # three family rezzes: the family's whole budget, whoever spent it
    for who, parent in [(victim, sibling), (griefer, grandchild), (victim, root)]:
        await fails("rate_limited", who.request("rez", entity=scripted, parent=parent["id"]))
    # the owners themselves are not throttled, nor is another family
    await griefer.request("rez", entity={"type": "box", "position": [1, 0, 0]})
    other = (await victim.request("rez", entity=scripted))["entity"]
    await victim.request("rez", entity=scripted, parent=other["id"])


# -- helpers that speak the handshake by hand ------------------------------------------------


async def raw_hello(url, identity):
    """Send a hello on a bare socket; returns (reply, close code)."""
    async with aiohttp.ClientSession() as http:
        ws = await http.ws_connect(url)
        challenge = msgpack.unpackb(await ws.receive_bytes())
        sig = identity.sign(b"domainserver-hello/v1\n" + challenge["domain"].encode()
                            + b"\n" + challenge["nonce"])
        await ws.send_bytes(msgpack.packb({"op": "hello", "id": 1, "key": identity.public_key,
                                           "sig": sig, "name": "x", "invisible": False}))
        reply = msgpack.unpackb(await ws.receive_bytes(timeout=5))
        msg = await ws.receive(timeout=5)
        assert msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
        return reply, ws.close_code


async def blacklisted(harness, token):
    async with aiohttp.ClientSession() as http:
        url = harness.server.make_url(f"/api/v1/blacklist/{token}")
        async with http.get(url, headers={"Authorization": f"Bearer {BLACKLIST_KEY}"}) as r:
            assert r.status == 200
            body = await r.json()
    assert body["token"] == token
    return body["banned"]

