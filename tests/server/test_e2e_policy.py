"""Issue 3 through the real server: live reload, demotion, access blacklist, credentials."""

import asyncio
import base64
import os
import signal
import time

import pytest

from domainserver.client import Client, Identity, RequestFailed
from domainserver.store import log as roomlog
from permissions import credential_text, issue_credential
from permissions.credentials import encode_public_key, generate_signer, load_signer

from .conftest import policy_text, run_cli

BOX = {"type": "box", "position": [0, 0, 0]}


async def wait_for(predicate, timeout=5.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.02)


def log_kinds(harness):
    return [r.kind for r in harness.domain.store.read(lambda c: roomlog.recent(c, 50))]


async def test_file_change_demotes_connected_member_at_once(harness, people):
    t = await harness.connect(people.trusted)
    assert (await t.request("rez", entity=BOX))["entity"]["temporary"] is False
    text = harness.policy_path.read_text().replace(f'"{people.trusted.token}" = "builder"\n', "")
    harness.policy_path.write_text(text)
    await wait_for(lambda: "policy_reload" in log_kinds(harness))
    assert (await t.request("whoami"))["role"] == "visitor"
    assert (await t.request("rez", entity=BOX))["entity"]["temporary"] is True
    records = harness.domain.store.read(lambda c: roomlog.recent(c, 10))
    reload = next(r for r in records if r.kind == "policy_reload")
    assert any("builder" in line for line in reload.body_map()["changes"])


async def test_bad_file_is_refused_and_last_good_policy_stays(harness, people):
    m = await harness.connect(people.moderator)
    harness.policy_path.write_text("[domain]\nid = 3\n")
    await wait_for(lambda: "policy_refused" in log_kinds(harness))
    assert (await m.request("whoami"))["role"] == "moderator"
    refused = next(
        r
        for r in harness.domain.store.read(lambda c: roomlog.recent(c, 10))
        if r.kind == "policy_refused"
    )
    assert any(":2:" in p for p in refused.body_map()["problems"])
    # and a later good file is taken again
    harness.policy_path.write_text(policy_text(people).replace('"testdomain"', '"renamed"'))
    await wait_for(lambda: harness.domain.policy.domain.id == "renamed")


async def test_avatar_newly_blacklisted_is_kicked(harness, people):
    g = await harness.connect(people.griefer)
    harness.policy_path.write_text(
        policy_text(people) + f'\n[access]\nblacklist = ["{people.griefer.token}"]\n'
    )
    kicked = await g.event("kicked", timeout=5)
    assert "no longer" in kicked["reason"]
    assert await g.wait_closed() == 4003
    with pytest.raises(RequestFailed) as err:
        await harness.connect(people.griefer)
    assert err.value.code == "not_allowed"


async def test_sighup_reloads(harness, people, aiohttp_server, tmp_path):
    # A second server on the same loop that handles signals, as `serve` does.
    from domainserver import ServerConfig, create_app

    path = tmp_path / "hup.toml"
    path.write_text(policy_text(people))
    app = create_app(
        ServerConfig(
            db_path=str(tmp_path / "hup.db"), permissions_path=str(path), watch_interval=3600
        )
    )
    server = await aiohttp_server(app)
    url = str(server.make_url("/ws"))
    c = await Client.connect(url, people.trusted)
    try:
        path.write_text(policy_text(people).replace(f'"{people.trusted.token}" = "builder"', ""))
        os.kill(os.getpid(), signal.SIGHUP)
        for _ in range(250):
            if (await c.request("whoami"))["role"] == "visitor":
                break
            await asyncio.sleep(0.02)
        assert (await c.request("whoami"))["role"] == "visitor"
    finally:
        await c.close()


async def test_whitelist_access(harness, people):
    harness.policy_path.write_text(
        policy_text(people).replace('access = "open"', 'access = "whitelist"')
    )
    await wait_for(lambda: harness.domain.policy.domain.access == "whitelist")
    with pytest.raises(RequestFailed) as err:
        await harness.connect(people.stranger)
    assert err.value.code == "not_allowed"
    assert (await harness.connect(people.builder)).hello["role"] == "builder"


async def test_delegated_group_credentials_in_hello(harness, people, tmp_path):
    signer_file = tmp_path / "signer.pem"
    public = generate_signer(signer_file)
    harness.policy_path.write_text(
        policy_text(people)
        + f'''
[groups.guests]
role = "builder"
signer = "{public}"
'''
    )
    await wait_for(lambda: "guests" in harness.domain.policy.groups)
    key = load_signer(signer_file)
    guest = Identity.generate()
    now = int(time.time())
    good = issue_credential(key, "testdomain", "guests", guest.token, now + 3600)
    c = await harness.connect(guest, credentials=[good])
    assert c.hello["role"] == "builder"
    # the text form `domainserver credential` prints is accepted as it is
    c = await harness.connect(guest, credentials=[credential_text(good)])
    assert c.hello["role"] == "builder"
    # expired, wrong-token, forged, other-domain credentials are refused, each with its reason
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    for bad, reason in [
        (issue_credential(key, "testdomain", "guests", guest.token, now - 10), "expired at"),
        (
            issue_credential(key, "testdomain", "guests", people.stranger.token, now + 3600),
            f"was issued to {people.stranger.token}, not to you ({guest.token})",
        ),
        (
            issue_credential(
                Ed25519PrivateKey.generate(), "testdomain", "guests", guest.token, now + 3600
            ),
            'not signed by the signer of group "guests"',
        ),
        (
            issue_credential(key, "elsewhere", "guests", guest.token, now + 3600),
            'is for domain "elsewhere", not this one ("testdomain")',
        ),
        (b"garbage", "is not a credential"),
        (base64.b64encode(good).decode()[:-4], "is not a credential"),
    ]:
        with pytest.raises(RequestFailed) as err:
            await harness.connect(guest, credentials=[bad])
        assert err.value.code == "bad_request" and reason in err.value.message, err.value
    assert public.startswith("ed25519:") and encode_public_key(key.public_key()) == public


def test_cli_check_accepts_examples_and_reports_problems(tmp_path):
    ok = run_cli("check", "examples/sandbox.toml")
    assert ok.returncode == 0 and "ok" in ok.stdout
    bad = tmp_path / "bad.toml"
    bad.write_text('[domain]\nid = "x"\naccess = "closed"\n\n[roles.visitor]\nrez = "temp"\n')
    out = run_cli("check", str(bad))
    assert out.returncode != 0
    lines = out.stdout.strip().splitlines()
    assert lines[0].startswith(f"{bad}:3: ") and lines[1].startswith(f"{bad}:6: ")


def test_cli_keygen_and_credential(tmp_path):
    key = tmp_path / "k.pem"
    out = run_cli("keygen", "--out", str(key))
    assert out.returncode == 0 and 'signer = "ed25519:' in out.stdout
    member = Identity.generate().token
    cred = run_cli(
        "credential", "--signer", str(key), "--group", "g", "--member", member, "--domain", "d"
    )
    assert cred.returncode == 0
    assert len(base64.b64decode(cred.stdout.strip())) > 64


async def test_script_sources_and_script_lists_on_rez_and_edit(harness, people):
    harness.policy_path.write_text(
        policy_text(people) + f'\n[scripts]\nsources = ["https://scripts.example/"]\n'
        f'blacklist = ["{people.builder.token}"]\n'
    )
    await wait_for(lambda: harness.domain.policy.script_sources)
    t = await harness.connect(people.trusted)
    ok = await t.request("rez", entity={**BOX, "script": "https://scripts.example/ring.js"})
    for script in ["https://scripts.example.evil/x.js", "http://scripts.example/x.js"]:
        with pytest.raises(RequestFailed) as err:
            await t.request("rez", entity={**BOX, "script": script})
        assert err.value.code == "script_not_allowed"
        with pytest.raises(RequestFailed) as err:
            await t.request("edit", entity=ok["entity"]["id"], set={"script": script})
        assert err.value.code == "script_not_allowed"
    # The builder's role allows scripts, but the scripts blacklist wins.
    b = await harness.connect(people.builder)
    with pytest.raises(RequestFailed) as err:
        await b.request("rez", entity={**BOX, "script": "https://scripts.example/ring.js"})
    assert err.value.code == "script_not_allowed"
    plain = (await b.request("rez", entity=BOX))["entity"]
    assert plain["script"] is None
