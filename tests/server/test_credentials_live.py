"""A session holds a delegated group's role only while its credential lasts: at expiry it
falls back to the role it has without it, or is closed when the domain admits it no more;
and a refused hello names the refused token to its owner."""

import asyncio
import time

import pytest

from domainserver.client import RequestFailed
from permissions import credential_text, issue_credential
from permissions.credentials import generate_signer, load_signer

from .conftest import policy_text


async def until(predicate, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await predicate():
            return True
        await asyncio.sleep(0.05)
    return False


@pytest.fixture
async def guests(harness, people, tmp_path):
    """A `guests` group of builders whose signer is ours; returns (key, write_policy)."""
    public = generate_signer(tmp_path / "guests.pem")

    async def write_policy(**replace):
        text = policy_text(people, f'[groups.guests]\nrole = "builder"\nsigner = "{public}"\n')
        for old, new in replace.items():
            text = text.replace(old, new)
        harness.policy_path.write_text(text)
        await until(lambda: _true("guests" in harness.domain.policy.groups))

    await write_policy()
    return load_signer(tmp_path / "guests.pem"), write_policy


async def _true(value):
    return value


async def test_a_session_loses_the_groups_role_when_its_credential_expires(
    harness, people, guests
):
    key, _ = guests
    expires = int(time.time()) + 2
    cred = issue_credential(key, "testdomain", "guests", people.stranger.token, expires)
    c = await harness.connect(people.stranger, credentials=[credential_text(cred)])
    assert c.hello["role"] == "builder"
    assert (await c.request("whoami"))["role"] == "builder"

    async def demoted():
        return (await c.request("whoami"))["role"] == "visitor"

    assert await until(demoted)
    assert time.time() >= expires  # not before
    # A builder's rez would be permanent; now it is a visitor's temporary one.
    box = await c.request("rez", entity={"type": "box", "position": [0, 0, 0]})
    assert box["entity"]["temporary"] is True


async def test_on_a_whitelist_an_expired_credential_closes_the_session(harness, people, guests):
    key, write_policy = guests
    await write_policy(**{'access = "open"': 'access = "whitelist"'})
    expires = int(time.time()) + 2
    cred = issue_credential(key, "testdomain", "guests", people.stranger.token, expires)
    c = await harness.connect(people.stranger, credentials=[cred])
    assert c.hello["role"] == "builder"
    assert (await c.event("kicked", timeout=10))["reason"] == "this domain no longer admits you"
    assert await c.wait_closed() == 4003


async def test_refused_hellos_name_the_token(harness, people):
    harness.policy_path.write_text(
        policy_text(people).replace('access = "open"', 'access = "whitelist"')
    )
    await until(lambda: _true(harness.domain.policy.domain.access == "whitelist"))
    with pytest.raises(RequestFailed) as err:
        await harness.connect(people.stranger)
    assert err.value.code == "not_allowed" and people.stranger.token in err.value.message
    mod = await harness.connect(people.moderator)
    await mod.request("ban", token=people.builder.token, reason="test")
    with pytest.raises(RequestFailed) as err:
        await harness.connect(people.builder)
    assert err.value.code == "banned" and people.builder.token in err.value.message
