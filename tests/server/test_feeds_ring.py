"""Three real servers on 127.0.0.1, each following the other two's ban feeds (refresh 1 s):
bans and unbans travel within a refresh; forged, rewound and malformed documents are refused
with the last good copy kept; a publisher going down harms nobody; members and local bans
are never overruled by a feed."""

import aiohttp
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from domainserver.client import Identity

from .feeds_helpers import (
    WITHIN_A_REFRESH,
    Domain3,
    HandPublisher,
    banned_on,
    feed_table,
    hello_refused,
    until,
)


@pytest.fixture
async def ring(aiohttp_server, tmp_path, people):
    domains = Domain3(aiohttp_server, tmp_path, people)
    await domains.start()
    domains.follow()
    yield domains
    await domains.close()


async def test_a_ban_reaches_the_others_within_a_refresh_and_an_unban_too(ring, people):
    griefer = Identity.generate()
    on_b = await ring["B"].connect(griefer)
    box = await on_b.request("rez", entity={"type": "box", "position": [0, 0, 0]})
    on_c = await ring["C"].connect(griefer)
    moderator = await ring["A"].connect(people.moderator)
    await moderator.request("ban", token=griefer.token, reason="griefing the plaza")
    took = await until(lambda: banned_on(ring["B"], griefer.token)
                       and banned_on(ring["C"], griefer.token))  # fmt: skip
    assert took < WITHIN_A_REFRESH
    # Kicked where connected (4003), refused at hello, its entities kept by default.
    assert await on_b.wait_closed() == 4003 and await on_c.wait_closed() == 4003
    assert await hello_refused(ring["B"], griefer) == "banned"
    assert ring["B"].domain.world.get(box["entity"]["id"]) is not None
    # The reason never travels; only A holds it.
    assert "griefing" not in str(ring["B"].domain.feeds.entries("A"))
    await moderator.request("unban", token=griefer.token)
    await until(lambda: not banned_on(ring["B"], griefer.token)
                and not banned_on(ring["C"], griefer.token))  # fmt: skip
    assert await hello_refused(ring["C"], griefer) is None
    # A learned nothing back from B and C: feeds carry only their own domain's bans.
    assert not banned_on(ring["A"], griefer.token)


async def test_a_member_named_in_members_is_not_banned_by_a_feed(ring, people):
    moderator = await ring["A"].connect(people.moderator)
    # people.trusted is in every server's [members] (role builder).
    await moderator.request("ban", token=people.trusted.token, reason="disputed")
    await until(lambda: people.trusted.token in ring["B"].domain.feeds.entries("A"))
    assert not banned_on(ring["B"], people.trusted.token)
    assert await hello_refused(ring["B"], people.trusted) is None
    (conflict,) = ring["B"].domain.feeds.conflicts(ring["B"].domain.policy.members, 0)
    assert (conflict.feed, conflict.token, conflict.role) == ("A", people.trusted.token, "builder")


async def test_a_local_ban_is_not_lifted_by_a_feeds_retraction(ring, people):
    griefer = Identity.generate()
    on_a = await ring["A"].connect(people.moderator)
    on_b = await ring["B"].connect(people.moderator)
    await on_a.request("ban", token=griefer.token, reason="a")
    await until(lambda: griefer.token in ring["B"].domain.feeds.entries("A"))
    await on_b.request("ban", token=griefer.token, reason="b's own")
    await on_a.request("unban", token=griefer.token)
    await until(lambda: griefer.token not in ring["B"].domain.feeds.entries("A"))
    assert banned_on(ring["B"], griefer.token)
    assert await hello_refused(ring["B"], griefer) == "banned"
    # C only ever had A's (then B's) ban by feed: B's own ban keeps it banned on C too.
    await until(lambda: griefer.token in ring["C"].domain.feeds.entries("B"))
    assert banned_on(ring["C"], griefer.token)


async def test_a_publisher_going_down_harms_no_subscriber(ring, people):
    griefer = Identity.generate()
    moderator = await ring["A"].connect(people.moderator)
    await moderator.request("ban", token=griefer.token, reason="x")
    await until(lambda: banned_on(ring["B"], griefer.token))
    serial = ring["B"].domain.feed_status["A"].serial
    await ring["A"].stop()
    await until(lambda: ring["B"].domain.feed_status["A"].errors >= 1)
    status = ring["B"].domain.feed_status["A"]
    assert status.last_error.startswith("fetch failed") and status.serial == serial
    assert banned_on(ring["B"], griefer.token)
    # B restarts while A is still down: the last good copy comes back from B's database.
    await ring.restart("B")
    assert banned_on(ring["B"], griefer.token)
    assert await hello_refused(ring["B"], griefer) == "banned"
    assert ring["B"].domain.feed_status["A"].serial == serial
    # The others go on working: C follows B as before.
    other = Identity.generate()
    on_b = await ring["B"].connect(people.moderator)
    await on_b.request("ban", token=other.token, reason="y")
    await until(lambda: banned_on(ring["C"], other.token))


async def test_removing_a_subscription_lifts_what_it_imposed(ring, people):
    griefer = Identity.generate()
    moderator = await ring["A"].connect(people.moderator)
    await moderator.request("ban", token=griefer.token, reason="x")
    await until(lambda: banned_on(ring["B"], griefer.token))
    only_c = feed_table("C", ring.feed_url("C"), ring.key("C"))
    ring.set_policy("B", only_c)
    await until(lambda: "A" not in ring["B"].domain.feeds)
    assert not banned_on(ring["B"], griefer.token)
    assert await hello_refused(ring["B"], griefer) is None
    rows = ring["B"].domain.store.read(
        lambda c: c.execute("SELECT COUNT(*) FROM feed_entries WHERE feed = 'A'").fetchone()
    )
    assert rows == (0,)


async def test_forged_rewound_and_malformed_documents_are_refused(aiohttp_server, ring, people):
    hand = HandPublisher(aiohttp_server)
    await hand.start()
    x, y = Identity.generate().token, Identity.generate().token
    hand.serve(5, [(x, True, None)])
    ring.set_policy("B", feed_table("hand", hand.url, hand.key_text))
    b = ring["B"].domain
    await until(lambda: banned_on(ring["B"], x))
    assert b.feed_status["hand"].serial == 5

    async def refused(reason: str) -> None:
        errors = b.feed_status["hand"].errors
        await until(lambda: b.feed_status["hand"].errors > errors, timeout=6)
        status = b.feed_status["hand"]
        assert reason in status.last_error, status.last_error
        assert status.serial == 5 and banned_on(ring["B"], x) and not banned_on(ring["B"], y)

    hand.serve(6, [(y, True, None)], since=5, signer=Ed25519PrivateKey.generate())
    await refused("does not verify")
    hand.serve(3, [(y, True, None)], since=5)
    await refused("serial went backwards")
    hand.body = b'{"domain":"hand","serial":7,"entries":[{"token":"nope"}],"since":5}'
    await refused("entries[0].token")
    records = await b.roomlog.page(100, None)
    kinds = [r.kind for r in records]
    assert kinds.count("feed_refused") >= 3
    # A good document again is taken: the copy moves on, after the back-off (three failures
    # in a row: 8 refreshes, plus jitter).
    hand.serve(8, [(x, False, None), (y, True, 99e9)], since=5)
    took = await until(lambda: banned_on(ring["B"], y) and not banned_on(ring["B"], x),
                       timeout=8 * 1.1 + 2)  # fmt: skip
    assert took > 2
    assert "since=5" in hand.requests[-1] or "since=8" in hand.requests[-1]


async def test_the_operator_api_shows_each_subscription_and_a_tokens_sources(ring, people):
    import hashlib

    key = "feeds-reader-key"
    digest = hashlib.sha256(key.encode()).hexdigest()
    extra = ring.extra["B"] + f'\n[api_keys.ops]\nsha256 = "{digest}"\nscopes = ["bans:read"]\n'
    ring.set_policy("B", extra)
    griefer = Identity.generate()
    on_a = await ring["A"].connect(people.moderator)
    on_b = await ring["B"].connect(people.moderator)
    await on_a.request("ban", token=griefer.token, reason="x")
    await on_a.request("ban", token=people.trusted.token, reason="disputed")
    await on_b.request("ban", token=griefer.token, reason="ours too")
    await until(lambda: people.trusted.token in ring["B"].domain.feeds.entries("A"))
    base = str(ring["B"].server.make_url("/api/v1/operator"))
    headers = {"Authorization": f"Bearer {key}"}
    async with aiohttp.ClientSession() as http:
        await _check_operator_view(http, base, headers, griefer, people)


async def _check_operator_view(http, base, headers, griefer, people):
    async with http.get(base + "/feeds", headers=headers) as resp:
        assert resp.status == 200
        body = await resp.json()
    by_name = {f["name"]: f for f in body["feeds"]}
    assert set(by_name) == {"A", "C"} and body["publish"] == "all"
    assert by_name["A"]["entries"] == 2 and by_name["A"]["serial"] >= 2
    assert by_name["A"]["ok_at"] is not None and by_name["A"]["errors"] == 0
    assert body["conflicts"] == [{"feed": "A", "token": people.trusted.token,
                                  "role": "builder", "action": "ban"}]  # fmt: skip
    async with http.get(f"{base}/bans/{griefer.token}/sources", headers=headers) as resp:
        sources = await resp.json()
    assert sources["decision"] == {"action": "ban", "source": "local"}
    assert [(s["source"], s["deciding"]) for s in sources["sources"]] == [
        ("local", True), ("feed A", False),
    ]
    async with http.get(f"{base}/bans/{people.trusted.token}/sources", headers=headers) as resp:
        member = await resp.json()
    assert member["decision"] is None and member["member"] == "builder"
    async with http.get(base + "/feeds") as resp:
        assert resp.status == 401
