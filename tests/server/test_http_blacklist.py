"""The blacklist API for domain scripts, exactly as contract §3.2 says, on a real server."""

import hashlib

import pytest

from domainserver.client import Identity
from domainserver.store import bans as ban_rows

from .conftest import BLACKLIST_KEY, OTHER_KEY

BANS_KEY = "operator-key-that-bans"
BANS_KEYS = f"""
[api_keys.banner]
sha256 = "{hashlib.sha256(BANS_KEY.encode()).hexdigest()}"
scopes = ["bans:write", "bans:read"]
"""
LIST, ONE = "/api/v1/blacklist", "/api/v1/blacklist/"


@pytest.fixture
def policy_extra():
    return BANS_KEYS


async def get(http, path, key=BLACKLIST_KEY, **params):
    headers = {} if key is None else {"Authorization": f"Bearer {key}"}
    async with http.get(path, headers=headers, params=params) as resp:
        return resp.status, await resp.json()


async def ban(http, token, reason="for the test", **extra):
    async with http.post("/api/v1/operator/bans", json={"token": token, "reason": reason, **extra},
                         headers={"Authorization": f"Bearer {BANS_KEY}"}) as resp:
        assert resp.status == 200, await resp.text()


async def unban(http, token):
    async with http.delete("/api/v1/operator/bans/" + token,
                           headers={"Authorization": f"Bearer {BANS_KEY}"}) as resp:
        assert resp.status == 200, await resp.text()


def new_tokens(n):
    return [Identity.generate().token for _ in range(n)]


async def walk(http, limit, between_pages=None):
    """Every token of a full paging walk, in order, and how many pages it took."""
    seen, cursor, pages = [], None, 0
    while True:
        params = {"limit": str(limit)}
        if cursor is not None:
            params["cursor"] = cursor
        status, page = await get(http, LIST, **params)
        assert status == 200
        seen += page["tokens"]
        pages += 1
        cursor = page["next"]
        if cursor is None:
            return seen, pages
        if between_pages is not None:
            await between_pages(pages)


# -- authentication -------------------------------------------------------------------------

@pytest.mark.parametrize("path", [LIST, ONE + "a" * 32])
async def test_no_unknown_or_malformed_key_is_401(harness, http, path):
    status, body = await get(http, path, key=None)
    assert (status, body["error"]["code"]) == (401, "not_authenticated")
    status, body = await get(http, path, key="not-a-key-anyone-has")
    assert (status, body["error"]["code"]) == (401, "auth_failed")
    for header in ("Bearer", "Bearer ", "Basic " + BLACKLIST_KEY, BLACKLIST_KEY,
                   "Token " + BLACKLIST_KEY):
        async with http.get(path, headers={"Authorization": header}) as resp:
            assert resp.status == 401, header
            assert (await resp.json())["error"]["code"] in ("not_authenticated", "auth_failed")


@pytest.mark.parametrize("path", [LIST, ONE + "a" * 32])
@pytest.mark.parametrize("key", [OTHER_KEY, BANS_KEY])
async def test_key_without_the_scope_is_403(harness, http, path, key):
    status, body = await get(http, path, key=key)
    assert (status, body["error"]["code"]) == (403, "not_allowed")
    assert "blacklist:read" in body["error"]["message"]


# -- bad input ------------------------------------------------------------------------------

@pytest.mark.parametrize("params", [
    {"limit": "0"}, {"limit": "10001"}, {"limit": "abc"}, {"limit": "-5"}, {"limit": "1.5"},
    {"limit": ""}, {"cursor": "zzz"}, {"cursor": "A" * 32}, {"cursor": "a" * 33},
    {"cursor": "1" * 32},
    # str.isdigit admits "²", which int() refuses: must still be a 400, not a 500.
    {"limit": "\u00b2"},
])
async def test_bad_limit_or_cursor_is_400(harness, http, params):
    status, body = await get(http, LIST, **params)
    assert (status, body["error"]["code"]) == (400, "bad_request")


@pytest.mark.parametrize("token", ["short", "A" * 32, "a" * 31, "a" * 33, "0" * 32, "a" * 31 + "!"])
async def test_bad_token_is_400(harness, http, token):
    status, body = await get(http, ONE + token)
    assert (status, body["error"]["code"]) == (400, "bad_request")


# -- answers --------------------------------------------------------------------------------

async def test_limit_bounds_are_accepted(harness, http):
    for limit in ("1", "10000"):
        status, body = await get(http, LIST, limit=limit)
        assert (status, body) == (200, {"tokens": [], "next": None})


async def test_default_limit_is_1000(harness, http):
    tokens = sorted(new_tokens(1001))
    now = harness.domain.clock()
    await harness.domain.store.write(
        lambda c: ban_rows.save_many(c, ((t, "bulk", "test", now, None) for t in tokens))
    )
    status, page = await get(http, LIST)
    assert status == 200 and page == {"tokens": tokens[:1000], "next": tokens[999]}
    status, page = await get(http, LIST, cursor=page["next"])
    assert page == {"tokens": tokens[1000:], "next": None}
    status, page = await get(http, LIST, limit="10000")
    assert page == {"tokens": tokens, "next": None}


async def test_tokens_only_never_reasons(harness, http, people):
    secret = "reason-that-must-not-leak-7f3a"
    await ban(http, people.griefer.token, reason=secret)
    moderator = await harness.connect(people.moderator)
    await moderator.request("ban", token=people.stranger.token, reason=secret + "-ws")
    for path in (LIST, ONE + people.griefer.token):
        async with http.get(path, headers={"Authorization": f"Bearer {BLACKLIST_KEY}"}) as resp:
            text = await resp.text()
            assert resp.status == 200 and secret not in text and "api:" not in text
    status, page = await get(http, LIST)
    assert set(page) == {"tokens", "next"}
    assert page["tokens"] == sorted([people.griefer.token, people.stranger.token])
    assert all(isinstance(t, str) for t in page["tokens"])
    status, one = await get(http, ONE + people.griefer.token)
    assert one == {"token": people.griefer.token, "banned": True}


async def test_single_token_true_then_false(harness, http, people):
    token = people.griefer.token
    assert (await get(http, ONE + token))[1] == {"token": token, "banned": False}
    moderator = await harness.connect(people.moderator)
    await moderator.request("ban", token=token, reason="ws ban")
    assert (await get(http, ONE + token))[1] == {"token": token, "banned": True}
    await moderator.request("unban", token=token)
    assert (await get(http, ONE + token))[1] == {"token": token, "banned": False}
    await ban(http, token)
    assert (await get(http, ONE + token))[1] == {"token": token, "banned": True}
    await unban(http, token)
    assert (await get(http, ONE + token))[1] == {"token": token, "banned": False}


async def test_paging_walk_is_exact_while_other_tokens_change(harness, http):
    steady = new_tokens(10)
    for token in steady:
        await ban(http, token)
    churn = iter(new_tokens(40))
    banned_now: list[str] = []

    async def between_pages(pages):
        # Ban two fresh tokens (anywhere in the order) and lift one banned earlier in the walk.
        for _ in range(2):
            token = next(churn)
            await ban(http, token)
            banned_now.append(token)
        if pages > 1:
            await unban(http, banned_now.pop(0))

    seen, pages = await walk(http, 3, between_pages)
    assert len(seen) == len(set(seen)), "a token came back twice"
    assert seen == sorted(seen)
    assert [t for t in seen if t in set(steady)] == sorted(steady)
    assert pages >= 4


async def test_expired_timed_ban_is_not_listed(harness, http):
    permanent, short, long = new_tokens(3)
    await ban(http, permanent)
    await ban(http, short, duration=60)
    await ban(http, long, duration=86_400)
    assert sorted((await get(http, LIST))[1]["tokens"]) == sorted([permanent, short, long])

    real_clock = harness.domain.clock
    harness.domain.clock = lambda: real_clock() + 120  # two minutes pass at once
    status, page = await get(http, LIST)
    assert page == {"tokens": sorted([permanent, long]), "next": None}
    assert (await get(http, ONE + short))[1] == {"token": short, "banned": False}
    assert (await get(http, ONE + long))[1] == {"token": long, "banned": True}
