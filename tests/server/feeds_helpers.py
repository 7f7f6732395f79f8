"""Three real domain servers on 127.0.0.1 that follow each other's ban feeds, and a
publisher whose documents a test writes by hand (to forge, rewind and break them)."""

from __future__ import annotations

import asyncio
import textwrap
from collections.abc import Callable

from aiohttp import web
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from domainserver.client import Client, RequestFailed
from domainserver.evidence import format_key
from domainserver.services.reload import reload_policy
from permissions import render_document, signature_value

from .conftest import Harness, policy_text

REFRESH = 1.0
# One refresh, its +10 % jitter, and room for a fetch and a commit on a busy machine.
WITHIN_A_REFRESH = REFRESH * 1.1 + 1.5


async def until(check: Callable[[], bool], timeout: float = WITHIN_A_REFRESH) -> float:
    """Wait (without blocking the loop) until `check()` is true; returns the time it took."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    while not check():
        if loop.time() - start > timeout:
            raise AssertionError(f"not within {timeout:.1f} s")
        await asyncio.sleep(0.02)
    return loop.time() - start


def feed_table(name: str, url: str, key: str, **more: object) -> str:
    lines = [f"[feeds.{name}]", f'url = "{url}"', f'key = "{key}"', f"refresh = {REFRESH}"]
    for k, v in more.items():
        lines.append(f"{k} = {v!r}".replace("'", '"').replace("True", "true"))
    return "\n" + "\n".join(lines) + "\n"


class Domain3:
    """Three harnesses A, B, C; `follow()` subscribes each to the other two."""

    def __init__(self, aiohttp_server, tmp_path, people) -> None:
        self.people = people
        self.servers: dict[str, Harness] = {}
        for name in "ABC":
            d = tmp_path / name
            d.mkdir()
            path = d / "permissions.toml"
            path.write_text(policy_text(people))
            self.servers[name] = Harness(aiohttp_server, d, path)
        self.extra = {name: "" for name in "ABC"}

    def __getitem__(self, name: str) -> Harness:
        return self.servers[name]

    async def start(self) -> None:
        for h in self.servers.values():
            await h.start()

    def feed_url(self, name: str) -> str:
        return str(self.servers[name].server.make_url("/api/v1/banfeed"))

    def key(self, name: str) -> str:
        return self.servers[name].domain.key.text

    def set_policy(self, name: str, extra: str) -> None:
        """Rewrite one server's permissions file and reload it now."""
        h = self.servers[name]
        self.extra[name] = extra
        h.policy_path.write_text(policy_text(self.people, extra))
        assert reload_policy(h.domain)

    def follow(self, **more: object) -> None:
        for me in "ABC":
            tables = "".join(
                feed_table(other, self.feed_url(other), self.key(other), **more)
                for other in "ABC"
                if other != me
            )
            self.set_policy(me, tables)

    async def restart(self, name: str) -> None:
        """Stop one server and start it again on the same port (its subscribers keep the
        URL they follow)."""
        from domainserver import ServerConfig, create_app

        h = self.servers[name]
        port = h.server.port
        await h.stop()
        app = create_app(ServerConfig(db_path=str(h.db), permissions_path=str(h.policy_path),
                                      handle_signals=False, watch_interval=0.05,
                                      expiry_tick=0.05))  # fmt: skip
        h.server = await h._aiohttp_server(app, port=port)

    async def close(self) -> None:
        for h in self.servers.values():
            await h.close()


def banned_on(h: Harness, token: str) -> bool:
    """What a hello would meet: a local ban, or a feed's ban."""
    from permissions import decide

    d = h.domain
    decision = decide(token, d.clock(), d.bans, d.feeds, d.policy.members)
    return decision is not None and decision.action == "ban"


async def hello_refused(h: Harness, identity) -> str | None:
    """The error code of a hello to `h`, or None when it is admitted."""
    try:
        client = await Client.connect(h.ws_url, identity)
    except RequestFailed as exc:
        return exc.code
    await client.close()
    return None


class HandPublisher:
    """A publisher whose next answer a test writes: any body, signed by any key."""

    def __init__(self, aiohttp_server) -> None:
        self._aiohttp_server = aiohttp_server
        self.key = Ed25519PrivateKey.generate()
        self.body = render_document("hand", 0, [])
        self.signer: Ed25519PrivateKey | None = self.key
        self.requests: list[str] = []
        self.server = None

    @property
    def key_text(self) -> str:
        return format_key(self.key.public_key().public_bytes_raw())

    @property
    def url(self) -> str:
        return str(self.server.make_url("/api/v1/banfeed"))

    def serve(self, serial: int, entries, since: int | None = None, signer="own") -> None:
        self.body = render_document("hand", serial, entries, since=since)
        self.signer = self.key if signer == "own" else signer

    async def start(self) -> None:
        async def handler(request: web.Request) -> web.Response:
            self.requests.append(request.query_string)
            headers = {}
            if self.signer is not None:
                headers["Domain-Signature"] = signature_value(self.signer.sign(self.body))
            return web.Response(body=self.body, content_type="application/json",
                                headers=headers)  # fmt: skip

        app = web.Application()
        app.router.add_get("/api/v1/banfeed", handler)
        self.server = await self._aiohttp_server(app)


def dedent(text: str) -> str:
    return textwrap.dedent(text)
