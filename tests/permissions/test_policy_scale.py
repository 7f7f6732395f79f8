"""A policy of 100,000 members and 1,000 groups builds and answers (timing is in the bench)."""

from __future__ import annotations

import base64
import random

from permissions import parse_policy


def _tokens(rng: random.Random, n: int) -> list[str]:
    return [base64.b32encode(rng.randbytes(20)).decode().lower() for _ in range(n)]


def test_large_policy():
    rng = random.Random(7)
    members = _tokens(rng, 100_000)
    grouped = _tokens(rng, 20_000)
    lines = [
        '[domain]\nid = "big"\n[roles.builder]\nrank = 1\n[roles.moderator]\nrank = 2',
        "[members]",
    ]
    lines += [f'"{t}" = "moderator"' for t in members]
    for g in range(1_000):
        chunk = grouped[g * 20 : g * 20 + 20] + [members[g]]
        role = "builder" if g % 2 else "visitor"
        lines.append(f'[groups.g{g}]\nrole = "{role}"\nmembers = [{", ".join(map(repr, chunk))}]')
    lines.append('[rez]\nblacklist = ["group:g5"]')
    policy = parse_policy("\n".join(lines).replace("'", '"'))
    assert len(policy.members) == 100_000 and len(policy.groups) == 1_000
    assert policy.grant_for(members[3]).role.name == "moderator"
    assert policy.grant_for(grouped[5 * 20]).role.name == "builder"
    assert policy.grant_for(grouped[5 * 20]).may_rez is False
    assert policy.grant_for(grouped[4 * 20]).role.name == "visitor"
    assert policy.grant_for(members[5]).groups == {"g5"}
    assert policy.grant_for(_tokens(rng, 1)[0]).groups == frozenset()
