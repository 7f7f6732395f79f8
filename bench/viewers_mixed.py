"""Load: 1,000 concurrent viewers on loopback doing mixed work for a bounded time: each
moves, looks, says and rezzes (temporary entities, within the visitor role's quotas) about
twice a second, waiting for every reply. Viewers stand spread over a 1 km square and use
the `interest` extension (radius 50 m), as a real viewer would. The figures: requests
answered, errors and lost replies (both must be 0), and latency p50/p99 per op and overall
(send to reply, measured by the client).

    python bench/viewers_mixed.py [--quick] [--viewers N] [--seconds S]   # quick: 100, 5 s
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import random
import time
from typing import Any

from _harness import (
    HOST,
    Report,
    Server,
    cpu_seconds,
    pct,
    permissions_text,
    raise_failed,
    stop_processes,
    temp_dir,
)
from _wsraw import Conn, is_reply, reply_id, reply_ok

PROCS = 2  # load-generating processes
RATE = 2.0  # requests a second per viewer (exponential think time)
SIDE = 1000.0  # metres: the square the viewers stand in
INTEREST = 50.0
OPS = [("move", 0.35), ("look", 0.30), ("say", 0.15), ("rez", 0.20)]


def pick(rng: random.Random) -> str:
    roll, acc = rng.random(), 0.0
    for op, share in OPS:
        acc += share
        if roll < acc:
            return op
    return OPS[-1][0]


async def viewers(port: int, count: int, seed: int, start_at: float, end_at: float
                  ) -> dict[str, Any]:  # fmt: skip
    from domainserver.client import Identity

    conns: list[Conn] = []
    for i in range(count):
        conn = await Conn.open(HOST, port)
        await conn.handshake(Identity.generate(), name=f"v{seed}-{i}", features=["interest"],
                             interest_radius=INTEREST)  # fmt: skip
        conns.append(conn)
    samples: dict[str, list[float]] = {op: [] for op, _ in OPS}
    errors: dict[str, int] = {}
    lost = [0]
    closed = [0]
    events = [0]

    async def one(k: int, conn: Conn) -> None:
        rng = random.Random(seed * 100_003 + k)
        home = [rng.uniform(0, SIDE), rng.uniform(0, SIDE), 0.0]
        pending: dict[int, tuple[asyncio.Future[bool], float]] = {}

        async def reader() -> None:
            try:
                while True:
                    for p in await conn.read_frames():
                        if not is_reply(p):
                            events[0] += 1
                            continue
                        i, off = reply_id(p)
                        fut, _ = pending.pop(i, (None, 0.0))
                        if fut is not None and not fut.done():
                            fut.set_result(reply_ok(p, off))
            except ConnectionError:
                closed[0] += 1
                for fut, _ in pending.values():
                    if not fut.done():
                        fut.set_exception(ConnectionError("closed"))

        task = asyncio.create_task(reader())
        loop = asyncio.get_running_loop()
        rid = 1
        await asyncio.sleep(max(0.0, start_at - time.monotonic()) + rng.random() / RATE)
        try:
            while time.monotonic() < end_at:
                op = pick(rng)
                spot = [home[0] + rng.uniform(-10, 10), home[1] + rng.uniform(-10, 10), 0.0]
                fut: asyncio.Future[bool] = loop.create_future()
                t = time.monotonic()
                pending[rid] = (fut, t)
                if op == "move":
                    conn.request(rid, "move", position=spot)
                elif op == "look":
                    conn.request(rid, "look", center=spot, radius=20.0, limit=50)
                elif op == "say":
                    conn.request(rid, "say", text="hello there")
                else:  # at most ~0.4 a second each, living 20 s: far inside 10/s and 50
                    conn.request(rid, "rez", entity={"type": "box", "position": spot,
                                                     "lifetime": 20.0})  # fmt: skip
                rid += 1
                try:
                    ok = await asyncio.wait_for(fut, 30)
                except (TimeoutError, ConnectionError):
                    lost[0] += 1
                    break
                samples[op].append(time.monotonic() - t)
                if not ok:
                    errors[op] = errors.get(op, 0) + 1
                await asyncio.sleep(rng.expovariate(RATE))
        finally:
            task.cancel()

    await asyncio.gather(*(one(k, c) for k, c in enumerate(conns)))
    for c in conns:
        c.close()
    return {"samples": samples, "errors": errors, "lost": lost[0], "closed": closed[0],
            "events": events[0], "viewers": count}  # fmt: skip


def worker(args: tuple, queue: Any) -> None:
    try:
        queue.put(asyncio.run(viewers(*args)))
    except BaseException as exc:  # reported by the parent
        import traceback

        queue.put({"error": repr(exc), "trace": traceback.format_exc()})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100 viewers for 5 s")
    parser.add_argument("--viewers", type=int)
    parser.add_argument("--seconds", type=float)
    args = parser.parse_args()
    count, seconds = (100, 5.0) if args.quick else (1000, 20.0)
    count, seconds = args.viewers or count, args.seconds or seconds
    report = Report("viewers_mixed", args.quick)
    ctx = mp.get_context("spawn")
    with temp_dir("viewers") as tmp, Server.domain(tmp, permissions_text({})) as server:
        queue = ctx.Queue()
        # Connecting a thousand viewers takes a few seconds; the work starts together after.
        start_at = time.monotonic() + 5.0 + count / 150
        end_at = start_at + seconds
        per = [count // PROCS + (i < count % PROCS) for i in range(PROCS)]
        procs = [ctx.Process(target=worker, args=((server.port, n, i, start_at, end_at), queue))
                 for i, n in enumerate(per) if n]  # fmt: skip
        for p in procs:
            p.start()
        time.sleep(max(0.0, start_at - time.monotonic()))
        c0 = cpu_seconds(server.pid)
        time.sleep(max(0.0, end_at - time.monotonic()))
        cpu = (cpu_seconds(server.pid) - c0) / seconds
        results = [queue.get(timeout=end_at - time.monotonic() + 120) for _ in procs]
        stop_processes(procs)
    raise_failed(results)
    samples = {op: [s for r in results for s in r["samples"][op]] for op, _ in OPS}
    everything = [s for v in samples.values() for s in v]
    errors = sum(n for r in results for n in r["errors"].values())
    lost = sum(r["lost"] + r["closed"] for r in results)
    report.figure("viewers connected", sum(r["viewers"] for r in results), "",
                  baseline=f"{seconds:g} s of work, {RATE:g} requests/s each")
    report.figure("requests answered", len(everything), "",
                  baseline=f"{len(everything) / seconds:.0f}/s; server CPU {cpu:.2f} cores")
    report.figure("errors", errors, "", "0", errors == 0)
    report.figure("lost replies and dropped viewers", lost, "", "0", lost == 0)
    report.figure("all ops: p50", pct(everything, 0.5) * 1e3, "ms")
    report.figure("all ops: p99", pct(everything, 0.99) * 1e3, "ms")
    for op, _ in OPS:
        report.figure(f"{op}: p50 / p99", pct(samples[op], 0.5) * 1e3, "ms",
                      baseline=f"p99 {pct(samples[op], 0.99) * 1e3:.1f} ms, "
                               f"{len(samples[op])} requests")  # fmt: skip
    report.emit()


if __name__ == "__main__":
    main()
