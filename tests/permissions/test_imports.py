"""Import parsing: CSV rows (good, malformed at line N, duplicates, expired) and an Overte
settings file mapped to roles, members, bans and a report of what does not map."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from permissions import parse_policy
from permissions.imports import ImportRefused, read_csv
from permissions.overte import read_overte

A, B, C = "a" * 32, "b" * 32, "c" * 32
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "overte-settings.json"


def test_csv_with_and_without_header():
    text = f"token,reason,expires_at\n{A},spam,\n{B},\"griefing, twice\",2000000000\n\n"
    plan = read_csv(text, now=1000.0)
    assert [(b.token, b.reason, b.expires_at) for b in plan.bans] == [
        (A, "spam", None), (B, "griefing, twice", 2e9),
    ]
    assert read_csv(f"{C},x\n", now=0).bans[0].token == C


def test_duplicates_keep_the_last_row_and_expired_rows_are_skipped():
    plan = read_csv(f"{A},first\n{B},b,500\n{A},second\n", now=1000.0)
    assert [(b.token, b.reason) for b in plan.bans] == [(A, "second")]
    assert (plan.rows, plan.duplicates, plan.expired) == (3, 1, 1)


@pytest.mark.parametrize(
    ("text", "line", "reason"),
    [
        (f"token,reason\n{A},ok\nnot-a-token,x\n", 3, '"not-a-token" is not a token'),
        (f"{A},ok\n{B}\n", 2, "1 fields"),
        (f"{A},ok\n{B},x,1,2\n", 2, "4 fields"),
        (f"{A},ok\n\n{B},   \n", 3, "reason: reason must be a non-empty string"),
        (f"{A},ok,soon\n", 1, 'expires_at "soon" is not unix seconds'),
        (f"{A},ok,-5\n", 1, 'expires_at "-5" is not unix seconds'),
        (f"{A}," + "x" * 1001 + "\n", 1, "at most 1000 characters"),
    ],
)
def test_a_malformed_csv_is_refused_at_its_line(text, line, reason):
    with pytest.raises(ImportRefused) as err:
        read_csv(text, now=0)
    assert err.value.line == line and reason in err.value.reason


def test_the_shipped_overte_example_maps_and_reports():
    plan = read_overte(EXAMPLE.read_text(), now=0)
    data = json.loads(EXAMPLE.read_text())
    per_user = {r["permissions_id"]: r for r in data["security"]["permissions"]}
    tokens = [t for t in per_user if len(t) == 32]
    banned = [t for t in tokens if not per_user[t]["id_can_connect"]]
    member = [t for t in tokens if per_user[t]["id_can_connect"]]
    assert [b.token for b in plan.bans] == banned
    policy = parse_policy(plan.permissions.replace('"imported"', '"x"'), "out.toml")
    assert policy.domain.max_temp_lifetime == 3600 and policy.domain.default_temp_lifetime == 60
    assert policy.visitor.rez == "temporary" and policy.visitor.caps == frozenset()
    role = policy.roles[policy.members[member[0]]]
    assert role.rez == "permanent" and role.caps == {"kick", "ban"}
    report = "\n".join(plan.unmapped)
    assert "'spammer42': a ban by username has no token" in report
    assert "'203.0.113.7': a ban by an IP address has no token" in report
    assert "a ban by a machine fingerprint has no token" in report
    assert "'logged-in': not mapped" in report and "'localhost': not mapped" in report
    assert "'builders-guild': metaverse groups have no equivalent" in report
    assert "id_can_adjust_locks has no equivalent" in report


def test_overte_anonymous_without_connect_means_a_whitelist_domain():
    text = json.dumps({"security": {"standard_permissions": [
        {"permissions_id": "anonymous", "id_can_connect": False, "id_can_rez": True,
         "id_can_kick": True},
    ]}})  # fmt: skip
    plan = read_overte(text, now=0)
    policy = parse_policy(plan.permissions, "out.toml")
    assert policy.domain.access == "whitelist" and policy.visitor.rez == "permanent"
    assert policy.visitor.caps == {"kick", "ban"} and plan.bans == ()


@pytest.mark.parametrize(
    ("text", "line", "reason"),
    [
        ('{"security": {\n  "permissions": [\n    {"permissions_id": "x",,}\n  ]\n}}', 3,
         "not JSON"),
        ("[1, 2]", 1, "not a JSON object"),
        ('{\n"security": {\n"permissions": {}\n}}', 3, "security.permissions is not a list"),
        ('{\n"security": {\n"permissions": [\n{"id_can_connect": true}]}}', 3,
         "security.permissions[0] has no permissions_id"),
        ('{"security": {"permissions": [\n{"permissions_id": "bob",\n"id_can_rez": "yes"}]}}',
         2, "security.permissions[0].id_can_rez is not true or false"),
        ('{\n"entity_server_settings": {\n"maxTmpLifetime": "forever"}}', 3,
         "maxTmpLifetime is not seconds"),
    ],
)
def test_a_malformed_overte_file_is_refused_at_its_line(text, line, reason):
    with pytest.raises(ImportRefused) as err:
        read_overte(text, now=0)
    assert err.value.line == line and reason in err.value.reason
