"""Protocol extensions a viewer asks for in its hello (docs/PROTOCOL_NOTES.md): batched
removals, and interest management. A viewer that asks for neither gets exactly contract v1."""

import pytest

from domainserver.client import Identity, RequestFailed

FAR = [1000, 0, 0]


async def seen(client):
    """Everything pushed to `client` so far (a round trip flushes its socket first)."""
    await client.request("whoami")
    return client.drain_events()


async def test_batched_removals_for_who_asks_and_v1_for_who_does_not(harness, people):
    batched = await harness.connect(people.visitor, features=["batched_removals", "telepathy"])
    assert batched.hello["features"] == ["batched_removals"]  # unknown ones are not granted
    plain = await harness.connect(people.stranger)
    assert "features" not in plain.hello  # a v1 viewer's hello reply is exactly v1
    g = await harness.connect(people.griefer)
    mod = await harness.connect(people.moderator)
    ids = {(await g.request("rez", entity={"type": "box", "position": [i, 0, 0]}))["entity"]["id"]
           for i in range(30)}  # fmt: skip
    await seen(batched), await seen(plain)
    assert (await mod.request("ban", token=people.griefer.token, reason="spam"))["removed"] == 30
    got = [e for e in await seen(batched) if e["ev"] in ("entities_removed", "entity_removed")]
    assert [e["ev"] for e in got] == ["entities_removed"]
    assert set(got[0]["ids"]) == ids and got[0]["reason"] == "banned"
    old = [e for e in await seen(plain) if e["ev"] == "entity_removed"]
    assert {e["id"] for e in old} == ids and {e["reason"] for e in old} == {"banned"}


async def test_interest_tells_only_what_is_near_and_what_comes_and_goes(harness, people):
    near = await harness.connect(people.visitor, features=["interest"], interest_radius=50)
    assert near.hello["features"] == ["interest"]
    everything = await harness.connect(people.stranger)
    builder = await harness.connect(people.trusted)
    await near.request("move", position=[0, 0, 0])
    await seen(near), await seen(everything)

    far = (await builder.request("rez", entity={"type": "box", "position": FAR}))["entity"]
    close = (await builder.request("rez", entity={"type": "box", "position": [10, 0, 0]}))
    close = close["entity"]
    assert [e["entity"]["id"] for e in await seen(near)] == [close["id"]]
    assert {e["entity"]["id"] for e in await seen(everything)} == {far["id"], close["id"]}

    # An entity moving into range is added for this viewer; moving out, removed as such.
    await builder.request("edit", entity=far["id"], set={"position": [20, 0, 0]})
    (came,) = await seen(near)
    assert (came["ev"], came["entity"]["id"]) == ("entity_added", far["id"])
    await builder.request("edit", entity=far["id"], set={"props": {"n": 1}})
    (changed,) = await seen(near)
    assert changed["ev"] == "entity_changed"
    await builder.request("edit", entity=far["id"], set={"position": FAR})
    assert await seen(near) == [{"ev": "entity_removed", "id": far["id"], "reason": "out_of_range"}]
    await builder.request("edit", entity=far["id"], set={"props": {"n": 2}})
    assert await seen(near) == []  # out of range: not told
    assert [e["ev"] for e in await seen(everything)] == ["entity_changed"] * 4

    # Moving the viewer: what comes into range is added, what leaves is removed.
    await near.request("move", position=[990, 0, 0])
    events = await seen(near)
    assert {(e["ev"], e.get("id") or e["entity"]["id"]) for e in events} == {
        ("entity_added", far["id"]),
        ("entity_removed", close["id"]),
    }
    # Its own entities reach it wherever they are; mutes still apply; look is unchanged.
    mine = (await near.request("rez", entity={"type": "box", "position": [-500, 0, 0]}))
    assert [e["entity"]["id"] for e in await seen(near)] == [mine["entity"]["id"]]
    await near.request("mute", target={"owner": people.trusted.token})
    await builder.request("rez", entity={"type": "box", "position": [995, 0, 0]})
    assert await seen(near) == []
    looked = await near.request("look", center=[10, 0, 0], radius=5)
    assert looked["entities"] == []  # muted; and without the mute it would list `close`
    await near.request("unmute", target={"owner": people.trusted.token})
    looked = await near.request("look", center=[10, 0, 0], radius=5)
    assert [e["id"] for e in looked["entities"]] == [close["id"]]


@pytest.mark.parametrize(
    ("extra", "why"),
    [
        ({"features": ["interest"]}, "needs interest_radius"),
        ({"features": ["interest"], "interest_radius": 0}, "positive number"),
        ({"features": ["interest"], "interest_radius": 10_000}, "at most 256"),
        ({"interest_radius": 10}, "needs the interest feature"),
        ({"features": "interest"}, "features must be a list"),
    ],
)
async def test_bad_extension_requests_are_refused_with_the_reason(harness, extra, why):
    with pytest.raises(RequestFailed) as refused:
        await harness.connect(Identity.generate(), **_as_kwargs(extra))
    assert refused.value.code == "bad_request" and why in refused.value.message


def _as_kwargs(extra):
    # The client passes `features` and `interest_radius` through to the hello as given.
    return {"features": extra.get("features"), "interest_radius": extra.get("interest_radius")}


async def test_interest_viewers_hear_only_of_removals_they_could_know(harness, people):
    near = await harness.connect(people.visitor, features=["interest", "batched_removals"],
                                 interest_radius=50)  # fmt: skip
    builder = await harness.connect(people.trusted)
    mod = await harness.connect(people.moderator)
    await near.request("move", position=[0, 0, 0])
    close = (await builder.request("rez", entity={"type": "box", "position": [5, 0, 0]}))
    far = (await builder.request("rez", entity={"type": "box", "position": FAR}))
    mine = (await near.request("rez", entity={"type": "box", "position": [-FAR[0], 0, 0]}))
    ids = [r["entity"]["id"] for r in (close, far, mine)]
    await seen(near)
    await builder.request("delete", entity=ids[1])  # far away: never known, not told
    assert await seen(near) == []
    await mod.request("remove", entities=ids)  # the near one and its own one, in one event
    (told,) = await seen(near)
    assert told["ev"] == "entities_removed" and sorted(told["ids"]) == sorted([ids[0], ids[2]])


async def test_interest_range_follows_the_viewer_in_steps_of_two_metres(harness, people):
    near = await harness.connect(people.visitor, features=["interest"], interest_radius=50)
    builder = await harness.connect(people.trusted)
    await near.request("move", position=[0, 0, 0])
    edge = (await builder.request("rez", entity={"type": "box", "position": [51, 0, 0]}))
    assert await seen(near) == []  # 51 m away: out of range
    await near.request("move", position=[1.5, 0, 0])  # 49.5 m away, but under 2 m walked
    assert await seen(near) == []
    await near.request("move", position=[2.5, 0, 0])  # 2.5 m walked: the range is updated
    (came,) = await seen(near)
    assert (came["ev"], came["entity"]["id"]) == ("entity_added", edge["entity"]["id"])


@pytest.mark.parametrize(
    "ids, reason",
    [
        ([f"{i * 7919:016x}" for i in range(500)], "banned"),  # the server's own ids: joined
        (["a" * 200, "b" * 200], "removed"),  # a longer frame header, a longer str header
        (["x" * 31, "y" * 32], "removed"),  # lengths differ: encoded one by one
        (["é" * 16, "a" * 16], "réason"),  # not ASCII: encoded one by one
        (["id", "id"], "id"),
    ],
)
def test_v1_removal_frames_joined_in_c_are_byte_for_byte_the_ones_encoded_one_by_one(
    ids, reason
):
    import msgpack

    from domainserver.protocol.codec import encode_event
    from domainserver.protocol.frames import binary_frame
    from domainserver.services.removals import v1_frames

    one_by_one = b"".join(
        binary_frame(encode_event("entity_removed", {"id": i, "reason": reason})) for i in ids
    )
    joined = v1_frames(ids, reason)
    assert joined == one_by_one
    # ...and they read back as the contract's events, in order.
    at, events = 0, []
    while at < len(joined):
        n = joined[at + 1] & 0x7F
        at += 2
        if n == 126:
            n, at = int.from_bytes(joined[at : at + 2], "big"), at + 2
        events.append(msgpack.unpackb(joined[at : at + n]))
        at += n
    assert events == [{"ev": "entity_removed", "id": i, "reason": reason} for i in ids]
