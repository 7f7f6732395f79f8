"""Who may do what, as one table: every WebSocket op against every kind of actor, and every
HTTP endpoint against every kind of key. Each cell names its exact outcome ("ok", "ok:temp",
or the contract error code); an op of `OPS` or a route of the app or the OpenAPI document
without a row fails the test, and so does a row for something that no longer exists."""

from __future__ import annotations

import hashlib
import itertools
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import attrs
import msgpack
import pytest
import yaml

from domainserver.client import Client, Identity
from domainserver.http.routes import openapi_document
from domainserver.wire import OPS
from permissions import KNOWN_CAPS, KNOWN_SCOPES, credential_text, issue_credential
from permissions.credentials import generate_signer, load_signer

SCRIPT = "https://scripts.example/door.js"
BOX = {"type": "box", "position": [1, 2, 3]}
SCRIPTED = {**BOX, "script": SCRIPT}
CAPS = sorted(KNOWN_CAPS)
SCOPES = sorted(KNOWN_SCOPES)
MODERATOR_CAPS = ["ban", "find", "kick", "locate", "remove", "reports"]

OWNER = Identity.generate()  # sets up each cell; outranks everyone; never an actor
MEMBER = Identity.generate()
SCRIPTS_BLACKLISTED = Identity.generate()
REZ_BLACKLISTED = Identity.generate()
TEMPORARY = Identity.generate()
NOREZ = Identity.generate()
GUEST = Identity.generate()  # a member of `guests` by credential only
VICTIM = Identity.generate()  # a rank-10 member, the target of kicks and bans
MODERATOR = Identity.generate()
CAPPED = {cap: Identity.generate() for cap in CAPS}


def _key(name: str) -> str:
    return f"matrix-key-{name}"


def _scope_name(scope: str) -> str:
    return scope.replace(":", "_")


# HTTP actors: no key, a header that is not Bearer, an unknown key, and for every scope a key
# holding only it and a key holding every scope but it.
HTTP_ACTORS: dict[str, str | None] = {"no key": None, "not bearer": "Basic Zm9vOmJhcg==",
                                      "unknown key": "Bearer not-a-key-of-this-domain"}
KEY_SCOPES: dict[str, list[str]] = {}
for _scope in SCOPES:
    KEY_SCOPES[f"only_{_scope_name(_scope)}"] = [_scope]
    KEY_SCOPES[f"all_but_{_scope_name(_scope)}"] = [s for s in SCOPES if s != _scope]
for _name in KEY_SCOPES:
    HTTP_ACTORS[_name] = f"Bearer {_key(_name)}"


def _policy(signer: str) -> str:
    roles = "\n".join(
        f'[roles.cap_{cap}]\ncaps = ["{cap}"]\n' for cap in CAPS
    )
    keys = "\n".join(
        f'[api_keys.{name}]\nsha256 = "{hashlib.sha256(_key(name).encode()).hexdigest()}"\n'
        f"scopes = {scopes!r}\n".replace("'", '"')
        for name, scopes in KEY_SCOPES.items()
    )
    members = "\n".join(
        [f'"{OWNER.token}" = "owner"', f'"{MEMBER.token}" = "member"',
         f'"{SCRIPTS_BLACKLISTED.token}" = "member"', f'"{TEMPORARY.token}" = "temporary"',
         f'"{NOREZ.token}" = "norez"', f'"{VICTIM.token}" = "member"',
         f'"{MODERATOR.token}" = "moderator"']
        + [f'"{identity.token}" = "cap_{cap}"' for cap, identity in CAPPED.items()]
    )  # fmt: skip
    return f"""
[domain]
id = "matrix"
access = "open"
max_temp_lifetime = 600
default_temp_lifetime = 300

[roles.visitor]
rez = "permanent"
scripts = false
max_entities = 100000
rez_per_second = 100000
chat_per_second = 100000
caps = []

[roles.temporary]
rez = "temporary"

[roles.norez]
rez = "none"

[roles.member]
rez = "permanent"
scripts = true
rank = 10

[roles.moderator]
rez = "permanent"
scripts = true
caps = {MODERATOR_CAPS!r}
rank = 100

[roles.owner]
rez = "permanent"
scripts = true
caps = {CAPS!r}
rank = 1000

{roles}
[members]
{members}

[groups.guests]
role = "member"
signer = "{signer}"

[rez]
blacklist = ["{REZ_BLACKLISTED.token}"]

[scripts]
blacklist = ["{SCRIPTS_BLACKLISTED.token}"]

{keys}
""".replace("'", '"')


@pytest.fixture
def signer(tmp_path):
    public = generate_signer(tmp_path / "guests.pem")
    return public, load_signer(tmp_path / "guests.pem")


@pytest.fixture
def policy_path(tmp_path, signer):
    path = tmp_path / "permissions.toml"
    path.write_text(_policy(signer[0]))
    return path


# -- WebSocket actors ------------------------------------------------------------------------


class Unauthenticated:
    """A socket that took the challenge and never said hello."""

    def __init__(self, http: aiohttp.ClientSession, ws: aiohttp.ClientWebSocketResponse):
        self.http, self.ws, self.ids = http, ws, itertools.count(1)
        self.token = "no-token"

    @classmethod
    async def open(cls, url: str) -> Unauthenticated:
        http = aiohttp.ClientSession()
        ws = await http.ws_connect(url)
        self = cls(http, ws)
        self.challenge = msgpack.unpackb(await ws.receive_bytes())
        return self

    async def ask(self, op: str, **args: Any) -> dict[str, Any]:
        rid = next(self.ids)
        await self.ws.send_bytes(msgpack.packb({"op": op, "id": rid, **args}))
        while True:
            msg = msgpack.unpackb(await self.ws.receive_bytes(timeout=10))
            if msg.get("re") == rid:
                return msg

    async def close(self) -> None:
        await self.ws.close()
        await self.http.close()


@attrs.define
class Actor:
    name: str
    identity: Identity | None
    client: Any = None
    credentials: list[str] | None = None

    @property
    def token(self) -> str:
        return self.identity.token if self.identity else "no-token"

    async def ask(self, op: str, **args: Any) -> dict[str, Any]:
        if isinstance(self.client, Unauthenticated):
            return await self.client.ask(op, **args)
        return await self.client.submit(op, **args)


def outcome(reply: dict[str, Any]) -> str:
    if reply.get("ok"):
        return "ok"
    return reply["error"]["code"]


WS_ACTORS = (
    ["unauthenticated", "visitor", "temporary", "norez", "rez_blacklisted",
     "scripts_blacklisted", "member", "group_credential", "moderator"]
    + [f"cap:{cap}" for cap in CAPS]
)  # fmt: skip


class Cell:
    """What one probe may use: the harness, the owner's client who sets things up, a counter."""

    def __init__(self, harness, owner: Client, visitor: Client):
        self.harness, self.owner, self.visitor = harness, owner, visitor

    async def owned(self, entity: dict[str, Any] = BOX, **override: Any) -> str:
        """An entity of the owner's, optionally with an override; its id."""
        eid = (await self.owner.request("rez", entity=entity))["entity"]["id"]
        if override:
            await self.owner.request("set_override", entity=eid, **override)
        return eid

    async def reported(self) -> str:
        """An open report (on the owner, by the owner: only its id matters here)."""
        return (await self.owner.request("report", target={"avatar": OWNER.token},
                                         reason="matrix"))["report"]  # fmt: skip

    async def connected(self, identity: Identity) -> Client:
        return await self.harness.connect(identity, name="target")


Probe = Callable[[Cell, Actor], Awaitable[str]]


async def _own(cell: Cell, who: Actor, then: Callable[[str], Awaitable[dict]]) -> str:
    """Rez one's own box, then act on it; a refused rez is the outcome `rez:CODE`."""
    reply = await who.ask("rez", entity=BOX)
    if not reply.get("ok"):
        return "rez:" + outcome(reply)
    return outcome(await then(reply["entity"]["id"]))


async def _rez(who: Actor, entity: dict, **args: Any) -> str:
    reply = await who.ask("rez", entity=entity, **args)
    if reply.get("ok") and reply["entity"]["temporary"]:
        return "ok:temp"
    return outcome(reply)


def _probes() -> dict[str, tuple[str, Probe]]:
    """row name -> (op, probe)."""

    async def hello(cell, who):
        if isinstance(who.client, Unauthenticated):  # a hello signed over the wrong nonce
            other, raw = Identity.generate(), await Unauthenticated.open(cell.harness.ws_url)
            bad = other.sign(b"domainserver-hello/v1\nmatrix\n" + b"\0" * 32)
            try:
                return outcome(await raw.ask("hello", key=other.public_key, sig=bad, name="x"))
            finally:
                await raw.close()
        fresh = await Client.connect(cell.harness.ws_url, who.identity, name="again",
                                     credentials=who.credentials)  # fmt: skip
        try:
            return "ok:" + fresh.hello["role"]
        finally:
            await fresh.close()

    async def kick_target(cell, who, target):
        c = await cell.connected(target)
        try:
            return outcome(await who.ask("kick", avatar=target.token, reason="matrix"))
        finally:
            await c.close()

    async def ban_target(cell, who, target):
        got = outcome(await who.ask("ban", token=target.token, reason="matrix"))
        await cell.owner.request("unban", token=target.token)
        return got

    async def unban(cell, who):
        target = Identity.generate().token
        await cell.owner.request("ban", token=target, reason="matrix")
        return outcome(await who.ask("unban", token=target))

    async def other(op, cell, who, entity=BOX, override=None, **args):
        eid = await cell.owned(entity, **(override or {}))
        return outcome(await who.ask(op, entity=eid, **args))

    def ask(op, **args):
        async def probe(cell, who):
            return outcome(await who.ask(op, **args))
        return probe

    move = {"position": [5, 0, 5]}
    anyone = {"anyone": True, "groups": []}
    guests = {"anyone": False, "groups": ["guests"]}
    return {
        "hello": ("hello", hello),
        "whoami": ("whoami", ask("whoami")),
        "move": ("move", ask("move", **move)),
        "say": ("say", ask("say", text="hi")),
        "look": ("look", ask("look", center=[0, 0, 0], radius=10)),
        "mutes": ("mutes", ask("mutes")),
        "mute an owner": ("mute", ask("mute", target={"owner": OWNER.token})),
        "unmute an owner": ("unmute", ask("unmute", target={"owner": OWNER.token})),
        "report an avatar": ("report", ask("report", target={"avatar": OWNER.token},
                                           reason="matrix")),
        "rez": ("rez", lambda cell, who: _rez(who, BOX)),
        "rez with a script": ("rez", lambda cell, who: _rez(who, SCRIPTED)),
        "rez from another's scripted parent": (
            "rez", lambda cell, who: _parented(cell, who)),
        "get another's": ("get", lambda cell, who: other("get", cell, who)),
        "edit own": ("edit", lambda cell, who: _own(cell, who, lambda e: who.ask(
            "edit", entity=e, set={"position": [2, 2, 2]}))),
        "edit own, lifetime None": ("edit", lambda cell, who: _own(cell, who, lambda e: who.ask(
            "edit", entity=e, set={"lifetime": None}))),
        "edit own, script": ("edit", lambda cell, who: _own(cell, who, lambda e: who.ask(
            "edit", entity=e, set={"script": SCRIPT}))),
        "edit own, owner": ("edit", lambda cell, who: _own(cell, who, lambda e: who.ask(
            "edit", entity=e, set={"owner": who.token}))),
        "edit another's": ("edit", lambda cell, who: other("edit", cell, who, set=move)),
        "edit another's, override anyone": (
            "edit", lambda cell, who: other("edit", cell, who, override=anyone, set=move)),
        "edit another's, override group guests": (
            "edit", lambda cell, who: other("edit", cell, who, override=guests, set=move)),
        "delete own": ("delete", lambda cell, who: _own(
            cell, who, lambda e: who.ask("delete", entity=e))),
        "delete another's": ("delete", lambda cell, who: other("delete", cell, who)),
        "delete another's, override anyone": (
            "delete", lambda cell, who: other("delete", cell, who, override=anyone)),
        "set_override own": ("set_override", lambda cell, who: _own(cell, who, lambda e: who.ask(
            "set_override", entity=e, **anyone))),
        "set_override another's": (
            "set_override", lambda cell, who: other("set_override", cell, who, **anyone)),
        "entity_say another's scripted": (
            "entity_say", lambda cell, who: other("entity_say", cell, who, SCRIPTED, text="hi")),
        "entity_say another's scripted, override anyone": (
            "entity_say",
            lambda cell, who: other("entity_say", cell, who, SCRIPTED, anyone, text="hi")),
        "entity_say another's unscripted": (
            "entity_say", lambda cell, who: other("entity_say", cell, who, text="hi")),
        "find by owner": ("find", ask("find", owner=OWNER.token, limit=1)),
        "remove a visitor's by id": ("remove", lambda cell, who: _remove(cell, who)),
        "remove a rank-1000 owner's by id": (
            "remove", lambda cell, who: _remove(cell, who, cell.owner)),
        "kick a visitor": (
            "kick", lambda cell, who: kick_target(cell, who, Identity.generate())),
        "kick a rank-10 member": ("kick", lambda cell, who: kick_target(cell, who, VICTIM)),
        "ban a visitor": ("ban", lambda cell, who: ban_target(cell, who, Identity.generate())),
        "ban a rank-10 member": ("ban", lambda cell, who: ban_target(cell, who, VICTIM)),
        "unban": ("unban", unban),
        "locate": ("locate", ask("locate")),
        "reports": ("reports", ask("reports", state="open", limit=1)),
        "resolve": ("resolve", lambda cell, who: _resolve(cell, who)),
        "log": ("log", ask("log", limit=1)),
    }


async def _parented(cell: Cell, who: Actor) -> str:
    parent = await cell.owned(SCRIPTED)
    return await _rez(who, BOX, parent=parent)


async def _remove(cell: Cell, who: Actor, owner: Client | None = None) -> str:
    """Remove a visitor's entity (or, given `owner`, one of that client's)."""
    eid = (await (owner or cell.visitor).request("rez", entity=BOX))["entity"]["id"]
    return outcome(await who.ask("remove", entities=[eid], reason="matrix"))


async def _resolve(cell: Cell, who: Actor) -> str:
    rid = await cell.reported()
    return outcome(await who.ask("resolve", report=rid, action="dismiss"))


def row(default: str, *, caps: dict[str, str] | None = None, **cells: str) -> dict[str, str]:
    """A row: `default` for every authenticated actor, except those named (spaces as _) and
    the `cap:NAME` actors given in `caps`; the unauthenticated one gets not_authenticated."""
    out = {name: default for name in WS_ACTORS}
    out["unauthenticated"] = "not_authenticated"
    for name, value in cells.items():
        assert name in out, name
        out[name] = value
    for cap, value in (caps or {}).items():
        out[f"cap:{cap}"] = value
    return out


def needs(cap: str, moderator: str = "ok", holder: str = "ok") -> dict[str, str]:
    """An op of one capability: only its holder (and the moderator) may."""
    return row("not_allowed", moderator=moderator, caps={cap: holder})


NO_REZ = {"norez": "not_allowed", "rez_blacklisted": "not_allowed"}
CANNOT_OWN = {"norez": "rez:not_allowed", "rez_blacklisted": "rez:not_allowed",
              "unauthenticated": "rez:not_authenticated"}
MAY_SCRIPT = {"member": "ok", "group_credential": "ok", "moderator": "ok"}
EDIT_ANY = {"edit_any": "ok"}

WS_EXPECTED: dict[str, dict[str, str]] = {
    "hello": {
        **{f"cap:{cap}": f"ok:cap_{cap}" for cap in CAPS},
        "unauthenticated": "auth_failed", "visitor": "ok:visitor", "temporary": "ok:temporary",
        "norez": "ok:norez", "rez_blacklisted": "ok:visitor", "scripts_blacklisted": "ok:member",
        "member": "ok:member", "group_credential": "ok:member", "moderator": "ok:moderator",
    },
    "whoami": row("ok"),
    "move": row("ok"),
    "say": row("ok"),
    "look": row("ok"),
    "mutes": row("ok"),
    "mute an owner": row("ok"),
    "unmute an owner": row("ok"),
    "report an avatar": row("ok"),
    "rez": row("ok", temporary="ok:temp", **NO_REZ),
    "rez with a script": row("script_not_allowed", **NO_REZ, **MAY_SCRIPT),
    "rez from another's scripted parent": row("not_allowed", **MAY_SCRIPT),
    "get another's": row("ok"),
    "edit own": row("ok", **CANNOT_OWN),
    "edit own, lifetime None": row("ok", temporary="not_allowed", **CANNOT_OWN),
    "edit own, script": row("script_not_allowed", **CANNOT_OWN, **MAY_SCRIPT),
    "edit own, owner": row("owner_immutable", **CANNOT_OWN),
    "edit another's": row("not_owner", caps=EDIT_ANY),
    "edit another's, override anyone": row("ok"),
    "edit another's, override group guests": row("not_owner", group_credential="ok",
                                                 caps=EDIT_ANY),
    "delete own": row("ok", **CANNOT_OWN),
    "delete another's": row("not_owner", caps=EDIT_ANY),
    "delete another's, override anyone": row("not_owner", caps=EDIT_ANY),
    "set_override own": row("ok", **CANNOT_OWN),
    "set_override another's": row("not_owner", caps=EDIT_ANY),
    "entity_say another's scripted": row("not_owner", caps=EDIT_ANY),
    "entity_say another's scripted, override anyone": row("ok"),
    "entity_say another's unscripted": row("not_allowed"),
    "find by owner": needs("find"),
    "remove a visitor's by id": needs("remove"),
    "remove a rank-1000 owner's by id": needs("remove", moderator="not_allowed",
                                              holder="not_allowed"),
    "kick a visitor": needs("kick"),
    # Rank: a rank-0 holder of the cap may not act on a rank-10 member; a moderator may.
    "kick a rank-10 member": needs("kick", holder="not_allowed"),
    "ban a visitor": needs("ban"),
    "ban a rank-10 member": needs("ban", holder="not_allowed"),
    "unban": needs("ban"),
    "locate": needs("locate"),
    "reports": needs("reports"),
    "resolve": needs("reports"),
    "log": needs("audit", moderator="not_allowed"),
}


async def _ws_actors(harness, signer_key) -> dict[str, Actor]:
    cred = credential_text(issue_credential(signer_key, "matrix", "guests", GUEST.token,
                                            int(time.time()) + 3600))  # fmt: skip
    identities: dict[str, Identity] = {
        "visitor": Identity.generate(), "temporary": TEMPORARY, "norez": NOREZ,
        "rez_blacklisted": REZ_BLACKLISTED, "scripts_blacklisted": SCRIPTS_BLACKLISTED,
        "member": MEMBER, "group_credential": GUEST, "moderator": MODERATOR,
        **{f"cap:{cap}": identity for cap, identity in CAPPED.items()},
    }  # fmt: skip
    actors = {"unauthenticated": Actor("unauthenticated", None)}
    actors["unauthenticated"].client = await Unauthenticated.open(harness.ws_url)
    for name, identity in identities.items():
        creds = [cred] if name == "group_credential" else None
        actor = Actor(name, identity, credentials=creds)
        actor.client = await harness.connect(identity, name=name, credentials=creds)
        actors[name] = actor
    return actors


# -- HTTP ------------------------------------------------------------------------------------


@attrs.frozen
class Endpoint:
    scope: str | None  # None: no key needed
    ok: int = 200
    anonymous: bool = False  # answers without a key too (and checks one that is sent)


Request = Callable[[Cell], Awaitable[tuple[str, dict[str, Any] | None]]]
"""A cell's request: (path with query, JSON body or None), after its own set-up."""


def _http_rows() -> dict[tuple[str, str], tuple[Endpoint, Request]]:
    op = "/api/v1/operator"

    def plain(path, body=None):
        async def make(cell):
            return path, body
        return make

    async def banned_token(cell):
        token = Identity.generate().token
        await cell.owner.request("ban", token=token, reason="matrix")
        return f"{op}/bans/{token}", None

    async def sources(cell):
        path, _ = await banned_token(cell)
        return path + "/sources", None

    async def kick(cell):
        target = Identity.generate()
        await cell.connected(target)
        return f"{op}/avatars/kick", {"avatar": target.token}

    async def remove(cell):
        eid = (await cell.visitor.request("rez", entity=BOX))["entity"]["id"]
        return f"{op}/entities/remove", {"entities": [eid]}

    async def report(cell):
        return f"{op}/reports/{await cell.reported()}", None

    async def bundle(cell):
        return f"{op}/reports/{await cell.reported()}/bundle", None

    async def resolve(cell):
        return f"{op}/reports/{await cell.reported()}/resolve", {"action": "dismiss"}

    def ban(cell):
        return plain(f"{op}/bans", {"token": Identity.generate().token, "reason": "m"})(cell)

    return {
        ("GET", "/healthz"): (Endpoint("metrics:read", anonymous=True), plain("/healthz")),
        ("GET", "/metrics"): (Endpoint("metrics:read"), plain("/metrics")),
        ("GET", "/api/v1/openapi.yaml"): (Endpoint(None),
                                          plain("/api/v1/openapi.yaml")),
        ("GET", "/api/v1/domain"): (Endpoint(None),
                                    plain("/api/v1/domain")),
        ("GET", "/api/v1/banfeed"): (Endpoint(None), plain("/api/v1/banfeed")),
        ("GET", "/api/v1/blacklist"): (Endpoint("blacklist:read"), plain("/api/v1/blacklist")),
        ("GET", "/api/v1/blacklist/{token}"): (
            Endpoint("blacklist:read"), plain(f"/api/v1/blacklist/{OWNER.token}")),
        ("GET", f"{op}/entities"): (Endpoint("entities:read"), plain(f"{op}/entities")),
        ("POST", f"{op}/entities/remove"): (Endpoint("entities:write"), remove),
        ("GET", f"{op}/avatars"): (Endpoint("avatars:read"), plain(f"{op}/avatars")),
        ("POST", f"{op}/avatars/kick"): (Endpoint("avatars:write"), kick),
        ("GET", f"{op}/bans"): (Endpoint("bans:read"), plain(f"{op}/bans")),
        ("POST", f"{op}/bans"): (Endpoint("bans:write"), ban),
        ("GET", f"{op}/bans/{{token}}"): (Endpoint("bans:read"), banned_token),
        ("DELETE", f"{op}/bans/{{token}}"): (Endpoint("bans:write"), banned_token),
        ("GET", f"{op}/bans/{{token}}/sources"): (Endpoint("bans:read"), sources),
        ("GET", f"{op}/feeds"): (Endpoint("bans:read"), plain(f"{op}/feeds")),
        ("GET", f"{op}/log"): (Endpoint("log:read"), plain(f"{op}/log?limit=1")),
        ("GET", f"{op}/log/verify"): (Endpoint("log:read"), plain(f"{op}/log/verify")),
        ("GET", f"{op}/reports"): (Endpoint("reports:read"), plain(f"{op}/reports")),
        ("GET", f"{op}/reports/{{id}}"): (Endpoint("reports:read"), report),
        ("GET", f"{op}/reports/{{id}}/bundle"): (Endpoint("reports:read"), bundle),
        ("POST", f"{op}/reports/{{id}}/resolve"): (Endpoint("reports:write"), resolve),
    }


def http_expected(endpoint: Endpoint, actor: str) -> str:
    """`STATUS CODE` of one cell (the error code, or `ok`)."""
    ok = f"{endpoint.ok} ok"
    if endpoint.scope is None:
        return ok
    if actor == "no key":
        # /healthz answers anyone; its counts need the key.
        return ok if endpoint.anonymous else "401 not_authenticated"
    if actor == "not bearer":
        return "401 not_authenticated"
    if actor == "unknown key":
        return "401 auth_failed"
    return ok if endpoint.scope in KEY_SCOPES[actor] else "403 not_allowed"


def _app_routes(app) -> set[tuple[str, str]]:
    found = set()
    for route in app.router.routes():
        path = route.resource.canonical if route.resource is not None else ""
        if route.method == "HEAD" or path == "/ws":
            continue
        if path.startswith("/console"):  # signed in by cookie: tests/console/test_console_matrix.py
            continue
        found.add((route.method, path))
    return found


def _openapi_routes() -> set[tuple[str, str]]:
    doc = yaml.safe_load(openapi_document())
    methods = {"get", "post", "put", "delete", "patch"}
    return {(m.upper(), path) for path, item in doc["paths"].items() for m in item
            if m in methods and path != "/ws"}  # fmt: skip


# -- the tests -------------------------------------------------------------------------------


def test_every_op_and_every_endpoint_has_a_row(harness):
    ops = {"hello", *OPS}
    rows = {op for op, _ in _probes().values()}
    assert set(_probes()) == set(WS_EXPECTED), "a probe without expectations, or the reverse"
    assert ops - rows == set(), f"ops without a row in the matrix: {sorted(ops - rows)}"
    assert rows - ops == set(), f"rows for ops that do not exist: {sorted(rows - ops)}"
    routes = _app_routes(harness.server.app) | _openapi_routes()
    have = set(_http_rows())
    assert routes - have == set(), f"endpoints without a row: {sorted(routes - have)}"
    assert have - routes == set(), f"rows for endpoints that do not exist: {sorted(have - routes)}"
    for name, cells in WS_EXPECTED.items():
        assert set(cells) == set(WS_ACTORS), name


async def test_authorization_matrix(harness, signer):
    """Every (op, actor) and (endpoint, key) cell, with its exact outcome."""
    await harness.restart(report_rate=1e6, max_open_reports=1_000_000)
    owner = await harness.connect(OWNER, name="owner")
    cell = Cell(harness, owner, await harness.connect(Identity.generate(), name="bystander"))
    actors = await _ws_actors(harness, signer[1])
    http = aiohttp.ClientSession(base_url=str(harness.server.make_url("/")))
    wrong: list[str] = []
    cells = 0
    for name, (_, probe) in _probes().items():
        for actor in WS_ACTORS:
            got = await probe(cell, actors[actor])
            cells += 1
            if got != WS_EXPECTED[name][actor]:
                wrong.append(f"ws {name!r} by {actor}: {got}, not {WS_EXPECTED[name][actor]}")
    for (method, _), (endpoint, make) in _http_rows().items():
        for actor, header in HTTP_ACTORS.items():
            path, body = await make(cell)
            headers = {} if header is None else {"Authorization": header}
            async with http.request(method, path, json=body, headers=headers) as r:
                got = f"{r.status} ok" if r.status < 300 else f"{r.status} " + (
                    await r.json())["error"]["code"]
            cells += 1
            want = http_expected(endpoint, actor)
            if got != want:
                wrong.append(f"http {method} {path} with {actor}: {got}, not {want}")
    await http.close()
    assert not wrong, f"{len(wrong)} of {cells} cells differ:\n" + "\n".join(wrong)
    # The matrix is as large as its columns say (recorded in docs/RELIABILITY.md).
    assert cells == len(WS_EXPECTED) * len(WS_ACTORS) + len(_http_rows()) * len(HTTP_ACTORS)
    await actors["unauthenticated"].client.close()
