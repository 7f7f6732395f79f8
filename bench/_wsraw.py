"""A lean WebSocket client for load generation: a raw socket, zero-mask frames, batch parsing.

The benchmarks measure the server, so the load generator must cost as little per frame as
possible; aiohttp's client costs several times more per frame than this on the same core.
It speaks the contract's framing (binary frames of one msgpack map) and answers pings.
"""

from __future__ import annotations

import asyncio
import base64
import os
from collections import deque
from collections.abc import Iterator
from typing import Any

import msgpack

__all__ = ["Conn", "frame", "frame_spans", "reply_id", "is_reply", "reply_ok", "ev_is"]

_ZERO_MASK = b"\0\0\0\0"
_RE = b"\xa2re"


def frame(payload: bytes, opcode: int = 2) -> bytes:
    """One client frame (FIN set, masked with the all-zero key, so the payload stays as is)."""
    n = len(payload)
    if n < 126:
        head = bytes((0x80 | opcode, 0x80 | n))
    elif n < 65536:
        head = bytes((0x80 | opcode, 0x80 | 126)) + n.to_bytes(2, "big")
    else:
        head = bytes((0x80 | opcode, 0x80 | 127)) + n.to_bytes(8, "big")
    return head + _ZERO_MASK + payload


def frame_spans(buf: bytearray) -> Iterator[tuple[int, int, int]]:
    """(opcode, payload start, payload end) of each whole server frame at the start of `buf`
    (unmasked, as a server sends them); the last end is how much the caller may consume."""
    n, i = len(buf), 0
    while n - i >= 2:
        b0, ln, j = buf[i], buf[i + 1] & 0x7F, i + 2
        if ln == 126:
            if n - j < 2:
                return
            ln, j = (buf[j] << 8) | buf[j + 1], j + 2
        elif ln == 127:
            if n - j < 8:
                return
            ln, j = int.from_bytes(buf[j : j + 8], "big"), j + 8
        if n - j < ln:
            return
        i = j + ln
        yield b0 & 0x0F, j, i


def is_reply(p: bytes) -> bool:
    """A reply map starts with the key "re" (the server and the echo both encode it first)."""
    return p[1:4] == _RE


def reply_id(p: bytes) -> tuple[int, int]:
    """(request id, offset after it) of a reply payload."""
    b = p[4]
    if b < 0x80:
        return b, 5
    if b == 0xCC:
        return p[5], 6
    if b == 0xCD:
        return int.from_bytes(p[5:7], "big"), 7
    if b == 0xCE:
        return int.from_bytes(p[5:9], "big"), 9
    if b == 0xCF:
        return int.from_bytes(p[5:13], "big"), 13
    return msgpack.unpackb(p)["re"], 0


def reply_ok(p: bytes, offset: int) -> bool:
    if offset == 0:
        return bool(msgpack.unpackb(p).get("ok"))
    return p[offset : offset + 4] == b"\xa2ok\xc3"


def ev_is(p: bytes, name: bytes) -> bool:
    """True when an event payload's first key is "ev" with value `name` (a fixstr)."""
    n = len(name)
    n = len(name)
    return p[1:4] == b"\xa2ev" and p[4] == 0xA0 | n and p[5 : 5 + n] == name


class Conn:
    """One raw WebSocket connection."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.buf = bytearray()
        self.pending: deque[bytes] = deque()
        self.close_code: int | None = None
        self.hello: dict[str, Any] = {}

    @classmethod
    async def open(cls, host: str, port: int, path: str = "/ws") -> Conn:
        reader, writer = await asyncio.open_connection(host, port, limit=1 << 22)
        key = base64.b64encode(os.urandom(16))
        writer.write(
            b"GET " + path.encode() + b" HTTP/1.1\r\nHost: " + f"{host}:{port}".encode()
            + b"\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " + key
            + b"\r\nSec-WebSocket-Version: 13\r\n\r\n"
        )
        head = await reader.readuntil(b"\r\n\r\n")
        if b" 101 " not in head.split(b"\r\n", 1)[0]:
            writer.close()
            raise ConnectionError(f"upgrade refused: {head[:80]!r}")
        return cls(reader, writer)

    def send(self, payload: bytes) -> None:
        self.writer.write(frame(payload))

    def send_many(self, payloads: list[bytes]) -> None:
        self.writer.write(b"".join([frame(p) for p in payloads]))

    def request(self, rid: int, op: str, **args: Any) -> None:
        msg = {"op": op, "id": rid}
        msg.update(args)
        self.send(msgpack.packb(msg, use_bin_type=True))

    def _parse(self) -> list[bytes]:
        buf = self.buf
        i = 0
        out: list[bytes] = []
        for op, j, i in frame_spans(buf):
            payload = bytes(buf[j:i])
            if op == 9:
                self.writer.write(frame(payload, 10))
            elif op == 8:
                self.close_code = int.from_bytes(payload[:2], "big") if len(payload) >= 2 else 1005
                break
            elif op in (1, 2):
                out.append(payload)
        if i:
            del buf[:i]
        return out

    async def read_frames(self) -> list[bytes]:
        """At least one data frame (payloads); raises ConnectionError once the socket closed."""
        if self.pending:
            out = list(self.pending)
            self.pending.clear()
            return out
        while True:
            if self.close_code is not None:
                raise ConnectionError(f"closed with {self.close_code}")
            data = await self.reader.read(1 << 18)
            if not data:
                self.close_code = self.close_code or 1006
                raise ConnectionError("connection lost")
            self.buf += data
            out = self._parse()
            if out:
                return out

    async def next_frame(self) -> bytes:
        if not self.pending:
            self.pending.extend(await self.read_frames())
        return self.pending.popleft()

    async def handshake(self, identity: Any = None, name: str = "bench",
                        **extra: Any) -> dict[str, Any]:
        """Answer the challenge (any key when `identity` is None, for the echo server);
        `extra` hello arguments ask for protocol extensions (features, interest_radius)."""
        challenge = msgpack.unpackb(await self.next_frame())
        if identity is None:
            key, sig = b"\0" * 32, b"\0" * 64
        else:
            key = identity.public_key
            sig = identity.sign(
                b"domainserver-hello/v1\n" + challenge["domain"].encode() + b"\n"
                + challenge["nonce"]
            )
        self.request(0, "hello", key=key, sig=sig, name=name, invisible=False, **extra)
        while True:
            p = await self.next_frame()
            if is_reply(p):
                reply = msgpack.unpackb(p)
                if not reply.get("ok"):
                    raise ConnectionError(f"hello refused: {reply.get('error')}")
                self.hello = reply
                return reply

    async def drain(self) -> None:
        await self.writer.drain()

    def close(self) -> None:
        try:
            self.writer.write(frame(b"\x03\xe8", 8))
        except Exception:
            pass
        self.writer.close()
