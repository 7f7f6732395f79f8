"""What a feed's action does to the avatars it lists, on a real server fed by a hand-written
publisher: rez-deny refuses rez and scripts, advisory tells the moderators, remove_entities
removes, and priority decides between feeds."""

import pytest

from domainserver.client import Identity, RequestFailed
from domainserver.services.reload import reload_policy

from .conftest import policy_text
from .feeds_helpers import HandPublisher, banned_on, feed_table, hello_refused, until


@pytest.fixture
async def hand(aiohttp_server):
    publisher = HandPublisher(aiohttp_server)
    await publisher.start()
    return publisher


def _follow(harness, people, *tables):
    harness.policy_path.write_text(policy_text(people, "".join(tables)))
    assert reload_policy(harness.domain)


async def test_rez_deny_lets_in_but_refuses_rez_and_scripts_until_lifted(harness, people, hand):
    x = Identity.generate()
    client = await harness.connect(x)
    box = await client.request("rez", entity={"type": "box", "position": [0, 0, 0]})
    hand.serve(1, [(x.token, True, None)])
    _follow(harness, people, feed_table("h", hand.url, hand.key_text, action="rez-deny"))
    await until(lambda: not harness.domain.sessions.of_token(x.token).pop().grant.may_rez)
    for op, args in (
        ("rez", {"entity": {"type": "box", "position": [0, 0, 0]}}),
        ("edit", {"entity": box["entity"]["id"], "set": {"script": "s"}}),
    ):
        with pytest.raises(RequestFailed) as err:
            await client.request(op, **args)
        assert err.value.code == "not_allowed"
    assert await hello_refused(harness, x) is None  # it may still enter
    hand.serve(2, [(x.token, False, None)], since=1)
    await until(lambda: harness.domain.sessions.of_token(x.token).pop().grant.may_rez)
    await client.request("rez", entity={"type": "box", "position": [0, 0, 0]})


async def test_advisory_tells_moderators_when_the_token_enters(harness, people, hand):
    x = Identity.generate()
    hand.serve(1, [(x.token, True, None)])
    _follow(harness, people, feed_table("watch", hand.url, hand.key_text, action="advisory"))
    await until(lambda: x.token in harness.domain.feeds.entries("watch"))
    moderator = await harness.connect(people.moderator)
    visitor = await harness.connect(people.visitor)
    await harness.connect(x, name="trouble")
    event = await moderator.event("advisory")
    assert event["token"] == x.token and event["name"] == "trouble"
    assert event["source"] == "feed watch"
    assert not [e for e in visitor.drain_events() if e.get("ev") == "advisory"]


async def test_remove_entities_and_priority_between_feeds(aiohttp_server, harness, people, hand):
    other = HandPublisher(aiohttp_server)
    await other.start()
    x, y = Identity.generate(), Identity.generate()
    cx = await harness.connect(x)
    await cx.request("rez", entity={"type": "box", "position": [0, 0, 0]})
    hand.serve(1, [(x.token, True, None), (y.token, True, None)])
    other.serve(1, [(y.token, True, None)])
    _follow(harness, people,
            feed_table("strict", hand.url, hand.key_text, remove_entities=True),
            feed_table("lenient", other.url, other.key_text, action="advisory", priority=5))
    await until(lambda: banned_on(harness, x.token))
    await until(lambda: harness.domain.world.count_owned(x.token) == 0)
    assert await cx.wait_closed() == 4003
    # y: the higher-priority feed only flags it, so it is not banned.
    await until(lambda: y.token in harness.domain.feeds.entries("lenient"))
    assert not banned_on(harness, y.token)
    assert await hello_refused(harness, y) is None
