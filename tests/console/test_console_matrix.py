"""Who may do what in the console, as one table: every console route against no session and
against a session of every kind of key (one scope only; every scope but one), each cell's
exact status. A route of the app under /console without a row fails, so does a stale row.
(The issue-11 matrix in tests/server/ covers the Bearer-key routes; this one the cookie.)"""

import hashlib
import re

import aiohttp
import pytest

from domainserver.console.render import PANELS
from permissions import KNOWN_SCOPES
from tests.server.conftest import Harness, People, policy_text

SCOPES = sorted(KNOWN_SCOPES)
KEYS = {f"only_{s.replace(':', '_')}": [s] for s in SCOPES} | {
    f"all_but_{s.replace(':', '_')}": [o for o in SCOPES if o != s] for s in SCOPES}
BAD = {"avatar": "not-a-token", "token": "not-a-token", "report": ""}

# (method, route, path with query): (the scope it needs or None, status when allowed)
ROWS = {
    ("GET", "/console"): (None, {200, 303}),
    ("GET", "/console/signin"): (None, {200, 303}),
    ("POST", "/console/signin"): (None, {303}),
    ("POST", "/console/signout"): (None, {303}),
    ("GET", "/console/static/{name}"): (None, {200}),
    ("GET", "/console/live/{region}"): ("avatars:read", {200}),
    ("GET", "/console/now"): ("avatars:read", {200}),
    ("POST", "/console/now/kick"): ("avatars:write", {400}),
    ("POST", "/console/now/ban"): ("bans:write", {400}),
    ("GET", "/console/world"): ("entities:read", {200}),
    ("POST", "/console/world/remove"): ("entities:write", {400}),
    ("GET", "/console/bans"): ("bans:read", {200}),
    ("POST", "/console/bans/add"): ("bans:write", {400}),
    ("POST", "/console/bans/lift"): ("bans:write", {400}),
    ("GET", "/console/reports"): ("reports:read", {200}),
    ("POST", "/console/reports/resolve"): ("reports:write", {400}),
    ("GET", "/console/log"): ("log:read", {200}),
    ("GET", "/console/policy"): ("policy:read", {200}),
    ("POST", "/console/policy/reload"): ("policy:write", {303}),
    ("GET", "/console/health"): ("metrics:read", {200}),
}
CONCRETE = {"/console/static/{name}": "/console/static/console.css",
            "/console/live/{region}": "/console/live/now"}


def _key(name):
    return f"console-matrix-{name}"


@pytest.fixture
async def harness(aiohttp_server, tmp_path):
    keys = "".join(
        f'\n[api_keys.{name}]\nsha256 = "{hashlib.sha256(_key(name).encode()).hexdigest()}"\n'
        f"scopes = {scopes!r}\n".replace("'", '"') for name, scopes in KEYS.items())
    path = tmp_path / "permissions.toml"
    path.write_text(policy_text(People(), keys))
    h = Harness(aiohttp_server, tmp_path, path)
    await h.start()
    yield h
    await h.close()


async def _cell(http, base, method, route, csrf):
    path = CONCRETE.get(route, route)
    headers = {"Origin": base}
    if method == "GET":
        async with http.get(base + path, allow_redirects=False) as r:
            return r.status
    data = {"csrf": csrf, **BAD} if route != "/console/signin" else {"key": _key("only_log_read")}
    async with http.post(base + path, data=data, headers=headers, allow_redirects=False) as r:
        return r.status


def test_every_console_route_has_a_row(harness):
    routes = {(r.method, r.resource.canonical) for r in harness.server.app.router.routes()
              if r.resource.canonical.startswith("/console") and r.method != "HEAD"}
    assert routes == set(ROWS)


async def test_console_authorization_matrix(harness):
    base = str(harness.server.make_url("/")).rstrip("/")
    wrong, cells = [], 0
    for actor in ["no session", *KEYS]:
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
            csrf, scopes = "", set()
            if actor != "no session":
                scopes = set(KEYS[actor])
                async with http.post(base + "/console/signin", data={"key": _key(actor)},
                                     allow_redirects=False) as r:
                    assert r.status == 303
                async with http.get(base + "/console/signin") as r:  # any page: its token
                    text = await r.text()
                found = re.search(r'name="csrf" value="([^"]+)"', text)
                csrf = found.group(1) if found else ""
                nav = set(re.findall(r'<li><a href="/console/(\w+)"', text))
                assert nav == {p.slug for p in PANELS if p.scope in scopes}, actor
            for (method, route), (scope, allowed) in ROWS.items():
                if route in ("/console/signout", "/console/signin") and method == "POST":
                    continue  # they end or replace this very session; tested on their own
                got = await _cell(http, base, method, route, csrf)
                cells += 1
                if actor == "no session" and scope is not None:
                    want = {303} if method == "GET" else {401}  # a page: to the sign-in
                elif scope is None or scope in scopes:
                    want = allowed
                else:
                    want = {403}
                if got not in want:
                    wrong.append(f"{method} {route} as {actor}: {got}, not {sorted(want)}")
    assert not wrong, f"{len(wrong)} of {cells} cells differ:\n" + "\n".join(wrong)
