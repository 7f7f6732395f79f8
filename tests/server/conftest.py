"""Real servers on real sockets, real SQLite files, real Ed25519 keys: the e2e fixtures."""

import sqlite3
import subprocess
import sys
import textwrap

import aiohttp
import pytest

from domainserver import ServerConfig, create_app
from domainserver.client import Client, Identity
from domainserver.store import schema

POLICY = """
[domain]
id = "testdomain"
access = "open"
max_temp_lifetime = 600
default_temp_lifetime = 60

[roles.visitor]
rez = "temporary"
scripts = false
max_entities = 50
rez_per_second = 1000
chat_per_second = 1000
caps = []

[roles.builder]
rez = "permanent"
scripts = true
rank = 10

[roles.moderator]
rez = "permanent"
scripts = true
rez_per_second = 1000
caps = ["kick", "ban", "find", "remove", "locate"]
rank = 100

[members]
"{trusted}" = "builder"
"{moderator}" = "moderator"

[groups.builders]
role = "builder"
members = ["{builder}"]

[api_keys.script]
sha256 = "{blacklist_key_hash}"
scopes = ["blacklist:read"]

[api_keys.other]
sha256 = "{other_key_hash}"
scopes = ["entities:read"]
"""

BLACKLIST_KEY = "blacklist-key-for-tests"
OTHER_KEY = "key-without-blacklist-scope"


def run_cli(*args, cwd=None):
    """Run `python -m domainserver ARGS` to completion, capturing its output as text."""
    return subprocess.run(
        [sys.executable, "-m", "domainserver", *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=cwd,
    )


class People:
    """Identities used across a test: a visitor, a trusted member, a group builder, a moderator."""

    def __init__(self):
        self.visitor = Identity.generate()
        self.stranger = Identity.generate()
        self.trusted = Identity.generate()
        self.builder = Identity.generate()
        self.moderator = Identity.generate()
        self.griefer = Identity.generate()


def policy_text(people: People, extra: str = "") -> str:
    import hashlib

    return (
        textwrap.dedent(POLICY).format(
            trusted=people.trusted.token,
            moderator=people.moderator.token,
            builder=people.builder.token,
            blacklist_key_hash=hashlib.sha256(BLACKLIST_KEY.encode()).hexdigest(),
            other_key_hash=hashlib.sha256(OTHER_KEY.encode()).hexdigest(),
        )
        + extra
    )


@pytest.fixture
def people():
    return People()


@pytest.fixture
def policy_extra():
    """Text appended to the test policy; a module overrides it to add keys or tables."""
    return ""


@pytest.fixture
def policy_path(tmp_path, people, policy_extra):
    path = tmp_path / "permissions.toml"
    path.write_text(policy_text(people, policy_extra))
    return path


@pytest.fixture
def conn():
    """A migrated in-memory database, for the store's row functions."""
    c = sqlite3.connect(":memory:", isolation_level=None)
    schema.migrate(c)
    yield c
    c.close()


@pytest.fixture
async def http(harness):
    """An HTTP session aimed at the running harness server."""
    async with aiohttp.ClientSession(base_url=str(harness.server.make_url("/"))) as session:
        yield session


class Harness:
    def __init__(self, aiohttp_server, tmp_path, policy_path):
        self._aiohttp_server = aiohttp_server
        self.db = tmp_path / "domain.db"
        self.policy_path = policy_path
        self.server = None
        self.clients = []

    async def start(self, **config):
        config.setdefault("watch_interval", 0.05)
        config.setdefault("expiry_tick", 0.05)
        app = create_app(
            ServerConfig(
                db_path=str(self.db),
                permissions_path=str(self.policy_path),
                handle_signals=False,
                **config,
            )
        )
        self.server = await self._aiohttp_server(app)
        return self.server

    @property
    def domain(self):
        from domainserver.appkeys import DOMAIN

        return self.server.app[DOMAIN]

    @property
    def ws_url(self):
        return str(self.server.make_url("/ws"))

    async def connect(self, identity, name="someone", **kw):
        client = await Client.connect(self.ws_url, identity, name=name, **kw)
        self.clients.append(client)
        return client

    async def stop(self):
        for c in self.clients:
            await c.close()
        self.clients.clear()
        await self.server.close()

    async def restart(self, **config):
        await self.stop()
        return await self.start(**config)

    async def close(self):
        for c in self.clients:
            await c.close()


@pytest.fixture
async def harness(aiohttp_server, tmp_path, policy_path):
    h = Harness(aiohttp_server, tmp_path, policy_path)
    await h.start()
    yield h
    await h.close()
