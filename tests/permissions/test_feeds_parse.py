"""`[feeds.NAME]` and `[banfeed]` in the permissions file: read into FeedConfig values, and
every bad key refused with its line and a reason."""

from __future__ import annotations

import base64

import pytest

from permissions import FeedConfig, PolicyError, decode_domain_key, parse_policy

KEY = "ed25519:" + base64.b64encode(bytes(range(32))).decode()
HEAD = '[domain]\nid = "d"\n'


def _problems(text: str) -> list[str]:
    with pytest.raises(PolicyError) as err:
        parse_policy(HEAD + text, "p.toml")
    return [str(p) for p in err.value.problems]


def test_a_feed_with_every_key_and_the_defaults():
    policy = parse_policy(
        HEAD
        + f'[feeds.friends]\nurl = "http://127.0.0.1:9/api/v1/banfeed"\nkey = "{KEY}"\n'
        + 'action = "rez-deny"\npriority = 5\nrefresh = 2.5\nremove_entities = true\n'
        + f'[feeds.plain]\nurl = "https://x.example/api/v1/banfeed"\nkey = "{KEY}"\n'
        + '[banfeed]\npublish = "shared"\n',
        "p.toml",
    )
    assert policy.feeds["friends"] == FeedConfig(
        "friends", "http://127.0.0.1:9/api/v1/banfeed", KEY, "rez-deny", 5, 2.5, True
    )
    plain = policy.feeds["plain"]
    assert (plain.action, plain.priority, plain.refresh, plain.remove_entities) == (
        "ban", 0, 60.0, False,
    )
    assert policy.publish == "shared"
    assert plain.key_raw == bytes(range(32))


def test_no_feeds_and_publish_all_by_default():
    policy = parse_policy(HEAD, "p.toml")
    assert policy.feeds == {} and policy.publish == "all"


@pytest.mark.parametrize(
    ("body", "line", "reason"),
    [
        ('action = "kick"', 6, 'feeds.f.action: must be one of "ban", "rez-deny", "advisory"'),
        ("refresh = 0.5", 6, "feeds.f.refresh: must be 1 or more seconds, got 0.5"),
        ("refresh = 0", 6, "feeds.f.refresh: must be > 0, got 0"),
        ('refresh = "60"', 6, "feeds.f.refresh: must be a number of seconds"),
        ("priority = 1.5", 6, "feeds.f.priority: must be an integer"),
        ('remove_entities = "yes"', 6, "feeds.f.remove_entities: must be true or false"),
        ("actoin = 1", 6, 'feeds.f: unknown key "actoin"; did you mean "action"?'),
    ],
)
def test_bad_feed_keys_are_refused_with_their_line(body, line, reason):
    text = f'[feeds.f]\nurl = "http://127.0.0.1:1/f"\nkey = "{KEY}"\n{body}\n'
    (problem,) = _problems(text)
    assert problem.startswith(f"p.toml:{line}: ") and reason in problem


def test_a_bad_key_a_bad_url_and_missing_keys():
    problems = _problems(
        '[feeds.a]\nurl = "ftp://x/"\nkey = "ed25519:AAAA"\n[feeds.b]\naction = "ban"\n'
    )
    assert problems[0] == 'p.toml:4: feeds.a.url: "ftp://x/" is not an http:// or https:// URL'
    assert problems[1].startswith('p.toml:5: feeds.a.key: "ed25519:AAAA" is not a domain key')
    assert 'feeds.b: missing required key "url"' in problems[2]
    assert 'feeds.b: missing required key "key"' in problems[3]


def test_banfeed_publish_must_be_a_known_mode():
    (problem,) = _problems('[banfeed]\npublish = "some"\n')
    assert problem == (
        'p.toml:4: banfeed.publish: must be one of "all", "shared", "none", got "some"'
    )


@pytest.mark.parametrize(
    "text", ["ed25519:", "ssh-ed25519 AAAA", "ed25519:" + "A" * 40, "ed25519:!!!!"]
)
def test_decode_domain_key_refuses_what_is_not_32_bytes(text):
    with pytest.raises(ValueError):
        decode_domain_key(text)


def test_decode_domain_key_accepts_urlsafe_and_unpadded():
    raw = bytes([251] * 32)
    std = base64.b64encode(raw).decode()
    url = base64.urlsafe_b64encode(raw).decode().rstrip("=")
    assert decode_domain_key("ed25519:" + std) == decode_domain_key("ed25519:" + url) == raw
