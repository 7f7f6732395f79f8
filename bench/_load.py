"""Load-generating worker processes: pipelined request streams over `_wsraw` connections.

Each worker is a separate process (multiprocessing, spawn) so the load generator gets its
own interpreter; results come back through a queue as plain dicts.
"""

from __future__ import annotations

import asyncio
import itertools
import random
import time
from typing import Any

import msgpack
from _harness import HOST, identity_from_seed, pct
from _wsraw import Conn, ev_is, is_reply, reply_id, reply_ok

_packb = msgpack.Packer(use_bin_type=True).pack


def rez_frames(seed: int, temporary: bool = False):
    """An endless stream of `rez` request builders: (id) -> frame bytes."""
    rng = random.Random(seed)
    positions = [[rng.random() * 2000.0, rng.random() * 2000.0, rng.random() * 100.0]
                 for _ in range(4096)]
    cycle = itertools.cycle(positions)
    entity_extra = {"lifetime": 30.0} if temporary else {}

    def make(rid: int) -> bytes:
        entity = {"type": "box", "position": next(cycle)}
        entity.update(entity_extra)
        return _packb({"op": "rez", "id": rid, "entity": entity})

    return make


def chat_frames():
    def make(rid: int) -> bytes:
        return _packb({"op": "say", "id": rid, "text": "spam spam spam spam spam"})

    return make


def look_frames(seed: int):
    """The widest, fullest `look` a visitor may ask, over and over (issue: look stalls)."""
    rng = random.Random(seed)

    def make(rid: int) -> bytes:
        center = [rng.random() * 200.0, rng.random() * 200.0, 10.0]
        return _packb({"op": "look", "id": rid, "center": center, "radius": 256.0,
                       "limit": 1000})

    return make


def mixed_frames(seed: int, temporary: bool):
    """Alternate rez and say, as a griefer would."""
    rez, chat = rez_frames(seed, temporary), chat_frames()

    def make(rid: int) -> bytes:
        return chat(rid) if rid % 2 else rez(rid)

    return make


async def pipelined(
    port: int,
    seed: bytes | None,
    kind: str,
    window: int,
    warmup: float,
    duration: float,
    barrier: Any,
    name: str = "bench",
) -> dict[str, Any]:
    """Keep `window` requests in flight for warmup + duration seconds; count what is measured."""
    conn = await Conn.open(HOST, port)
    await conn.handshake(None if seed is None else identity_from_seed(seed), name=name)
    salt = int.from_bytes((seed or b"\0")[:4], "big")
    make = {
        "rez": lambda: rez_frames(salt),
        "rez_temp": lambda: rez_frames(salt, temporary=True),
        "grief": lambda: mixed_frames(salt, temporary=True),
        "look": lambda: look_frames(salt),
    }[kind]()
    if barrier is not None:
        await asyncio.to_thread(barrier.wait, 120)
    rid = 1
    sent: dict[int, float] = {}
    t0 = time.monotonic()
    t_measure, t_end = t0 + warmup, t0 + warmup + duration
    frames = []
    for _ in range(window):
        frames.append(make(rid))
        sent[rid] = t0
        rid += 1
    conn.send_many(frames)
    replies = errors = events = 0
    lat: list[float] = []
    error_kinds: dict[str, int] = {}
    while sent:
        batch = await conn.read_frames()
        now = time.monotonic()
        new = 0
        for p in batch:
            if not is_reply(p):
                if t_measure <= now < t_end:
                    events += 1
                continue
            i, off = reply_id(p)
            t = sent.pop(i, None)
            if t is None:
                continue
            new += 1
            if t_measure <= now < t_end:
                replies += 1
                lat.append(now - t)
                if not reply_ok(p, off):
                    errors += 1
                    code = msgpack.unpackb(p).get("error", {}).get("code", "?")
                    error_kinds[code] = error_kinds.get(code, 0) + 1
        if now < t_end and new:
            frames = []
            for _ in range(new):
                frames.append(make(rid))
                sent[rid] = now
                rid += 1
            conn.send_many(frames)
            await conn.drain()
    conn.close()
    return {
        "replies": replies,
        "errors": errors,
        "error_kinds": error_kinds,
        "events": events,
        "duration": duration,
        "t_measure": t_measure,
        "t_end": t_end,
        "lat_p50": pct(lat, 0.5),
        "lat_p99": pct(lat, 0.99),
    }


def pipelined_worker(args: tuple, queue: Any) -> None:
    """multiprocessing target: run `pipelined(*args)` and put its dict (or the error) on queue."""
    try:
        queue.put(asyncio.run(pipelined(*args)))
    except BaseException as exc:  # reported by the parent
        queue.put({"error": repr(exc)})


# -- viewers -------------------------------------------------------------------------

REMOVED = b"entity_removed"
_MARK = bytes((0xA0 | len(REMOVED),)) + REMOVED


async def _connect_viewers(port: int, count: int, name: str, **extra: Any) -> list[Conn]:
    from domainserver.client import Identity

    conns = []
    for i in range(count):
        conn = await Conn.open(HOST, port)
        await conn.handshake(Identity.generate(), name=f"{name}{i}", **extra)
        conns.append(conn)
    return conns


_IDS_KEY = msgpack.packb("ids")


def ids_in_batch(frame: bytes) -> int:
    """How many ids an `entities_removed` frame names, read from the msgpack array header
    after its "ids" key: unpacking 4,096 id strings per frame for each of 50 viewers in a
    process would cost the load generator more CPU than the server spends sending them.
    (Ids are hex strings, so the key's bytes cannot occur inside one.)"""
    at = frame.index(_IDS_KEY) + len(_IDS_KEY)
    head = frame[at]
    if head & 0xF0 == 0x90:
        return head & 0x0F
    if head == 0xDC:
        return int.from_bytes(frame[at + 1 : at + 3], "big")
    if head == 0xDD:
        return int.from_bytes(frame[at + 1 : at + 5], "big")
    return len(msgpack.unpackb(frame)["ids"])


async def count_removed_batched(port: int, count: int, expected: int, barrier: Any,
                                timeout: float) -> dict[str, Any]:
    """Like `count_removed`, for viewers that asked for `batched_removals`: each counts the
    ids of the `entities_removed` events it receives."""
    conns = await _connect_viewers(port, count, "batched", features=["batched_removals"])
    await asyncio.to_thread(barrier.wait, 120)

    async def one(conn: Conn) -> tuple[float | None, int, float | None]:
        got, first = 0, None
        while got < expected:
            for p in await conn.read_frames():
                if ev_is(p, b"entities_removed"):
                    got += ids_in_batch(p)
                    first = first or time.monotonic()
        return time.monotonic(), got, first

    return await _each_told(conns, one, timeout, (TimeoutError, ConnectionError))


async def count_removed(port: int, count: int, expected: int, barrier: Any,
                        timeout: float) -> dict[str, Any]:
    """`count` viewers each wait for `expected` entity_removed events; returns when each got
    them (monotonic seconds), or what it had when `timeout` ran out or its socket closed."""
    conns = await _connect_viewers(port, count, "watcher")
    await asyncio.to_thread(barrier.wait, 120)

    async def one(conn: Conn) -> tuple[float | None, int, float | None]:
        # Counting the event name in the raw stream costs far less than parsing 100,000
        # frames per viewer, so the viewers are not what the figure measures. The name
        # cannot occur in anything else this viewer receives (no entity carries it).
        got = sum(1 for p in conn.pending if ev_is(p, REMOVED))
        conn.pending.clear()
        tail = bytes(conn.buf)
        conn.buf.clear()
        got += tail.count(_MARK)
        tail = tail[-(len(_MARK) - 1):]
        first = time.monotonic() if got else None
        rid, ping_at = 1, time.monotonic() + 5.0
        while got < expected:
            try:
                data = await asyncio.wait_for(conn.reader.read(1 << 18), 5.0)
            except TimeoutError:
                data = b""
            else:
                if not data:
                    return None, got, first
            now = time.monotonic()
            if now >= ping_at:  # any message from us keeps the server from pinging
                conn.request(rid, "whoami")
                rid, ping_at = rid + 1, now + 5.0
            if data:
                chunk = tail + data
                got += chunk.count(_MARK)
                tail = chunk[-(len(_MARK) - 1):]
                if first is None and got:
                    first = now
        return time.monotonic(), got, first

    return await _each_told(conns, one, timeout, (TimeoutError,))


async def _each_told(conns: list[Conn], one: Any, timeout: float,
                     gave_up: tuple[type[BaseException], ...]) -> dict[str, Any]:
    """Run `one` on every viewer at once; (done time, count, first event time) each, or
    (None, -1, None) for a viewer that hit `gave_up` first (`timeout` ran out, say)."""

    async def bounded(conn: Conn):
        try:
            return await asyncio.wait_for(one(conn), timeout)
        except gave_up:
            return None, -1, None

    done = await asyncio.gather(*(bounded(c) for c in conns))
    for c in conns:
        c.close()
    return {"done": [d[0] for d in done], "got": [d[1] for d in done],
            "first": [d[2] for d in done]}


# Where far, interest-managed viewers stand: well away from everything the benchmarks rez.
FAR_AWAY = [20_000.0, 20_000.0, 0.0]


async def ask_loop(port: int, count: int, rate: float, entity_ids: list[str], until: float,
                   barrier: Any, interest: float | None = None) -> dict[str, Any]:
    """`count` ordinary viewers, each asking whoami / get / look in turn at `rate` a second and
    waiting for each reply; returns (send time, latency) samples and events seen. With
    `interest`, they ask for interest management with that radius and stand FAR_AWAY."""
    extra: dict[str, Any] = {}
    if interest is not None:
        extra = {"features": ["interest"], "interest_radius": interest}
    conns = await _connect_viewers(port, count, "viewer", **extra)
    if interest is not None:
        for conn in conns:
            conn.request(1 << 30, "move", position=FAR_AWAY)
    if barrier is not None:
        await asyncio.to_thread(barrier.wait, 120)
    samples: list[tuple[float, float]] = []
    events = [0]
    closed = [0]

    async def one(k: int, conn: Conn) -> None:
        rng = random.Random(k)
        pending: dict[int, asyncio.Future[float]] = {}

        async def reader() -> None:
            try:
                while True:
                    for p in await conn.read_frames():
                        if is_reply(p):
                            i, _ = reply_id(p)
                            fut = pending.pop(i, None)
                            if fut is not None and not fut.done():
                                fut.set_result(time.monotonic())
                        else:
                            events[0] += 1
            except ConnectionError:
                closed[0] += 1
                for fut in pending.values():
                    if not fut.done():
                        fut.set_exception(ConnectionError("closed"))

        task = asyncio.create_task(reader())
        loop = asyncio.get_running_loop()
        rid = 1
        next_at = time.monotonic() + rng.random() / rate
        try:
            while next_at < until:
                await asyncio.sleep(max(0.0, next_at - time.monotonic()))
                which = rid % 3
                fut: asyncio.Future[float] = loop.create_future()
                pending[rid] = fut
                t = time.monotonic()
                if which == 0:
                    conn.request(rid, "whoami")
                elif which == 1:
                    conn.request(rid, "get", entity=rng.choice(entity_ids))
                else:
                    center = [rng.random() * 200.0, rng.random() * 200.0, rng.random() * 20.0]
                    conn.request(rid, "look", center=center, radius=10.0, limit=50)
                rid += 1
                try:
                    got = await asyncio.wait_for(fut, 30)
                except (TimeoutError, ConnectionError):
                    samples.append((t, float("inf")))
                    if task.done():
                        return
                else:
                    samples.append((t, got - t))
                next_at = max(next_at + 1.0 / rate, time.monotonic())
        finally:
            task.cancel()
            conn.close()

    await asyncio.gather(*(one(k, c) for k, c in enumerate(conns)))
    return {"samples": samples, "events": events[0], "closed": closed[0]}


async def watch_expiry(port: int, base: float, step: float, until: float) -> dict[str, Any]:
    """One viewer noting, for every `entity_removed` (reason expired), how late it arrived.

    Entity ids encode their deadline: id i (hex) is due at base + i * step (wall clock)."""
    conns = await _connect_viewers(port, 1, "clock")
    conn = conns[0]
    late: list[float] = []
    due_in: list[float] = []
    try:
        while time.time() < until:
            try:
                batch = await asyncio.wait_for(conn.read_frames(), max(0.1, until - time.time()))
            except TimeoutError:
                break
            now = time.time()
            for p in batch:
                if ev_is(p, REMOVED):
                    msg = msgpack.unpackb(p)
                    if msg.get("reason") == "expired":
                        offset = int(msg["id"], 16) * step
                        due_in.append(offset)
                        late.append(now - (base + offset))
    finally:
        conn.close()
    return {"late": late, "due_in": due_in}


def worker(fn_name: str, args: tuple, queue: Any) -> None:
    """multiprocessing target for the viewer coroutines above."""
    try:
        queue.put(asyncio.run(globals()[fn_name](*args)))
    except BaseException as exc:  # reported by the parent
        import traceback

        queue.put({"error": repr(exc), "trace": traceback.format_exc()})
