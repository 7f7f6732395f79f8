"""The bounds that keep the safety tools from becoming the weapon (docs/RELIABILITY.md):
`look` radius and read budget, mutes per token, entity props, rates below one, the order of
operators' powers, and what `/healthz` and a 401 tell a stranger."""

import hashlib
import sqlite3

import aiohttp
import msgpack
import pytest

from domainserver.client import Identity, RequestFailed
from entities import Entity
from entities.model import NO_OVERRIDE

from .conftest import BLACKLIST_KEY, policy_text

BOX = {"type": "box", "position": [0, 0, 0]}
METRICS_KEY = "metrics-key-for-tests"
OWNER = Identity.generate()
OTHER_MOD = Identity.generate()


@pytest.fixture
def policy_path(tmp_path, people):
    text = policy_text(people).replace(
        "[members]\n",
        f'[members]\n"{OWNER.token}" = "owner"\n"{OTHER_MOD.token}" = "moderator"\n',
    )
    digest = hashlib.sha256(METRICS_KEY.encode()).hexdigest()
    text += f"""
[roles.owner]
rez = "permanent"
scripts = true
caps = ["kick", "ban", "find", "remove", "locate"]
rank = 1000

[api_keys.metrics]
sha256 = "{digest}"
scopes = ["metrics:read"]
"""
    path = tmp_path / "permissions.toml"
    path.write_text(text)
    return path


async def fails(code, awaitable):
    with pytest.raises(RequestFailed) as err:
        await awaitable
    assert err.value.code == code, err.value
    return err.value


def nested(depth):
    props = leaf = {}
    for _ in range(depth - 1):
        leaf["n"] = {}
        leaf = leaf["n"]
    return props


async def test_look_radius_is_bounded_and_reads_are_budgeted(harness, people):
    await harness.restart(read_budget=30.0, max_look_radius=50.0)
    t = await harness.connect(people.trusted)
    await fails("bad_request", t.request("look", center=[0, 0, 0], radius=51))
    for i in range(40):
        t.submit("rez", entity={"type": "box", "position": [i % 10, 0, 0]})
    await t.request("whoami")  # after the writes before it
    page = await t.request("look", center=[0, 0, 0], radius=50, limit=10)
    assert len(page["entities"]) == 10
    # That page read 40 entities (one cell), more than the budget of 30 a second: the next
    # look of this token waits.
    await fails("rate_limited", t.request("look", center=[0, 0, 0], radius=50))
    # Someone else's budget is untouched.
    v = await harness.connect(people.visitor)
    assert (await v.request("look", center=[0, 0, 0], radius=50, limit=1))["entities"]


async def test_mutes_per_token_are_capped(harness, people):
    await harness.restart(max_mutes=3)
    v = await harness.connect(people.visitor)
    for _ in range(3):
        await v.request("mute", target={"owner": Identity.generate().token})
    err = await fails("quota_exceeded", v.request("mute", target={"invisible": True}))
    assert "at most 3 mutes" in err.message
    # Muting what is already muted, and unmuting, still work at the cap.
    first = (await v.request("mutes"))["mutes"][0]
    await v.request("mute", target=first)
    await v.request("unmute", target=first)
    await v.request("mute", target={"invisible": True})


@pytest.mark.parametrize(
    ("props", "why"),
    [
        (nested(9), "nest at most 8"),
        ({f"k{i}": i for i in range(600)}, "at most 512 keys"),
        ({"blob": b"x" * 20_000}, "at most 16384"),
        ([1, 2], "must be a map"),
    ],
)
async def test_props_are_bounded_at_rez_and_edit(harness, people, props, why):
    t = await harness.connect(people.trusted)
    err = await fails("bad_request", t.request("rez", entity={**BOX, "props": props}))
    assert why in err.message
    box = (await t.request("rez", entity={**BOX, "props": nested(8)}))["entity"]
    err = await fails("bad_request", t.request("edit", entity=box["id"], set={"props": props}))
    assert why in err.message


async def test_stored_deep_props_never_make_an_operator_query_fail(harness, people):
    """A row from before the bound (1,000 levels deep) is shown, cut, not answered 500."""
    await harness.stop()
    deep = Entity("deepdeepdeep0001", people.griefer.token, people.griefer.token, None, "box",
                  (0.0, 0.0, 0.0), (1.0, 1.0, 1.0), True, None, None, NO_OVERRIDE,
                  nested(1000), 1.0)  # fmt: skip
    conn = sqlite3.connect(harness.db)
    marks = ",".join("?" * len(deep.to_row()))
    conn.execute(f"INSERT INTO entities VALUES ({marks})", deep.to_row())
    conn.commit()
    conn.close()
    extra = {"Authorization": "Bearer entities-key"}
    harness.policy_path.write_text(harness.policy_path.read_text() + f"""
[api_keys.entities]
sha256 = "{hashlib.sha256(b"entities-key").hexdigest()}"
scopes = ["entities:read"]
""")
    await harness.start()
    url = harness.server.make_url("/api/v1/operator/entities")
    async with aiohttp.ClientSession() as http, http.get(
        url, params={"owner": people.griefer.token}, headers=extra
    ) as r:
        assert r.status == 200
        (found,) = (await r.json())["entities"]
    assert found["id"] == "deepdeepdeep0001" and "nested too deep" in str(found["props"])


async def test_a_rate_below_one_admits_one_request_per_period(harness, people):
    harness.policy_path.write_text(
        harness.policy_path.read_text().replace("rez_per_second = 1000\nchat_per_second = 1000",
                                                "rez_per_second = 0.5\nchat_per_second = 0.5")
    )  # fmt: skip
    await harness.restart()
    v = await harness.connect(people.visitor)
    await v.request("rez", entity=BOX)
    await v.request("say", text="one")
    await fails("rate_limited", v.request("rez", entity=BOX))
    await fails("rate_limited", v.request("say", text="two"))


async def test_operators_cannot_act_on_members_of_equal_or_higher_rank(harness, people):
    mod = await harness.connect(people.moderator)  # rank 100
    owner = await harness.connect(OWNER)  # rank 1000
    peer = await harness.connect(OTHER_MOD)  # rank 100, a member
    trusted = await harness.connect(people.trusted)  # builder, rank 10, a member
    box = (await owner.request("rez", entity=BOX))["entity"]["id"]
    for target in (OWNER.token, OTHER_MOD.token):
        err = await fails("not_allowed", mod.request("ban", token=target, reason="coup"))
        assert "needs a higher rank" in err.message and target in err.message
        await fails("not_allowed", mod.request("kick", avatar=target))
        await fails("not_allowed", mod.request("remove", owner=target))
    await fails("not_allowed", mod.request("remove", entities=[box]))
    assert (await peer.request("whoami"))["role"] == "moderator"
    assert (await owner.request("get", entity=box))["entity"]["id"] == box
    # A lower-ranked member, and anyone not named in [members], are fair game; the owner
    # outranks the moderators.
    await mod.request("kick", avatar=people.trusted.token)
    assert await trusted.wait_closed() == 4002
    await owner.request("kick", avatar=OTHER_MOD.token)
    assert await peer.wait_closed() == 4002
    # Each refusal is in the room log, with who tried what on whom.
    refused = [r for r in await harness.domain.roomlog.page(100, None) if r.kind == "refused"]
    assert len(refused) == 7
    assert {r.target for r in refused} == {OWNER.token, OTHER_MOD.token}
    assert all(r.actor == people.moderator.token for r in refused)


async def test_healthz_counts_need_a_key_and_401_names_the_scheme(harness, http, people):
    await harness.connect(people.visitor)
    async with http.get("/healthz") as r:
        assert r.status == 200 and await r.json() == {"ok": True}
    async with http.get("/healthz", headers={"Authorization": f"Bearer {METRICS_KEY}"}) as r:
        assert r.status == 200 and await r.json() == {"ok": True, "entities": 0, "sessions": 1}
    async with http.get("/healthz", headers={"Authorization": f"Bearer {BLACKLIST_KEY}"}) as r:
        assert r.status == 403
    for path in ("/healthz", "/api/v1/blacklist"):
        async with http.get(path, headers={"Authorization": "Bearer wrong"}) as r:
            assert r.status == 401
            assert r.headers["WWW-Authenticate"].startswith("Bearer")
    async with http.get("/api/v1/blacklist") as r:
        assert r.status == 401 and r.headers["WWW-Authenticate"].startswith("Bearer")


async def test_props_bounds_are_what_the_docs_say():
    from entities import fields

    assert (fields.MAX_PROPS_DEPTH, fields.MAX_PROPS_ITEMS, fields.MAX_PROPS_BYTES) == (
        8,
        512,
        16384,
    )
    assert msgpack.packb(nested(8))  # the deepest accepted encodes fine
