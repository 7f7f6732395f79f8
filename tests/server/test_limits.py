"""Connection limits (docs/RELIABILITY.md): in all and per address, new connections a second
per address, the client's address behind a trusted proxy, loopback exempt by default, and
refusals logged once a window, not once each."""

import asyncio
import logging

import aiohttp
import pytest

from domainserver.client import Client, Identity
from domainserver.services.limits import ConnectionLimits, client_address


async def upgrade(harness, headers=None):
    """Try a WebSocket upgrade; the HTTP status of a refusal, or the open socket."""
    session = aiohttp.ClientSession()
    try:
        ws = await session.ws_connect(harness.ws_url, headers=headers or {})
    except aiohttp.WSServerHandshakeError as exc:
        await session.close()
        return exc.status
    return session, ws


async def test_per_address_limit_and_loopback_exemption(harness, people):
    await harness.restart(limit_loopback=True, max_connections_per_address=3,
                          hellos_per_second_per_address=1000)  # fmt: skip
    opened = [await upgrade(harness) for _ in range(3)]
    assert all(isinstance(o, tuple) for o in opened)
    assert await upgrade(harness) == 429
    # One closes: another may come.
    session, ws = opened.pop()
    await ws.close()
    await session.close()
    for _ in range(50):
        again = await upgrade(harness)
        if isinstance(again, tuple):
            break
        await asyncio.sleep(0.02)  # the server notices the close
    assert isinstance(again, tuple)
    opened.append(again)
    for session, ws in opened:
        await ws.close()
        await session.close()
    # By default loopback is not limited per address: a local proxy or load test works.
    await harness.restart(max_connections_per_address=3)
    many = [await Client.connect(harness.ws_url, Identity.generate()) for _ in range(6)]
    assert len({c.token for c in many}) == 6
    for c in many:
        await c.close()


async def test_limit_in_all_answers_503(harness):
    await harness.restart(max_connections=2)
    opened = [await upgrade(harness) for _ in range(2)]
    assert await upgrade(harness) == 503
    for session, ws in opened:
        await ws.close()
        await session.close()


async def test_new_connections_a_second_per_address(harness, caplog):
    await harness.restart(limit_loopback=True, hellos_per_second_per_address=2)
    caplog.set_level(logging.WARNING, logger="domainserver")
    results = [await upgrade(harness) for _ in range(8)]
    refused = [r for r in results if r == 429]
    assert len(refused) >= 5  # a bucket of two: the rest of the burst is refused
    lines = [r for r in caplog.records if "connection refused from" in r.getMessage()]
    assert len(lines) == 1  # logged once a window, not once each
    for r in results:
        if isinstance(r, tuple):
            await r[1].close()
            await r[0].close()


async def test_behind_a_trusted_proxy_the_forwarded_address_counts(harness):
    await harness.restart(limit_loopback=True, max_connections_per_address=1,
                          hellos_per_second_per_address=1000,
                          trusted_proxies=("127.0.0.1",))  # fmt: skip
    alice = await upgrade(harness, {"X-Forwarded-For": "203.0.113.7"})
    bob = await upgrade(harness, {"X-Forwarded-For": "198.51.100.9, 203.0.113.8"})
    assert isinstance(alice, tuple) and isinstance(bob, tuple)
    assert await upgrade(harness, {"X-Forwarded-For": "203.0.113.7"}) == 429
    for session, ws in (alice, bob):
        await ws.close()
        await session.close()


def test_client_address_trusts_only_the_configured_proxies():
    assert client_address("10.0.0.1", "1.2.3.4", ()) == "10.0.0.1"  # an untrusted peer's claim
    assert client_address("10.0.0.1", "1.2.3.4", ("10.0.0.1",)) == "1.2.3.4"
    # A spoofed entry to the left of the real client is ignored.
    assert client_address("10.0.0.1", "6.6.6.6, 1.2.3.4", ("10.0.0.1",)) == "1.2.3.4"
    assert client_address("10.0.0.1", "1.2.3.4, 10.0.0.2", ("10.0.0.1", "10.0.0.2")) == "1.2.3.4"


@pytest.mark.parametrize("address", ["127.0.0.1", "::1"])
def test_loopback_is_exempt_only_unless_asked(address):
    free = ConnectionLimits(100, 1, 1.0, limit_loopback=False, clock=lambda: 0.0)
    assert [free.admit(address) for _ in range(3)] == [None, None, None]
    strict = ConnectionLimits(100, 1, 100.0, limit_loopback=True, clock=lambda: 0.0)
    assert strict.admit(address) is None
    assert strict.admit(address) == "too many connections from this address"
    strict.release(address)
    assert strict.admit(address) is None


async def test_frames_a_second_slow_a_flood_without_losing_a_reply(harness, people):
    await harness.restart(max_frames_per_second=200)
    t = await harness.connect(people.trusted)
    loop = asyncio.get_running_loop()
    started = loop.time()
    replies = await asyncio.gather(*[t.submit("whoami") for _ in range(600)])
    assert all(r["ok"] for r in replies)
    # A bucket of 200 a second: 600 frames cannot all be read in much under two seconds.
    assert loop.time() - started > 1.5
