"""A real server on a real socket with the console, keys of several scopes, and a browser-like
HTTP session (cookies kept, forms posted with the page's CSRF token)."""

import hashlib
import re

import aiohttp
import pytest

from tests.server.conftest import Harness, People, policy_text

KEYS = {
    "ops": ("ops-key-for-console-tests", [
        "avatars:read", "avatars:write", "bans:read", "bans:write", "entities:read",
        "entities:write", "log:read", "reports:read", "reports:write", "metrics:read",
        "policy:read", "policy:write"]),
    "watcher": ("watcher-key-for-console-tests", ["avatars:read"]),
    "scripts": ("scripts-key-for-console-tests", ["blacklist:read"]),
}


def keys_toml(keys=KEYS):
    return "".join(
        f'\n[api_keys.{name}]\nsha256 = "{hashlib.sha256(key.encode()).hexdigest()}"\n'
        f"scopes = {scopes!r}\n".replace("'", '"')
        for name, (key, scopes) in keys.items()
    )


@pytest.fixture
def people():
    return People()


@pytest.fixture
def policy_path(tmp_path, people):
    path = tmp_path / "permissions.toml"
    path.write_text(policy_text(people, keys_toml()))
    return path


@pytest.fixture
async def harness(aiohttp_server, tmp_path, policy_path):
    h = Harness(aiohttp_server, tmp_path, policy_path)
    await h.start()
    yield h
    await h.close()


class Browser:
    """What a browser does, over plain HTTP: keeps cookies, sends Origin, reads CSRF tokens."""

    def __init__(self, session, base):
        self.http = session
        self.base = base.rstrip("/")
        self.csrf = None

    def url(self, path):
        return self.base + path

    async def get(self, path, **kw):
        kw.setdefault("allow_redirects", False)
        response = await self.http.get(self.url(path), **kw)
        text = await response.text()
        found = re.search(r'name="csrf" value="([^"]+)"', text)
        if found:
            self.csrf = found.group(1)
        return response, text

    async def post(self, path, data, csrf=True, origin=True, **kw):
        data = dict(data) if isinstance(data, dict) else list(data)
        if csrf and isinstance(data, dict):
            data.setdefault("csrf", self.csrf or "")
        headers = {"Origin": self.base} if origin is True else (
            {"Origin": origin} if origin else {})
        kw.setdefault("allow_redirects", False)
        response = await self.http.post(self.url(path), data=data, headers=headers, **kw)
        return response, await response.text()

    async def sign_in(self, name="ops"):
        response, text = await self.post("/console/signin", {"key": KEYS[name][0]}, csrf=False)
        assert response.status == 303, text
        await self.get("/console/now" if "avatars:read" in KEYS[name][1] else "/console")
        return response


@pytest.fixture
async def browser(harness):
    jar = aiohttp.CookieJar(unsafe=True)  # the server is 127.0.0.1, an address
    async with aiohttp.ClientSession(cookie_jar=jar) as session:
        yield Browser(session, str(harness.server.make_url("/")))
