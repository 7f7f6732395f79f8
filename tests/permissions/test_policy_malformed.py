"""The malformed corpus: each file under malformed/ is refused with an exact line and reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from permissions import PolicyError, load_policy

CORPUS = Path(__file__).parent / "malformed"

# file -> (line, substring of the reason); each of these files has exactly one problem.
EXPECTED = {
    "toml_syntax.toml": (3, "TOML syntax: Invalid value (column 10)"),
    "missing_domain.toml": (1, "missing required table [domain]"),
    "missing_domain_id.toml": (3, 'domain: missing required key "id"'),
    "empty_domain_id.toml": (2, "domain.id: must not be empty"),
    "unknown_top_level.toml": (4, 'unknown key "domian"; did you mean "domain"?'),
    "unknown_domain_key.toml": (3, 'domain: unknown key "acess"; did you mean "access"?'),
    "bad_access.toml": (3, 'domain.access: must be one of "open", "whitelist", got "private"'),
    "default_above_cap.toml": (
        4,
        "domain.default_temp_lifetime: 900 is above max_temp_lifetime 600",
    ),
    "negative_lifetime.toml": (3, "domain.max_temp_lifetime: must be > 0, got -5"),
    "bool_is_not_a_number.toml": (
        3,
        "domain.lineage_rez_per_second: must be a number, got true (a boolean)",
    ),
    "bad_rez_mode.toml": (
        5,
        'roles.visitor.rez: must be one of "none", "temporary", "permanent", got "temp"',
    ),
    "negative_max_entities.toml": (4, "roles.visitor.max_entities: must be >= 0"),
    "bool_is_not_an_int.toml": (
        4,
        "roles.builder.max_entities: must be an integer, got false (a boolean)",
    ),
    "float_rank.toml": (4, "roles.builder.rank: must be an integer, got 1.5"),
    "scripts_not_bool.toml": (4, 'roles.builder.scripts: must be true or false, got "yes"'),
    "unknown_cap.toml": (4, 'roles.moderator.caps: unknown cap "kik"; did you mean "kick"?'),
    "unknown_role_key.toml": (4, 'roles.moderator: unknown key "cap"; did you mean "caps"?'),
    "member_not_token.toml": (
        5,
        'members: "abc" is not a token (32 characters of a-z and 2-7)',
    ),
    "member_unknown_role.toml": (4, 'unknown role "moderator" (known: visitor)'),
    "group_unknown_role.toml": (
        6,
        'groups.friends.role: unknown role "frends" (known: moderator, visitor)',
    ),
    "group_missing_role.toml": (4, 'groups.friends: missing required key "role"'),
    "group_member_not_token.toml": (
        5,
        'groups.friends.members: "bzvftbnymnci2jfj3n7zab36si4tszohx" is not a token',
    ),
    "bad_signer.toml": (5, 'groups.friends.signer: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI" is not'),
    "unknown_group_ref.toml": (
        6,
        'rez.whitelist: unknown group "group:buiders"; did you mean "group:builders"?',
    ),
    "list_not_token.toml": (4, 'scripts.blacklist: "someone" is not a token'),
    "list_not_array.toml": (4, "access.blacklist: must be an array of strings, got"),
    "bad_source.toml": (4, 'scripts.sources: "scripts.example/" is not a URL prefix with a scheme'),
    "source_without_slash.toml": (4, 'would also admit "https://scripts.example.evil/"'),
    "api_key_plain.toml": (
        4,
        "api_keys.ci.sha256: must be 64 hex characters (the SHA-256 of the key, not the key)",
    ),
    "api_key_unknown_scope.toml": (5, 'api_keys.ci.scopes: unknown scope "blacklist:write"'),
    "api_key_missing_scopes.toml": (4, 'api_keys.ci: missing required key "scopes"'),
    "roles_not_table.toml": (1, 'roles: must be a table, got "visitor" (a string)'),
    "dotted_keys.toml": (2, 'roles.visitor.rez: must be one of "none", "temporary", "permanent"'),
    "inline_table.toml": (4, "roles.visitor.max_entities: must be >= 0"),
}


def refuse(name: str) -> list:
    path = CORPUS / name
    with pytest.raises(PolicyError) as caught:
        load_policy(path)
    assert all(p.path == str(path) for p in caught.value.problems)
    return caught.value.problems


def test_corpus_is_complete():
    files = {p.name for p in CORPUS.glob("*.toml")} - {"multi_problem.toml"}
    assert files == set(EXPECTED)
    assert len(files) >= 20


@pytest.mark.parametrize(("name", "expected"), sorted(EXPECTED.items()))
def test_malformed_file(name, expected):
    line, reason = expected
    [problem] = refuse(name)
    assert (problem.line, reason in problem.reason) == (line, True), str(problem)


def test_multi_problem_file_reports_everything_in_file_order():
    got = [(p.line, p.reason) for p in refuse("multi_problem.toml")]
    assert got == [
        (4, "domain.default_temp_lifetime: 900 is above max_temp_lifetime 600"),
        (7, 'roles.visitor.rez: must be one of "none", "temporary", "permanent", got "temp"'),
        (8, 'roles.visitor.caps: unknown cap "bann"; did you mean "ban"?'),
        (11, 'members: "abc" is not a token (32 characters of a-z and 2-7)'),
        (14, 'groups.friends.role: unknown role "frends" (known: visitor)'),
        (18, 'rez.blacklist: unknown group "group:friendz"; did you mean "group:friends"?'),
        (21, "api_keys.ci.sha256: must be 64 hex characters (the SHA-256 of the key, not the key)"),
    ]


def test_error_text_is_one_line_per_problem():
    path = CORPUS / "multi_problem.toml"
    with pytest.raises(PolicyError) as caught:
        load_policy(path)
    lines = str(caught.value).splitlines()
    assert len(lines) == 7
    assert lines[0] == f"{path}:4: domain.default_temp_lifetime: 900 is above max_temp_lifetime 600"
