"""Resolving a report keeps the order of operators' powers: a warden cannot kick or ban, by
way of a report, a member whose role outranks or equals its own; the report stays open."""

import pytest

from domainserver.client import RequestFailed


@pytest.fixture
def policy_extra(people):
    # `stranger` is a junior warden (rank 50): below the moderator named in [members] (100).
    return f"""
[roles.warden]
rez = "permanent"
caps = ["reports", "kick", "ban"]
rank = 50

[groups.wardens]
role = "warden"
members = ["{people.stranger.token}"]
"""


async def test_a_report_cannot_be_resolved_against_a_higher_member(harness, people):
    victim = await harness.connect(people.visitor)
    moderator = await harness.connect(people.moderator)
    warden = await harness.connect(people.stranger)
    await moderator.request("say", text="I outrank you all")
    filed = (await victim.request("report", target={"avatar": people.moderator.token},
                                  reason="abuse of power"))["report"]  # fmt: skip
    for action in ("ban", "kick"):
        with pytest.raises(RequestFailed) as refused:
            await warden.request("resolve", report=filed, action=action, reason="no")
        assert refused.value.code == "not_allowed" and "higher rank" in refused.value.message
    assert (await moderator.request("whoami"))["role"] == "moderator"  # neither kicked nor banned
    queue = (await warden.request("reports", state="open"))["reports"]
    assert [r["id"] for r in queue] == [filed]  # still open, for someone who may act
    closed = await warden.request("resolve", report=filed, action="dismiss")
    assert closed["report"]["state"] == "closed"
    # Commits land in order: with the dismissal acknowledged, both refusals are in the log.
    refusals = [r for r in await harness.domain.roomlog.page(100, None) if r.kind == "refused"]
    assert [r.actor for r in refusals] == [people.stranger.token] * 2
