"""A small viewer client: connect with a key pair, send requests, read replies and events.

Used by the tests, the examples and the benchmarks; it speaks only the public contract.
"""

from __future__ import annotations

import asyncio
import itertools
from pathlib import Path
from typing import Any

import aiohttp
import msgpack
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from entities.tokens import token_from_public_key

__all__ = ["Identity", "Client", "RequestFailed", "Closed"]


class RequestFailed(Exception):
    """The server answered `ok: false`."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class Closed(Exception):
    """The socket closed before the answer came."""


class Identity:
    """An avatar's Ed25519 key pair and the token the server will derive from it."""

    def __init__(self, private_key: Ed25519PrivateKey) -> None:
        self.private_key = private_key
        self.public_key = private_key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        self.token = token_from_public_key(self.public_key)

    @classmethod
    def generate(cls) -> Identity:
        return cls(Ed25519PrivateKey.generate())

    @classmethod
    def load(cls, path: str | Path) -> Identity:
        key = serialization.load_pem_private_key(Path(path).read_bytes(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError(f"{path} is not an Ed25519 private key")
        return cls(key)

    def sign(self, data: bytes) -> bytes:
        return self.private_key.sign(data)


class Client:
    """One viewer connection. `await Client.connect(url, identity)` performs the handshake."""

    def __init__(self, http: aiohttp.ClientSession, ws: aiohttp.ClientWebSocketResponse) -> None:
        self._http = http
        self._ws = ws
        self._ids = itertools.count(1)
        self._pending: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self.events: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.challenge: dict[str, Any] = {}
        self.hello: dict[str, Any] = {}
        self.close_code: int | None = None
        self.reply_order: list[int] = []
        """The request id of every reply, in the order the replies arrived."""
        self._reader: asyncio.Task[None] | None = None

    @classmethod
    async def connect(
        cls,
        url: str,
        identity: Identity,
        name: str = "visitor",
        invisible: bool = False,
        credentials: list[bytes] | None = None,
        features: list[str] | None = None,
        interest_radius: float | None = None,
    ) -> Client:
        """Open `url` (ws://host:port/ws), answer the challenge, and return the client.

        Raises RequestFailed (auth_failed, banned, not_allowed) when the hello is refused.
        """
        http = aiohttp.ClientSession()
        try:
            ws = await http.ws_connect(url, max_msg_size=0)
            client = cls(http, ws)
            challenge = msgpack.unpackb(await ws.receive_bytes())
            client.challenge = challenge
            client._reader = asyncio.create_task(client._read())
            sig = identity.sign(
                b"domainserver-hello/v1\n"
                + challenge["domain"].encode()
                + b"\n"
                + challenge["nonce"]
            )
            args: dict[str, Any] = {
                "key": identity.public_key,
                "sig": sig,
                "name": name,
                "invisible": invisible,
            }
            if credentials:
                args["credentials"] = credentials
            if features:
                args["features"] = features
            if interest_radius is not None:
                args["interest_radius"] = interest_radius
            client.hello = await client.request("hello", **args)
        except BaseException:
            await http.close()
            raise
        return client

    @property
    def token(self) -> str:
        return self.hello["token"]

    async def _read(self) -> None:
        try:
            async for msg in self._ws:
                if msg.type != aiohttp.WSMsgType.BINARY:
                    continue
                message = msgpack.unpackb(msg.data)
                if "re" in message:
                    self.reply_order.append(message["re"])
                    future = self._pending.pop(message["re"], None)
                    if future is not None and not future.done():
                        future.set_result(message)
                else:
                    self.events.put_nowait(message)
        finally:
            self.close_code = self._ws.close_code
            for future in self._pending.values():
                if not future.done():
                    future.set_exception(Closed(f"socket closed ({self.close_code})"))
            self._pending.clear()
            self.events.put_nowait({"ev": "_closed", "code": self.close_code})

    def submit(self, op: str, **args: Any) -> asyncio.Future[dict[str, Any]]:
        """Send a request without waiting; the future gets the raw reply map (pipelining)."""
        request_id = next(self._ids)
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[request_id] = future
        message = {"op": op, "id": request_id}
        message.update(args)
        asyncio.ensure_future(self._send(msgpack.packb(message, use_bin_type=True), future))
        return future

    async def _send(self, data: bytes, future: asyncio.Future[dict[str, Any]]) -> None:
        try:
            await self._ws.send_bytes(data)
        except Exception as exc:  # surfaced to whoever awaits the reply
            if not future.done():
                future.set_exception(Closed(str(exc)))

    async def request(self, op: str, timeout: float = 30.0, **args: Any) -> dict[str, Any]:
        """Send one request; return its reply fields or raise RequestFailed."""
        reply = await asyncio.wait_for(self.submit(op, **args), timeout)
        if not reply.get("ok"):
            error = reply.get("error", {})
            raise RequestFailed(error.get("code", "?"), error.get("message", ""))
        return reply

    async def send_raw(self, data: bytes | str) -> None:
        """Send a frame as is (tests of malformed input)."""
        if isinstance(data, str):
            await self._ws.send_str(data)
        else:
            await self._ws.send_bytes(data)

    async def event(self, ev: str | None = None, timeout: float = 5.0) -> dict[str, Any]:
        """The next event (of kind `ev` when given, skipping others)."""
        async with asyncio.timeout(timeout):
            while True:
                event = await self.events.get()
                if ev is None or event.get("ev") == ev:
                    return event

    def drain_events(self) -> list[dict[str, Any]]:
        """Every event received so far, without waiting."""
        out = []
        while not self.events.empty():
            out.append(self.events.get_nowait())
        return out

    async def wait_closed(self, timeout: float = 5.0) -> int | None:
        if self._reader is not None:
            await asyncio.wait_for(asyncio.shield(self._reader), timeout)
        return self.close_code

    async def close(self) -> None:
        await self._ws.close()
        if self._reader is not None:
            await asyncio.gather(self._reader, return_exceptions=True)
        await self._http.close()

    async def __aenter__(self) -> Client:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
