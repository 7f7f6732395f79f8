"""GET /api/v1/banfeed on a real server: signed over the exact body with the domain key, a
serial that rises with every change, deltas with lifts, 304 on an unchanged ETag, and the
operator's choice of what is published (never reasons or names)."""

import asyncio
import hashlib
import json

import pytest

from domainserver.client import Identity
from permissions import verify_document

OPS_KEY = "banfeed-ops-key"
FEED = "/api/v1/banfeed"


@pytest.fixture
def policy_extra():
    digest = hashlib.sha256(OPS_KEY.encode()).hexdigest()
    return f'\n[api_keys.ops]\nsha256 = "{digest}"\nscopes = ["bans:read", "bans:write"]\n'


async def _ban(http, token, reason="griefing", **more):
    body = {"token": token, "reason": reason, **more}
    async with http.post("/api/v1/operator/bans", json=body,
                         headers={"Authorization": f"Bearer {OPS_KEY}"}) as resp:  # fmt: skip
        assert resp.status == 200, await resp.text()


async def _unban(http, token):
    async with http.delete(f"/api/v1/operator/bans/{token}",
                           headers={"Authorization": f"Bearer {OPS_KEY}"}) as resp:  # fmt: skip
        assert resp.status == 200


async def _feed(http, harness, since=None, etag=None):
    params = {} if since is None else {"since": str(since)}
    headers = {} if etag is None else {"If-None-Match": etag}
    async with http.get(FEED, params=params, headers=headers) as resp:
        body = await resp.read()
        if resp.status != 200:
            return resp.status, None, resp.headers.get("ETag")
        doc = verify_document(body, resp.headers.get("Domain-Signature"),
                              harness.domain.key.public_raw, since)  # fmt: skip
        assert resp.content_type == "application/json"
        return resp.status, doc, resp.headers["ETag"]


async def test_the_feed_is_signed_serial_rises_and_deltas_carry_lifts(harness, http):
    a, b = Identity.generate().token, Identity.generate().token
    status, empty, _ = await _feed(http, harness)
    assert status == 200 and empty.entries == () and empty.domain == "testdomain"
    await _ban(http, a, duration=3600)
    await _ban(http, b)
    _, whole, etag = await _feed(http, harness)
    assert {t for t, _, _ in whole.entries} == {a, b} and whole.serial > empty.serial
    assert dict((t, e) for t, _, e in whole.entries)[b] is None
    # Nothing changed: 304 with the same ETag, no body.
    assert (await _feed(http, harness, etag=etag))[0] == 304
    assert (await _feed(http, harness, since=whole.serial, etag=etag))[0] == 304
    await _unban(http, a)
    status, delta, etag2 = await _feed(http, harness, since=whole.serial, etag=etag)
    assert status == 200 and etag2 != etag and delta.serial > whole.serial
    assert delta.since == whole.serial and delta.entries == ((a, False, None),)
    # Unbanning a token that is not banned changes nothing.
    await _unban(http, a)
    assert (await _feed(http, harness, etag=etag2))[0] == 304
    _, again, _ = await _feed(http, harness)
    assert [t for t, _, _ in again.entries] == [b]


async def test_reasons_and_names_are_never_published(harness, http):
    token = Identity.generate().token
    await _ban(http, token, reason="secret-reason-text")
    async with http.get(FEED) as resp:
        text = await resp.text()
    assert "secret-reason-text" not in text and "api:ops" not in text
    assert set(json.loads(text)) == {"domain", "serial", "entries"}
    assert set(json.loads(text)["entries"][0]) == {"token", "banned", "expires_at"}


async def test_a_forged_body_fails_the_signature(harness, http):
    await _ban(http, Identity.generate().token)
    async with http.get(FEED) as resp:
        body, sig = await resp.read(), resp.headers["Domain-Signature"]
    assert sig.startswith("ed25519 ")
    with pytest.raises(ValueError, match="does not verify"):
        verify_document(body.replace(b'"banned":true', b'"banned":false'), sig,
                        harness.domain.key.public_raw)  # fmt: skip


@pytest.mark.parametrize("since", ["-1", "x", "1.5", ""])
async def test_a_bad_since_is_400(harness, http, since):
    async with http.get(FEED, params={"since": since}) as resp:
        assert resp.status == 400
        assert (await resp.json())["error"]["code"] == "bad_request"


async def test_publish_shared_only_and_none(harness, http, people):
    shared, private = Identity.generate().token, Identity.generate().token
    await _ban(http, shared, shared=True)
    await _ban(http, private)
    text = harness.policy_path.read_text()
    harness.policy_path.write_text(text + '\n[banfeed]\npublish = "shared"\n')
    from domainserver.services.reload import reload_policy

    assert reload_policy(harness.domain)
    _, doc, etag = await _feed(http, harness)
    assert [t for t, _, _ in doc.entries] == [shared] and etag.endswith('-shared"')
    for _ in range(200):  # the choice is recorded as in force from this serial
        if harness.domain.published_mode == "shared":
            break
        await asyncio.sleep(0.01)
    assert harness.domain.published_mode == "shared"
    # A delta across the change of choice is not possible: the whole list, "since": null.
    async with http.get(FEED, params={"since": "0"}) as resp:
        raw = json.loads(await resp.read())
    assert raw["since"] is None and [e["token"] for e in raw["entries"]] == [shared]
    # Lifting a private ban publishes nothing; lifting the shared one publishes its lift.
    await _unban(http, private)
    await _unban(http, shared)
    _, delta, _ = await _feed(http, harness, since=doc.serial)
    assert delta.entries == ((shared, False, None),)
    harness.policy_path.write_text(text + '\n[banfeed]\npublish = "none"\n')
    assert reload_policy(harness.domain)
    async with http.get(FEED) as resp:
        assert resp.status == 404


async def test_the_ban_op_takes_shared(harness, people):
    moderator = await harness.connect(people.moderator)
    target = Identity.generate().token
    await moderator.request("ban", token=target, reason="x", shared=True)
    rows = harness.domain.store.read(
        lambda c: c.execute("SELECT shared FROM bans WHERE token = ?", (target,)).fetchall()
    )
    assert rows == [(1,)]
