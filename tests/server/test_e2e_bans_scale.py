"""A million bans, end to end: bulk-written to the database, loaded at start-up, and then
every hello and every blacklist lookup answered from them on a real server."""

import asyncio
import base64
import hashlib
import time

import aiohttp
import msgpack
import pytest

from domainserver.client import Client, Identity, RequestFailed
from domainserver.store import Store
from domainserver.store import bans as ban_rows
from entities.tokens import is_token

from .conftest import BLACKLIST_KEY

MILLION = 1_000_000
AUTH = {"Authorization": f"Bearer {BLACKLIST_KEY}"}


def fake_token(i):
    """A cheap, well-formed token no key will ever have (32 characters of a-z2-7)."""
    digest = hashlib.sha256(b"fake-ban/%d" % i).digest()[:20]
    return base64.b32encode(digest).decode().lower()


def ban_rows_for(tokens, now):
    for token in tokens:
        yield (token, "bulk import", None, now, None)


def write_million(db, real_tokens):
    now = time.time()
    with Store.open(db, synchronous="OFF") as store:
        store.write_sync(lambda c: ban_rows.save_many(
            c, ban_rows_for((fake_token(i) for i in range(MILLION)), now)))
        store.write_sync(lambda c: ban_rows.save_many(c, ban_rows_for(real_tokens, now)))
        return store.read(lambda c: c.execute("SELECT count(*) FROM bans").fetchone()[0])


async def hello(url, identity):
    """A hello on a bare socket: (reply, close code or None while the socket stays open)."""
    async with aiohttp.ClientSession() as http:
        ws = await http.ws_connect(url)
        challenge = msgpack.unpackb(await ws.receive_bytes(timeout=5))
        sig = identity.sign(b"domainserver-hello/v1\n" + challenge["domain"].encode()
                            + b"\n" + challenge["nonce"])
        await ws.send_bytes(msgpack.packb({"op": "hello", "id": 1, "key": identity.public_key,
                                           "sig": sig, "name": "x", "invisible": False}))
        reply = msgpack.unpackb(await ws.receive_bytes(timeout=5))
        if reply["ok"]:
            await ws.close()
            return reply, None
        msg = await ws.receive(timeout=5)
        assert msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
        return reply, ws.close_code


async def lookup(http, harness, token, key=BLACKLIST_KEY):
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    async with http.get(harness.server.make_url(f"/api/v1/blacklist/{token}"),
                        headers=headers) as r:
        return r.status, await r.json()


def test_fake_tokens_are_tokens():
    tokens = {fake_token(i) for i in range(1000)}
    assert len(tokens) == 1000 and all(is_token(t) for t in tokens)


async def test_a_million_bans_refuse_the_banned_and_admit_the_rest(harness, people):
    banned = [Identity.generate() for _ in range(5)]
    admitted = [people.visitor, people.stranger, people.trusted]
    await harness.stop()
    count = await asyncio.to_thread(write_million, harness.db, [b.token for b in banned])
    assert count == MILLION + len(banned)
    await harness.start()
    assert len(harness.domain.bans) == MILLION + len(banned)

    for identity in banned:
        reply, code = await hello(harness.ws_url, identity)
        assert reply["ok"] is False and reply["error"]["code"] == "banned"
        assert code == 4003
    with pytest.raises(RequestFailed) as err:
        await Client.connect(harness.ws_url, banned[0])
    assert err.value.code == "banned"
    for identity in admitted:
        reply, code = await hello(harness.ws_url, identity)
        assert reply["ok"] is True and reply["token"] == identity.token and code is None

    async with aiohttp.ClientSession() as http:
        for token in [b.token for b in banned] + [fake_token(i) for i in (0, 499_999, 999_999)]:
            assert await lookup(http, harness, token) == (200, {"token": token, "banned": True})
        for identity in admitted:
            assert await lookup(http, harness, identity.token) == (
                200, {"token": identity.token, "banned": False})
        assert (await lookup(http, harness, "not-a-token"))[0] == 400
        assert (await lookup(http, harness, fake_token(1), key=None))[0] == 401
        async with http.get(harness.server.make_url("/api/v1/blacklist?limit=3"),
                            headers=AUTH) as r:
            assert r.status == 200
            page = await r.json()
        assert len(page["tokens"]) == 3 and page["tokens"] == sorted(page["tokens"])
        assert page["next"] == page["tokens"][-1]

    # The live list still takes changes on top of the million.
    mod = await harness.connect(people.moderator)
    await mod.request("unban", token=banned[0].token)
    await mod.request("ban", token=people.visitor.token, reason="one more")
    assert (await hello(harness.ws_url, banned[0]))[0]["ok"] is True
    assert (await hello(harness.ws_url, people.visitor))[1] == 4003
    assert len(harness.domain.bans) == MILLION + len(banned)
