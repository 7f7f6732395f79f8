"""describe_changes (the room log after a reload) and summary (`domainserver check`)."""

from __future__ import annotations

import hashlib

from permissions import describe_changes, summary
from permissions.describe import short_token
from tests.permissions.policy_helpers import make_token, policy_from

T1, T2, T3, T4 = (make_token(n) for n in range(1, 5))
KEY = hashlib.sha256(b"k").hexdigest()
BASE = f"""
[roles.moderator]
rez = "permanent"
caps = ["kick", "ban"]
[members]
"{T1}" = "moderator"
"{T2}" = "moderator"
[groups.builders]
role = "visitor"
members = ["{T3}"]
[rez]
blacklist = ["{T4}"]
[api_keys.ci]
sha256 = "{KEY}"
scopes = ["blacklist:read"]
"""


def test_no_changes():
    assert describe_changes(policy_from(BASE), policy_from(BASE)) == []


def test_demotion():
    newer = BASE.replace(f'"{T2}" = "moderator"', f'"{T2}" = "visitor"')
    lines = describe_changes(policy_from(BASE), policy_from(newer))
    assert lines == [f"member {T2[:8]}… role moderator -> visitor"]


def test_members_added_and_removed():
    newer = BASE.replace(f'"{T2}" = "moderator"', f'"{T3}" = "moderator"')
    lines = describe_changes(policy_from(BASE), policy_from(newer))
    assert lines == [
        f"member {short_token(T3)} added as moderator",
        f"member {short_token(T2)} removed (was moderator)",
    ]


def test_list_edits():
    newer = BASE.replace(f'blacklist = ["{T4}"]', f'blacklist = ["{T4}", "{T1}", "group:builders"]')
    newer += f'[scripts]\nwhitelist = ["{T2}"]\nsources = ["https://s.example/"]\n'
    newer += f'[access]\nblacklist = ["{T3}"]\n'
    lines = describe_changes(policy_from(BASE), policy_from(newer))
    assert lines == [
        "access blacklist +1 token",
        "rez blacklist +1 token +group:builders",
        "scripts whitelist +1 token",
        "scripts sources +https://s.example/",
    ]
    back = describe_changes(policy_from(newer), policy_from(BASE))
    assert "rez blacklist -1 token -group:builders" in back


def test_role_group_domain_and_key_edits():
    newer = (
        BASE.replace('caps = ["kick", "ban"]', 'caps = ["kick", "locate"]\nmax_entities = 9')
        .replace(f'members = ["{T3}"]', f'members = ["{T4}", "{T1}"]')
        .replace('scopes = ["blacklist:read"]', 'scopes = ["bans:read"]')
    ) + '[roles.builder]\nrez = "permanent"\n'
    newer = newer.replace('role = "visitor"', 'role = "builder"')
    lines = describe_changes(policy_from(BASE),
        policy_from(newer, domain='[domain]\nid = "test"\naccess = "whitelist"\n')
    )
    assert lines == [
        "domain access open -> whitelist",
        "role builder (rank 0): rez permanent, scripts no, max 50 entities, rez 10/s, chat 5/s, "
        "caps none (added)",
        "role moderator: max_entities 50 -> 9, caps +locate -ban",
        "group builders: role visitor -> builder, +2 members, -1 member",
        "api key ci: scopes +bans:read -blacklist:read",
    ]


def test_many_member_changes_are_counted():
    many = "\n".join(f'"{make_token(n)}" = "moderator"' for n in range(100, 150))
    newer = BASE.replace("[members]", "[members]\n" + many)
    lines = describe_changes(policy_from(BASE), policy_from(newer))
    assert lines == ["members: 50 added, 0 removed, 0 changed role"]


def test_signer_and_key_lifecycle(signer_pub):
    newer = BASE.replace(f'members = ["{T3}"]', f'members = ["{T3}"]\nsigner = "{signer_pub}"')
    newer = newer.replace(KEY, hashlib.sha256(b"rotated").hexdigest())
    newer += '[groups.new]\nrole = "visitor"\n'
    lines = describe_changes(policy_from(BASE), policy_from(newer))
    assert lines == [
        "group builders: signer added",
        "group new added: role visitor, 0 members",
        "api key ci: key replaced",
    ]
    gone = policy_from(BASE.split("[api_keys.ci]")[0])
    assert describe_changes(policy_from(BASE), gone) == ["api key ci removed"]


def test_summary_lines(signer_pub):
    text = BASE.replace(f'members = ["{T3}"]', f'members = ["{T3}"]\nsigner = "{signer_pub}"')
    lines = summary(policy_from(text))
    assert lines == [
        "domain test: access open, temporary entities 60 s by default, at most 600 s; "
        "lineage rez 20/s",
        "role visitor (rank 0): rez temporary, scripts no, max 50 entities, rez 10/s, chat 5/s, "
        "caps none",
        "role moderator (rank 0): rez permanent, scripts no, max 50 entities, rez 10/s, "
        "chat 5/s, caps ban, kick",
        "members: 2 (moderator: 2)",
        "group builders: role visitor, 1 member, signer yes",
        "rez blacklist: 1 token",
        "api key ci: blacklist:read",
    ]
    assert KEY not in "\n".join(lines)
