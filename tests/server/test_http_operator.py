"""The operator HTTP API end to end: real server, real socket, real SQLite, real viewers."""

import hashlib
import sqlite3

import pytest

from domainserver.client import Identity, RequestFailed
from domainserver.http.params import MAX_BODY

from .conftest import BLACKLIST_KEY

OPS_KEY = "operator-key-with-every-operator-scope"
READER_KEY = "operator-key-that-only-reads"
OPS_SCOPES = ["entities:read", "entities:write", "bans:read", "bans:write",
              "avatars:read", "avatars:write", "log:read"]
OPS_KEYS = f"""
[api_keys.ops]
sha256 = "{hashlib.sha256(OPS_KEY.encode()).hexdigest()}"
scopes = {OPS_SCOPES!r}

[api_keys.reader]
sha256 = "{hashlib.sha256(READER_KEY.encode()).hexdigest()}"
scopes = ["entities:read", "bans:read", "avatars:read", "log:read"]
""".replace("'", '"')

BOX = {"type": "box", "position": [1, 2, 3]}
OP = "/api/v1/operator"


@pytest.fixture
def policy_extra():
    return OPS_KEYS


def bearer(key):
    return {"Authorization": f"Bearer {key}"}


async def call(http, method, path, key=OPS_KEY, headers=None, **kw):
    """(status, JSON body) of one request."""
    headers = {**(bearer(key) if key is not None else {}), **(headers or {})}
    async with http.request(method, path, headers=headers, **kw) as resp:
        return resp.status, await resp.json()


async def log_entries(http, **params):
    status, body = await call(http, "GET", OP + "/log", params={"limit": "1000", **params})
    assert status == 200
    return body["entries"]


# -- auth and scopes ------------------------------------------------------------------------

ENDPOINTS = [
    ("GET", OP + "/entities", None, "entities:read"),
    ("POST", OP + "/entities/remove", {"entities": []}, "entities:write"),
    ("GET", OP + "/avatars", None, "avatars:read"),
    ("POST", OP + "/avatars/kick", {"avatar": "a" * 32}, "avatars:write"),
    ("GET", OP + "/bans", None, "bans:read"),
    ("POST", OP + "/bans", {"token": "a" * 32, "reason": "x"}, "bans:write"),
    ("GET", OP + "/bans/" + "a" * 32, None, "bans:read"),
    ("DELETE", OP + "/bans/" + "a" * 32, None, "bans:write"),
    ("GET", OP + "/log", None, "log:read"),
    ("GET", OP + "/log/verify", None, "log:read"),
]


@pytest.mark.parametrize(("method", "path", "body", "scope"), ENDPOINTS)
async def test_every_endpoint_refuses_without_a_key_with_the_scope(
    harness, http, method, path, body, scope
):
    kw = {} if body is None else {"json": body}
    status, err = await call(http, method, path, key=None, **kw)
    assert (status, err["error"]["code"]) == (401, "not_authenticated")
    async with http.request(method, path, headers={"Authorization": "Basic abc"}, **kw) as r:
        assert r.status == 401
    status, err = await call(http, method, path, key="no-such-key", **kw)
    assert (status, err["error"]["code"]) == (401, "auth_failed")
    # The blacklist key has none of these scopes; the reader has only the :read ones.
    status, err = await call(http, method, path, key=BLACKLIST_KEY, **kw)
    assert (status, err["error"]["code"]) == (403, "not_allowed")
    assert scope in err["error"]["message"]
    status, err = await call(http, method, path, key=READER_KEY, **kw)
    if scope.endswith(":write"):
        assert (status, err["error"]["code"]) == (403, "not_allowed")
    else:
        assert status in (200, 404)  # 404: the token in the path is not banned
    assert harness.domain.bans.is_banned("a" * 32, harness.domain.clock()) is False


# -- entities -------------------------------------------------------------------------------

async def test_find_by_owner_creator_invisible_and_area(harness, http, people):
    t = await harness.connect(people.trusted)
    v = await harness.connect(people.visitor)
    mine = [(await t.request("rez", entity={**BOX, "position": [i, 0, 0]}))["entity"]["id"]
            for i in range(3)]
    hidden = (await v.request("rez", entity={**BOX, "visible": False}))["entity"]["id"]
    far = (await v.request("rez", entity={**BOX, "position": [500, 0, 0]}))["entity"]["id"]

    status, body = await call(http, "GET", OP + "/entities", params={"owner": people.trusted.token})
    assert status == 200 and body["next"] is None
    assert [e["id"] for e in body["entities"]] == sorted(mine)
    assert all(e["owner"] == people.trusted.token for e in body["entities"])
    status, body = await call(http, "GET", OP + "/entities",
                              params={"creator": people.visitor.token})
    assert {e["id"] for e in body["entities"]} == {hidden, far}
    status, body = await call(http, "GET", OP + "/entities", params={"invisible": "true"})
    assert [e["id"] for e in body["entities"]] == [hidden]
    status, body = await call(http, "GET", OP + "/entities", params={"invisible": "false"})
    assert hidden not in {e["id"] for e in body["entities"]}
    status, body = await call(http, "GET", OP + "/entities", params={"area": "500,0,0,10"})
    assert [e["id"] for e in body["entities"]] == [far]
    status, body = await call(http, "GET", OP + "/entities", params={
        "area": "0,0,0,1.5", "owner": people.trusted.token})
    assert len(body["entities"]) == 2


async def test_find_pages_with_limit_and_cursor(harness, http, people):
    t = await harness.connect(people.trusted)
    ids = {(await t.request("rez", entity=BOX))["entity"]["id"] for _ in range(7)}
    seen, cursor, pages = [], None, 0
    while True:
        params = {"limit": "3"} if cursor is None else {"limit": "3", "cursor": cursor}
        status, body = await call(http, "GET", OP + "/entities", params=params)
        assert status == 200 and len(body["entities"]) <= 3
        seen += [e["id"] for e in body["entities"]]
        pages += 1
        cursor = body["next"]
        if cursor is None:
            break
    assert seen == sorted(ids) and pages == 3


@pytest.mark.parametrize("params", [
    {"limit": "0"}, {"limit": "1001"}, {"limit": "abc"}, {"limit": "-1"}, {"limit": "\u00b2"},
    {"owner": "not-a-token"}, {"creator": "A" * 32},
    {"invisible": "yes"}, {"area": "1,2,3"}, {"area": "1,2,3,nan"}, {"area": "a,b,c,d"},
    {"area": "0,0,0,-1"}, {"cursor": "!!!"}, {"colour": "red"},
])
async def test_find_refuses_bad_query(harness, http, params):
    status, body = await call(http, "GET", OP + "/entities", params=params)
    assert status == 400 and body["error"]["code"] == "bad_request"


async def test_find_refuses_a_repeated_parameter(harness, http, people):
    status, body = await call(http, "GET", OP + "/entities?limit=1&limit=2")
    assert status == 400 and "once" in body["error"]["message"]


async def test_remove_by_ids_owner_and_creator_is_announced_and_logged(harness, http, people):
    t = await harness.connect(people.trusted)
    v = await harness.connect(people.visitor)
    watcher = await harness.connect(people.stranger)
    a = [(await t.request("rez", entity=BOX))["entity"]["id"] for _ in range(3)]
    b = [(await v.request("rez", entity=BOX))["entity"]["id"] for _ in range(2)]
    watcher.drain_events()

    status, body = await call(http, "POST", OP + "/entities/remove",
                              json={"entities": [a[0], "no-such-id"], "reason": "litter"})
    assert (status, body) == (200, {"removed": 1})
    event = await watcher.event("entity_removed")
    assert event == {"ev": "entity_removed", "id": a[0], "reason": "removed"}
    status, body = await call(http, "POST", OP + "/entities/remove",
                              json={"owner": people.trusted.token})
    assert body == {"removed": 2}
    status, body = await call(http, "POST", OP + "/entities/remove",
                              json={"creator": people.visitor.token, "reason": "spam"})
    assert body == {"removed": 2}
    assert all(harness.domain.world.get(i) is None for i in a + b)

    removes = await log_entries(http, kind="remove")
    assert [e["actor"] for e in removes] == ["api:ops"] * 3
    assert removes[0]["target"] == people.visitor.token
    assert (removes[0]["removed"], removes[0]["reason"], removes[0]["by"]) == (2, "spam", "creator")


@pytest.mark.parametrize(("body", "message"), [
    ({}, "exactly one"),
    ({"owner": "a" * 32, "creator": "a" * 32}, "exactly one"),
    ({"entities": "abc"}, "list"),
    ({"entities": [1, 2]}, "list"),
    ({"owner": "bob"}, "owner"),
    ({"owner": "a" * 32, "reason": 5}, "reason"),
    ({"owner": "a" * 32, "force": True}, "unknown field"),
    ([1, 2], "JSON object"),
    ("owner", "JSON object"),
])
async def test_remove_refuses_bad_bodies(harness, http, body, message):
    status, err = await call(http, "POST", OP + "/entities/remove", json=body)
    assert status == 400 and err["error"]["code"] == "bad_request"
    assert message in err["error"]["message"]


@pytest.mark.parametrize(("data", "content_type", "message"), [
    (b"{not json", "application/json", "not valid JSON"),
    (b'{"owner": NaN}', "application/json", "not valid JSON"),
    (b"\xff\xfe", "application/json", "UTF-8"),
    (b"", "application/json", "not valid JSON"),
    (b'{"entities": []}', "text/plain", "Content-Type"),
    (b"owner=x", "application/x-www-form-urlencoded", "Content-Type"),
])
async def test_bodies_must_be_json(harness, http, data, content_type, message):
    status, err = await call(http, "POST", OP + "/entities/remove", data=data,
                             headers={"Content-Type": content_type})
    assert status == 400 and message in err["error"]["message"]


async def test_body_over_the_limit_is_413(harness, http):
    ids = ["x" * 60] * (MAX_BODY // 60)
    status, err = await call(http, "POST", OP + "/entities/remove", json={"entities": ids})
    assert (status, err["error"]["code"]) == (413, "too_large")

    async def chunks():  # no Content-Length: the limit holds on the stream too
        for _ in range(MAX_BODY // 1024 + 2):
            yield b" " * 1024

    status, err = await call(http, "POST", OP + "/entities/remove", data=chunks(),
                             headers={"Content-Type": "application/json"})
    assert (status, err["error"]["code"]) == (413, "too_large")


# -- avatars --------------------------------------------------------------------------------

async def test_locate_lists_invisible_avatars(harness, http, people):
    v = await harness.connect(people.visitor, name="vis")
    await harness.connect(people.stranger, name="ghost", invisible=True)
    status, body = await call(http, "GET", OP + "/avatars")
    assert status == 200
    by_token = {a["token"]: a for a in body["avatars"]}
    assert by_token[people.stranger.token]["invisible"] is True
    assert by_token[people.stranger.token]["name"] == "ghost"
    assert by_token[people.visitor.token]["session"] == v.hello["session"]
    status, body = await call(http, "GET", OP + "/avatars", params={"x": "1"})
    assert status == 400


async def test_kick_closes_4002_and_is_logged(harness, http, people):
    g = await harness.connect(people.griefer)
    status, body = await call(http, "POST", OP + "/avatars/kick",
                              json={"avatar": people.griefer.token, "reason": "be nice"})
    assert (status, body) == (200, {"avatar": people.griefer.token, "sessions": 1})
    assert (await g.event("kicked")) == {"ev": "kicked", "reason": "be nice"}
    assert await g.wait_closed() == 4002
    kicks = [e for e in await log_entries(http) if e["kind"] == "kick"]
    assert kicks[0]["actor"] == "api:ops" and kicks[0]["target"] == people.griefer.token
    assert kicks[0]["reason"] == "be nice"
    # Kicked, not banned: the avatar may come back.
    await harness.connect(people.griefer)


async def test_kick_of_an_absent_avatar_is_404(harness, http, people):
    status, err = await call(http, "POST", OP + "/avatars/kick",
                             json={"avatar": people.stranger.token})
    assert (status, err["error"]["code"]) == (404, "not_found")
    for body in ({"avatar": "nope"}, {"reason": "x"}, {"avatar": people.stranger.token,
                                                       "reason": ["x"]}):
        status, err = await call(http, "POST", OP + "/avatars/kick", json=body)
        assert (status, err["error"]["code"]) == (400, "bad_request")


# -- bans -----------------------------------------------------------------------------------

async def test_ban_kicks_refuses_and_removes_then_unban_lets_back(harness, http, people):
    g = await harness.connect(people.griefer)
    watcher = await harness.connect(people.stranger)
    mess = [(await g.request("rez", entity=BOX))["entity"]["id"] for _ in range(3)]
    watcher.drain_events()

    status, body = await call(http, "POST", OP + "/bans",
                              json={"token": people.griefer.token, "reason": "griefing"})
    assert (status, body) == (200, {"token": people.griefer.token, "removed": 3,
                                    "expires_at": None})
    assert (await g.event("kicked")) == {"ev": "kicked", "reason": "griefing"}
    assert await g.wait_closed() == 4003
    removed = [await watcher.event("entity_removed") for _ in mess]
    assert {e["id"] for e in removed} == set(mess)
    assert {e["reason"] for e in removed} == {"banned"}
    assert not list(harness.domain.world.owned_by(people.griefer.token))
    with pytest.raises(RequestFailed) as refused:
        await harness.connect(people.griefer)
    assert refused.value.code == "banned"

    status, ban = await call(http, "GET", OP + "/bans/" + people.griefer.token)
    assert status == 200
    assert ban["reason"] == "griefing" and ban["actor"] == "api:ops"
    assert ban["expires_at"] is None and ban["created_at"] > 0
    status, page = await call(http, "GET", OP + "/bans")
    assert page == {"bans": [ban], "next": None}
    status, body = await call(http, "GET", OP + "/log/verify")
    assert body["intact"] is True and body["first_bad_seq"] is None

    status, body = await call(http, "DELETE", OP + "/bans/" + people.griefer.token)
    assert (status, body) == (200, {"token": people.griefer.token, "was_banned": True})
    status, err = await call(http, "GET", OP + "/bans/" + people.griefer.token)
    assert (status, err["error"]["code"]) == (404, "not_found")
    await harness.connect(people.griefer)
    status, body = await call(http, "DELETE", OP + "/bans/" + people.griefer.token)
    assert body["was_banned"] is False

    entries = await log_entries(http, kind="ban,unban")
    assert [(e["kind"], e["actor"], e["target"]) for e in entries[:3]] == [
        ("unban", "api:ops", people.griefer.token),
        ("unban", "api:ops", people.griefer.token),
        ("ban", "api:ops", people.griefer.token),
    ]
    assert {k: entries[2][k] for k in ("reason", "expires_at", "removed")} == {
        "reason": "griefing", "expires_at": None, "removed": 3}


async def test_timed_ban_keeping_entities(harness, http, people):
    g = await harness.connect(people.griefer)
    kept = (await g.request("rez", entity=BOX))["entity"]["id"]
    before = harness.domain.clock()
    status, body = await call(http, "POST", OP + "/bans", json={
        "token": people.griefer.token, "reason": "cool off", "duration": 3600,
        "keep_entities": True})
    assert status == 200 and body["removed"] == 0
    assert before + 3600 <= body["expires_at"] <= harness.domain.clock() + 3600
    assert harness.domain.world.get(kept) is not None
    status, ban = await call(http, "GET", OP + "/bans/" + people.griefer.token)
    assert ban["expires_at"] == body["expires_at"]


@pytest.mark.parametrize(("body", "message"), [
    ({"token": "a" * 32}, "missing field"),
    ({"reason": "x"}, "missing field"),
    ({"token": "a" * 32, "reason": ""}, "reason"),
    ({"token": "a" * 32, "reason": 7}, "reason"),
    ({"token": "a" * 32, "reason": "x" * 1001}, "reason"),
    ({"token": "Z" * 32, "reason": "x"}, "token"),
    ({"token": "a" * 32, "reason": "x", "duration": -5}, "lifetime"),
    ({"token": "a" * 32, "reason": "x", "duration": "1h"}, "lifetime"),
    ({"token": "a" * 32, "reason": "x", "keep_entities": "yes"}, "keep_entities"),
    ({"token": "a" * 32, "reason": "x", "keep": True}, "unknown field"),
])
async def test_ban_refuses_bad_bodies(harness, http, body, message):
    status, err = await call(http, "POST", OP + "/bans", json=body)
    assert status == 400 and message in err["error"]["message"]
    assert len(harness.domain.bans) == 0


async def test_bans_path_and_paging_refuse_bad_input(harness, http):
    for method in ("GET", "DELETE"):
        status, err = await call(http, method, OP + "/bans/not-a-token")
        assert (status, err["error"]["code"]) == (400, "bad_request")
    for params in ({"limit": "0"}, {"limit": "1001"}, {"cursor": "zzz"}, {"page": "2"}):
        status, err = await call(http, "GET", OP + "/bans", params=params)
        assert (status, err["error"]["code"]) == (400, "bad_request")


async def test_bans_list_pages_by_token_with_reasons(harness, http):
    tokens = sorted(Identity.generate().token for _ in range(5))
    for i, token in enumerate(tokens):
        status, _ = await call(http, "POST", OP + "/bans", json={"token": token,
                                                                 "reason": f"r{i}"})
        assert status == 200
    seen, cursor = [], None
    while True:
        params = {"limit": "2"} if cursor is None else {"limit": "2", "cursor": cursor}
        status, page = await call(http, "GET", OP + "/bans", params=params)
        seen += page["bans"]
        cursor = page["next"]
        if cursor is None:
            break
    assert [b["token"] for b in seen] == tokens
    assert [b["reason"] for b in seen] == [f"r{i}" for i in range(5)]
    assert {b["actor"] for b in seen} == {"api:ops"}


# -- the room log ---------------------------------------------------------------------------

async def test_log_pages_back_by_seq(harness, http):
    for i in range(5):
        await call(http, "POST", OP + "/bans", json={"token": Identity.generate().token,
                                                     "reason": f"r{i}"})
    everything = await log_entries(http)
    seqs, cursor = [], None
    while True:
        params = {"limit": "2"} if cursor is None else {"limit": "2", "cursor": cursor}
        status, page = await call(http, "GET", OP + "/log", params=params)
        assert status == 200
        seqs += [e["seq"] for e in page["entries"]]
        cursor = page["next"]
        if cursor is None:
            break
    assert seqs == [e["seq"] for e in everything] == sorted(seqs, reverse=True)
    assert seqs[-1] == 1 and len(seqs) == len(set(seqs)) >= 5
    for e in everything:
        assert {"seq", "at", "kind", "actor", "target"} <= set(e)
    for params in ({"cursor": "abc"}, {"cursor": "-1"}, {"cursor": "\u00b2"}, {"limit": "0"},
                   {"kinds": "ban"}, {"since": "noon"}, {"token": "x"}):
        status, err = await call(http, "GET", OP + "/log", params=params)
        assert (status, err["error"]["code"]) == (400, "bad_request")


async def test_log_verify_finds_the_first_tampered_record(harness, http):
    for i in range(3):
        await call(http, "POST", OP + "/bans", json={"token": Identity.generate().token,
                                                     "reason": f"r{i}"})
    status, body = await call(http, "GET", OP + "/log/verify")
    assert status == 200 and body["intact"] is True and body["last_seq"] >= 3
    last = body["last_seq"]
    with sqlite3.connect(harness.db) as conn:
        conn.execute("UPDATE log SET actor = 'someone-else' WHERE seq = ?", (last - 1,))
    conn.close()
    status, body = await call(http, "GET", OP + "/log/verify")
    assert body == {"intact": False, "first_bad_seq": last - 1, "last_seq": last}
