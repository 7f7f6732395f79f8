"""Precedence of access, roles, lists and caps (docs/PERMISSIONS.md "Precedence"), case by case."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.permissions.policy_helpers import make_token, policy_from

T = {n: make_token(n) for n in range(1, 12)}
MOD_CAPS = '["kick", "ban", "find", "remove", "locate"]'


def grants_policy(access: str = "open", signer: str = "", lists: str = ""):
    return policy_from(
        f"""
        [roles.visitor]
        rez = "temporary"
        scripts = false
        [roles.builder]
        rez = "permanent"
        scripts = true
        rank = 10
        [roles.helper]
        rez = "temporary"
        scripts = true
        rank = 10
        [roles.moderator]
        rez = "permanent"
        scripts = true
        caps = {MOD_CAPS}
        rank = 100
        [roles.jailed]
        rez = "none"
        rank = 50
        [members]
        "{T[1]}" = "visitor"
        "{T[2]}" = "moderator"
        [groups.builders]
        role = "builder"
        members = ["{T[1]}", "{T[3]}", "{T[4]}"]
        [groups.helpers]
        role = "helper"
        members = ["{T[3]}"]
        [groups.mods]
        role = "moderator"
        members = ["{T[4]}"]
        [groups.jail]
        role = "jailed"
        members = ["{T[7]}"]
        {signer}
        [groups.guests]
        role = "visitor"
        members = []
        signer = "{signer.split('"')[1] if signer else "ed25519:" + "A" * 43}"
        """
        + lists,
        domain=f'[domain]\nid = "t"\naccess = "{access}"\n',
    )


@pytest.fixture
def policy(signer_pub):
    return grants_policy(signer=f'signer = "{signer_pub}"')


@pytest.mark.parametrize(
    ("token", "creds", "role"),
    [
        pytest.param(1, set(), "visitor", id="member-role-beats-group"),
        pytest.param(2, set(), "moderator", id="member-role"),
        pytest.param(3, set(), "builder", id="equal-rank-first-declared-group"),
        pytest.param(4, set(), "moderator", id="highest-rank-group"),
        pytest.param(6, set(), "visitor", id="no-role-is-visitor"),
        pytest.param(6, {"jail"}, "jailed", id="credential-group-role"),
        pytest.param(4, {"jail"}, "moderator", id="credential-group-lower-rank"),
        pytest.param(2, {"jail"}, "moderator", id="member-beats-credential-group"),
        pytest.param(6, {"builders"}, "visitor", id="credential-for-group-without-signer-ignored"),
        pytest.param(6, {"nope"}, "visitor", id="credential-for-unknown-group-ignored"),
    ],
)
def test_role_precedence(policy, token, creds, role):
    assert policy.grant_for(T[token], frozenset(creds)).role.name == role


def test_equal_rank_tie_follows_file_order():
    swapped = policy_from(
        f"""
        [roles.builder]
        rank = 10
        [roles.helper]
        rank = 10
        [groups.helpers]
        role = "helper"
        members = ["{T[3]}"]
        [groups.builders]
        role = "builder"
        members = ["{T[3]}"]
        """
    )
    assert swapped.grant_for(T[3]).role.name == "helper"


def test_grant_groups_include_file_and_credential_groups(policy):
    grant = policy.grant_for(T[3], frozenset({"jail", "builders", "nope"}))
    assert grant.groups == {"builders", "helpers", "jail"}
    assert grant.token == T[3]


@pytest.mark.parametrize(
    ("access", "lists", "token", "creds", "may_connect"),
    [
        pytest.param("open", "", 6, set(), True, id="open-anyone"),
        pytest.param(
            "open", f'[access]\nblacklist = ["{T[6]}"]', 6, set(), False, id="blacklisted"
        ),
        pytest.param(
            "open",
            '[access]\nblacklist = ["group:builders"]',
            3,
            set(),
            False,
            id="group-blacklisted",
        ),
        pytest.param(
            "open",
            '[access]\nblacklist = ["group:jail"]',
            6,
            {"jail"},
            False,
            id="cred-blacklisted",
        ),
        pytest.param("whitelist", "", 2, set(), True, id="whitelist-member"),
        pytest.param("whitelist", "", 1, set(), True, id="whitelist-member-as-visitor"),
        pytest.param("whitelist", "", 3, set(), True, id="whitelist-group-member"),
        pytest.param("whitelist", "", 6, set(), False, id="whitelist-stranger"),
        pytest.param("whitelist", "", 6, {"jail"}, True, id="whitelist-credential-group"),
        pytest.param(
            "whitelist",
            f'[access]\nblacklist = ["{T[2]}"]',
            2,
            set(),
            False,
            id="blacklist-beats-member",
        ),
    ],
)
def test_access_precedence(signer_pub, access, lists, token, creds, may_connect):
    policy = grants_policy(access, f'signer = "{signer_pub}"', "\n" + lists)
    assert policy.grant_for(T[token], frozenset(creds)).may_connect is may_connect


@pytest.mark.parametrize(
    ("lists", "token", "creds", "may_rez"),
    [
        pytest.param("", 6, set(), True, id="no-lists-role-allows"),
        pytest.param("", 7, set(), False, id="role-none"),
        pytest.param(
            f'whitelist = ["{T[7]}"]', 7, set(), False, id="whitelist-never-beats-role-none"
        ),
        pytest.param(f'whitelist = ["{T[3]}"]', 6, set(), False, id="whitelist-excludes-unlisted"),
        pytest.param(f'whitelist = ["{T[3]}"]', 3, set(), True, id="whitelist-token"),
        pytest.param('whitelist = ["group:builders"]', 1, set(), True, id="whitelist-group"),
        pytest.param('whitelist = ["group:jail"]', 4, {"jail"}, True, id="whitelist-cred-group"),
        pytest.param(f'blacklist = ["{T[3]}"]', 3, set(), False, id="blacklist-token"),
        pytest.param('blacklist = ["group:helpers"]', 3, set(), False, id="blacklist-group"),
        pytest.param(
            f'whitelist = ["{T[3]}"]\nblacklist = ["{T[3]}"]',
            3,
            set(),
            False,
            id="blacklist-beats-whitelist",
        ),
        pytest.param(
            'whitelist = ["group:builders"]\nblacklist = ["group:helpers"]',
            3,
            set(),
            False,
            id="group-blacklist-beats-group-whitelist",
        ),
    ],
)
def test_rez_list_precedence(signer_pub, lists, token, creds, may_rez):
    policy = grants_policy(signer=f'signer = "{signer_pub}"', lists="\n[rez]\n" + lists)
    assert policy.grant_for(T[token], frozenset(creds)).may_rez is may_rez


@pytest.mark.parametrize(
    ("lists", "token", "may_script"),
    [
        pytest.param("", 3, True, id="role-allows"),
        pytest.param("", 6, False, id="role-forbids"),
        pytest.param(f'whitelist = ["{T[6]}"]', 6, False, id="whitelist-never-beats-role"),
        pytest.param('whitelist = ["group:mods"]', 3, False, id="whitelist-excludes-unlisted"),
        pytest.param('whitelist = ["group:mods"]', 4, True, id="whitelist-group"),
        pytest.param(f'blacklist = ["{T[2]}"]', 2, False, id="blacklist-token"),
        pytest.param(
            f'whitelist = ["{T[2]}"]\nblacklist = ["{T[2]}"]',
            2,
            False,
            id="blacklist-beats-whitelist",
        ),
    ],
)
def test_scripts_list_precedence(signer_pub, lists, token, may_script):
    policy = grants_policy(signer=f'signer = "{signer_pub}"', lists="\n[scripts]\n" + lists)
    assert policy.grant_for(T[token]).may_script is may_script


def test_caps_come_only_from_the_role(signer_pub):
    lists = f'\n[rez]\nwhitelist = ["{T[6]}"]\n[scripts]\nwhitelist = ["{T[6]}"]\n'
    policy = grants_policy(signer=f'signer = "{signer_pub}"', lists=lists)
    visitor = policy.grant_for(T[6])
    assert visitor.role.caps == frozenset()
    assert not any(visitor.has(cap) for cap in ("kick", "ban", "find", "remove", "locate"))
    mod = policy.grant_for(T[2])
    assert mod.has("kick") and mod.has("locate") and not mod.has("edit_any")


def test_lists_never_grant_more_than_the_role(signer_pub):
    everyone = ", ".join(f'"{t}"' for t in T.values())
    lists = f"\n[rez]\nwhitelist = [{everyone}]\n[scripts]\nwhitelist = [{everyone}]\n"
    policy = grants_policy(signer=f'signer = "{signer_pub}"', lists=lists)
    for token in T.values():
        for creds in (frozenset(), frozenset({"jail"})):
            grant = policy.grant_for(token, creds)
            assert grant.may_rez <= (grant.role.rez != "none")
            assert grant.may_script <= grant.role.scripts


@pytest.mark.parametrize(
    ("sources", "source", "allowed"),
    [
        ("[]", "https://anything.example/x.js", True),
        ('["https://scripts.example/"]', "https://scripts.example/a/b.js", True),
        ('["https://scripts.example/"]', "https://scripts.example.evil/a.js", False),
        ('["https://scripts.example/"]', "http://scripts.example/a.js", False),
        ('["https://a.example/", "https://b.example/lib/"]', "https://b.example/lib/x.js", True),
        ('["https://a.example/", "https://b.example/lib/"]', "https://b.example/x.js", False),
    ],
)
def test_script_source_allowed(sources, source, allowed):
    policy = policy_from(f"[scripts]\nsources = {sources}\n")
    assert policy.script_source_allowed(source) is allowed


def test_scopes_for_key():
    digest = hashlib.sha256(b"s3cret").hexdigest()
    policy = policy_from(
        f"""
        [api_keys.ci]
        sha256 = "{digest.upper()}"
        scopes = ["blacklist:read", "bans:read"]
        """
    )
    assert policy.scopes_for_key("s3cret") == {"blacklist:read", "bans:read"}
    assert policy.scopes_for_key("wrong") is None
    assert policy.scopes_for_key(digest) is None  # the hash itself is not the key
    assert policy.scopes_for_key("") is None


POOL = [make_token(n) for n in range(100, 108)]
GROUPS = ["a", "b", "c"]
_entry = st.one_of(st.sampled_from(POOL), st.sampled_from([f"group:{g}" for g in GROUPS]))
_list = st.lists(_entry, max_size=4, unique=True)


def _toml_list(items: list[str]) -> str:
    return "[" + ", ".join(f'"{i}"' for i in items) + "]"


@settings(max_examples=60, deadline=None)
@given(
    access=st.sampled_from(["open", "whitelist"]),
    members=st.dictionaries(st.sampled_from(POOL), st.sampled_from(["visitor", "mod", "jailed"])),
    group_members=st.lists(st.lists(st.sampled_from(POOL), unique=True), min_size=3, max_size=3),
    ranks=st.lists(st.integers(0, 3), min_size=3, max_size=3),
    lists=st.lists(_list, min_size=5, max_size=5),
    creds=st.frozensets(st.sampled_from(GROUPS + ["zzz"])),
)
def test_grant_invariants(access, members, group_members, ranks, lists, creds):
    body = [
        f'[roles.mod]\nrez = "permanent"\nscripts = true\ncaps = ["kick"]\nrank = {ranks[0]}',
        f'[roles.jailed]\nrez = "none"\nrank = {ranks[1]}',
        f'[roles.builder]\nrez = "permanent"\nscripts = true\nrank = {ranks[2]}',
        "[members]",
        *(f'"{t}" = "{r}"' for t, r in members.items()),
    ]
    signer = 'signer = "ed25519:' + "A" * 43 + '"'
    for name, role, tokens in zip(GROUPS, ("mod", "jailed", "builder"), group_members, strict=True):
        body.append(f'[groups.{name}]\nrole = "{role}"\nmembers = {_toml_list(tokens)}\n{signer}')
    body.append(f"[rez]\nwhitelist = {_toml_list(lists[0])}\nblacklist = {_toml_list(lists[1])}")
    body.append(
        f"[scripts]\nwhitelist = {_toml_list(lists[2])}\nblacklist = {_toml_list(lists[3])}"
    )
    body.append(f"[access]\nblacklist = {_toml_list(lists[4])}")
    policy = policy_from("\n".join(body), domain=f'[domain]\nid = "h"\naccess = "{access}"\n')

    def on(entries: list[str], token: str, groups: frozenset[str]) -> bool:
        return token in entries or any(f"group:{g}" in entries for g in groups)

    for token in POOL:
        grant = policy.grant_for(token, creds)
        file_groups = {g for g, ms in zip(GROUPS, group_members, strict=True) if token in ms}
        assert grant.groups == file_groups | (creds - {"zzz"})
        if token in members:
            assert grant.role.name == members[token]
        elif not grant.groups:
            assert grant.role.name == "visitor"
        else:
            best = max(policy.roles[policy.groups[g].role].rank for g in grant.groups)
            assert grant.role.rank == best
        if on(lists[4], token, grant.groups):
            assert not grant.may_connect
        elif access == "open":
            assert grant.may_connect
        else:
            assert grant.may_connect == (token in members or bool(grant.groups))
        assert grant.may_rez == (
            grant.role.rez != "none"
            and not on(lists[1], token, grant.groups)
            and (not lists[0] or on(lists[0], token, grant.groups))
        )
        assert grant.may_script == (
            grant.role.scripts
            and not on(lists[3], token, grant.groups)
            and (not lists[2] or on(lists[2], token, grant.groups))
        )
        assert grant.role.caps == policy.roles[grant.role.name].caps
