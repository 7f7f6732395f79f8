"""Every key of the permissions file is read as documented, with its default when absent."""

from __future__ import annotations

import hashlib
from pathlib import Path

import attrs
import pytest

from permissions import (
    KNOWN_CAPS,
    DomainSettings,
    PolicyError,
    Problem,
    Role,
    default_policy,
    load_policy,
    parse_policy,
    summary,
)
from tests.permissions.policy_helpers import make_token, policy_from

ROOT = Path(__file__).resolve().parents[2]
T1, T2, T3 = make_token(1), make_token(2), make_token(3)


def test_minimal_file_takes_every_default():
    policy = parse_policy('[domain]\nid = "x"\n')
    assert policy.domain == DomainSettings(
        id="x",
        access="open",
        max_temp_lifetime=600,
        default_temp_lifetime=60,
        lineage_rez_per_second=20,
    )
    assert policy.roles == {
        "visitor": Role(
            name="visitor",
            rez="temporary",
            scripts=False,
            max_entities=50,
            rez_per_second=10,
            chat_per_second=5,
            caps=frozenset(),
            rank=0,
        )
    }
    assert policy.path == "<string>"
    assert policy.members == {} and policy.groups == {} and policy.api_keys == {}
    assert not policy.rez_whitelist and not policy.scripts_blacklist and not policy.access_blacklist
    assert policy.script_sources == ()


def test_domain_keys():
    policy = parse_policy(
        '[domain]\nid = "d"\naccess = "whitelist"\nmax_temp_lifetime = 120.5\n'
        "default_temp_lifetime = 120.5\nlineage_rez_per_second = 3\n"
    )
    assert policy.domain == DomainSettings("d", "whitelist", 120.5, 120.5, 3.0)


def test_role_keys_and_inheritance_from_visitor():
    policy = policy_from(
        """
        [roles.visitor]
        rez = "none"
        scripts = true
        max_entities = 7
        rez_per_second = 0.5
        chat_per_second = 2
        caps = ["find"]
        rank = 3
        [roles.builder]
        rez = "permanent"
        max_entities = 0
        """
    )
    visitor, builder = policy.roles["visitor"], policy.roles["builder"]
    assert visitor == Role("visitor", "none", True, 7, 0.5, 2.0, frozenset({"find"}), 3)
    # missing keys come from the visitor, except rank which defaults to 0
    assert builder == Role("builder", "permanent", True, 0, 0.5, 2.0, frozenset({"find"}), 0)


def test_visitor_missing_keys_come_from_builtin_visitor():
    policy = policy_from('[roles.visitor]\nrez = "none"\n')
    assert policy.roles["visitor"] == Role("visitor", "none", False, 50, 10.0, 5.0, frozenset(), 0)


def test_all_known_caps_accepted():
    caps = ", ".join(f'"{c}"' for c in sorted(KNOWN_CAPS))
    policy = policy_from(f"[roles.boss]\ncaps = [{caps}]\n")
    assert policy.roles["boss"].caps == KNOWN_CAPS


def test_members_groups_lists_and_keys(signer_pub):
    digest = hashlib.sha256(b"k").hexdigest()
    policy = policy_from(
        f"""
        [roles.moderator]
        caps = ["kick"]
        [members]
        "{T1}" = "moderator"
        {T2} = "visitor"
        [groups.friends]
        role = "moderator"
        members = [
            "{T2}",  # a comment
            "{T3}",
        ]
        signer = "{signer_pub}"
        [groups.empty]
        role = "visitor"
        [rez]
        whitelist = ["{T1}", "group:friends"]
        blacklist = ["{T3}"]
        [scripts]
        whitelist = ["group:empty"]
        blacklist = ["{T2}"]
        sources = ["https://s.example/", "http://localhost:8000/scripts/"]
        [access]
        blacklist = ["group:empty", "{T3}"]
        [api_keys.ci]
        sha256 = "{digest}"
        scopes = ["blacklist:read"]
        """
    )
    assert policy.members == {T1: "moderator", T2: "visitor"}
    friends = policy.groups["friends"]
    assert friends.role == "moderator" and friends.members == {T2, T3}
    assert friends.signer == signer_pub and friends.order == 0
    assert policy.groups["empty"].members == frozenset() and policy.groups["empty"].signer is None
    assert policy.rez_whitelist.tokens == {T1} and policy.rez_whitelist.groups == {"friends"}
    assert policy.rez_blacklist.tokens == {T3}
    assert policy.scripts_whitelist.groups == {"empty"}
    assert policy.scripts_blacklist.tokens == {T2}
    assert policy.script_sources == ("https://s.example/", "http://localhost:8000/scripts/")
    assert policy.access_blacklist.tokens == {T3} and policy.access_blacklist.groups == {"empty"}
    assert policy.api_keys["ci"].sha256 == digest
    assert policy.api_keys["ci"].scopes == {"blacklist:read"}
    assert policy.groups_of(T2) == {"friends"}
    assert policy.groups_of(T1) == frozenset()


def test_policy_is_frozen():
    policy = parse_policy('[domain]\nid = "x"\n')
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        policy.domain = None  # type: ignore[misc]


def test_problem_and_error_text():
    problems = [Problem("f.toml", 3, "a"), Problem("f.toml", 9, "b")]
    error = PolicyError(problems)
    assert str(problems[0]) == "f.toml:3: a"
    assert str(error) == "f.toml:3: a\nf.toml:9: b"
    assert error.problems == problems


def test_load_policy_reads_a_file(tmp_path):
    path = tmp_path / "p.toml"
    path.write_text('[domain]\nid = "x"\n')
    policy = load_policy(path)
    assert policy.path == str(path) and policy.domain.id == "x"


def test_load_policy_unreadable_file(tmp_path):
    missing = tmp_path / "missing.toml"
    with pytest.raises(PolicyError) as caught:
        load_policy(missing)
    [problem] = caught.value.problems
    assert problem.path == str(missing) and problem.line == 1
    assert "cannot read file" in problem.reason


def test_load_policy_not_utf8(tmp_path):
    path = tmp_path / "latin1.toml"
    path.write_bytes(b'[domain]\nid = "caf\xe9"\n')
    with pytest.raises(PolicyError) as caught:
        load_policy(path)
    assert [(p.line, p.reason) for p in caught.value.problems] == [(2, "not UTF-8 text")]


def test_problems_name_the_path():
    with pytest.raises(PolicyError) as caught:
        parse_policy("[domain]\n", "/etc/domain/perm.toml")
    assert str(caught.value) == '/etc/domain/perm.toml:1: domain: missing required key "id"'


def test_default_policy():
    policy = default_policy()
    assert policy.domain.id == "sandbox" and policy.domain.access == "open"
    assert policy.roles["visitor"].rez == "temporary"
    assert policy.roles["moderator"].caps == KNOWN_CAPS
    assert policy.members == {}
    lines = summary(policy)
    assert lines[0].startswith("domain sandbox: access open")
    assert "members: 0" in lines


def test_example_sandbox_file():
    policy = load_policy(ROOT / "examples" / "sandbox.toml")
    assert policy.groups["builders"].signer is not None
    assert policy.script_sources == ("https://scripts.sandbox.example/",)
    assert policy.scopes_for_key("example-blacklist-key") == {"blacklist:read"}
    moderator = next(t for t, r in policy.members.items() if r == "moderator")
    assert policy.grant_for(moderator).has("ban")
    builder = next(iter(policy.groups["builders"].members))
    grant = policy.grant_for(builder)
    assert grant.role.name == "builder" and grant.may_rez and grant.may_script
    blacklisted = next(iter(policy.rez_blacklist.tokens))
    assert not policy.grant_for(blacklisted).may_rez
    text = "\n".join(summary(policy))
    assert "group builders: role builder, 1 member, signer yes" in text
    assert "api key blacklist_reader: blacklist:read" in text
    assert "rez blacklist: 1 token" in text
    assert hashlib.sha256(b"example-blacklist-key").hexdigest() not in text
