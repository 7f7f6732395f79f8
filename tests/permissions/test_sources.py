"""Which source decides a token's fate: a local ban always; then the highest-priority feed;
a `[members]` token never by a feed. Properties checked with Hypothesis."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from permissions import BanList, Decision, FeedBans, FeedRule, decide, sources_of

A, B, C = "a" * 32, "b" * 32, "c" * 32
NOW = 1000.0


def _feeds(*rules: FeedRule) -> FeedBans:
    feeds = FeedBans()
    for rule in rules:
        feeds.set_rule(rule)
    return feeds


def test_a_local_ban_wins_over_every_feed():
    local, feeds = BanList(), _feeds(FeedRule("f", "advisory", 100))
    feeds.replace("f", {A: None})
    local.add(A)
    assert decide(A, NOW, local, feeds, {}) == Decision("ban", "local")


def test_priority_decides_between_feeds_and_ties_take_the_stronger_action():
    feeds = _feeds(FeedRule("lo", "ban", 0), FeedRule("hi", "advisory", 5))
    feeds.replace("lo", {A: None, B: None})
    feeds.replace("hi", {A: None})
    assert feeds.decide(A, NOW, {}) == Decision("advisory", "feed hi")
    assert feeds.decide(B, NOW, {}) == Decision("ban", "feed lo")
    tie = _feeds(FeedRule("x", "advisory", 1), FeedRule("y", "rez-deny", 1))
    tie.replace("x", {C: None})
    tie.replace("y", {C: None})
    assert tie.decide(C, NOW, {}) == Decision("rez-deny", "feed y")


def test_a_member_is_never_acted_on_and_is_a_conflict():
    feeds = _feeds(FeedRule("f", "ban"))
    feeds.replace("f", {A: None, B: None})
    members = {A: "moderator"}
    assert feeds.decide(A, NOW, members) is None
    assert feeds.decide(B, NOW, members) == Decision("ban", "feed f")
    (conflict,) = feeds.conflicts(members, NOW)
    assert conflict.to_wire() == {"feed": "f", "token": A, "role": "moderator", "action": "ban"}


def test_expired_entries_hold_nothing_and_the_next_feed_decides():
    feeds = _feeds(FeedRule("hi", "ban", 2), FeedRule("lo", "advisory", 1))
    feeds.replace("hi", {A: NOW})
    feeds.replace("lo", {A: None})
    assert feeds.decide(A, NOW - 1, {}) == Decision("ban", "feed hi")
    assert feeds.decide(A, NOW, {}) == Decision("advisory", "feed lo")


def test_deltas_retract_and_report_what_changed():
    feeds = _feeds(FeedRule("f", "ban"))
    assert feeds.apply("f", [(A, True, None), (B, True, 5.0)]) == {A, B}
    assert feeds.apply("f", [(A, True, None), (B, False, None), (C, False, None)]) == {B}
    assert dict(feeds.entries("f")) == {A: None}
    assert feeds.replace("f", {C: None}) == {A, C}


def test_sources_of_marks_the_deciding_one():
    local, feeds = BanList(), _feeds(FeedRule("f", "ban"), FeedRule("g", "advisory", 3))
    feeds.replace("f", {A: None})
    feeds.replace("g", {A: 50.0})
    local.add(A)
    got = [(h.source, h.deciding) for h in sources_of(A, NOW, local, feeds, {})]
    assert got == [("local", True), ("feed g", False), ("feed f", False)]


tokens = st.sampled_from([A, B, C])
feed_names = st.sampled_from(["f1", "f2", "f3"])
actions = st.sampled_from(["ban", "rez-deny", "advisory"])
expiry = st.one_of(st.none(), st.floats(min_value=0, max_value=2 * NOW))
lists = st.dictionaries(tokens, expiry, max_size=3)


@st.composite
def worlds(draw):
    rules = [FeedRule(n, draw(actions), draw(st.integers(-2, 2))) for n in ("f1", "f2", "f3")]
    feeds = _feeds(*rules)
    for rule in rules:
        feeds.replace(rule.name, draw(lists))
    local = BanList()
    for token in draw(st.lists(tokens, max_size=2)):
        local.add(token)
    members = {t: "moderator" for t in draw(st.lists(tokens, max_size=1))}
    return feeds, local, members


@settings(max_examples=200, deadline=None)
@given(worlds(), tokens)
def test_local_bans_always_hold_and_members_are_never_acted_on_by_feeds(world, token):
    feeds, local, members = world
    got = decide(token, NOW, local, feeds, members)
    if local.is_banned(token, NOW):
        assert got == Decision("ban", "local")
    elif token in members:
        assert got is None
    if got is not None and got.feed is not None:
        assert token not in members and token in feeds.entries(got.feed)


@settings(max_examples=200, deadline=None)
@given(worlds(), tokens, feed_names)
def test_a_retraction_never_lifts_what_another_source_holds(world, token, name):
    feeds, local, members = world
    others = [n for n in feeds.names() if n != name]
    held_elsewhere = local.is_banned(token, NOW) or (
        token not in members
        and any(
            token in feeds.entries(n)
            and (feeds.entries(n)[token] is None or feeds.entries(n)[token] > NOW)
            for n in others
        )
    )
    feeds.apply(name, [(token, False, None)])
    after = decide(token, NOW, local, feeds, members)
    assert (after is not None) == held_elsewhere
    feeds.drop(name)
    assert (decide(token, NOW, local, feeds, members) is not None) == held_elsewhere


@settings(max_examples=200, deadline=None)
@given(worlds(), tokens)
def test_the_decision_is_the_highest_priority_feed_listing_the_token(world, token):
    feeds, _, members = world
    got = feeds.decide(token, NOW, members)
    live = [
        feeds.rule(n)
        for n in feeds.names()
        if token in feeds.entries(n)
        and (feeds.entries(n)[token] is None or feeds.entries(n)[token] > NOW)
    ]
    if token in members or not live:
        assert got is None
    else:
        assert got is not None
        assert feeds.rule(got.feed).priority == max(r.priority for r in live)
