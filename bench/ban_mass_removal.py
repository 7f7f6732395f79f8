"""Ban of a token owning 100,000 entities while 100 viewers are connected: time until the
entities are removed and committed (the ban's reply, which the server sends after its commit)
and until every viewer has been told of all 100,000: first with contract v1 viewers (one
`entity_removed` each), then with viewers that asked for batched removals (`entities_removed`
naming up to 4,096 ids each).

The baseline in the same run is the floor the wire sets: the same viewers receiving the same
number of frames from the bare echo server is not comparable (it only answers), so instead
the report shows the frames the server had to push (entities x viewers) and its frame rate.

    python bench/ban_mass_removal.py [--quick]     # quick: 10,000 entities, 10 viewers
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import os
import random
import sqlite3
import time

from _harness import (
    HOST,
    Report,
    Server,
    cpu_seconds,
    healthz,
    identity_from_seed,
    median,
    permissions_text,
    raise_failed,
    seed_db,
    seed_rows,
    stop_processes,
    temp_dir,
)
from _load import worker
from _wsraw import Conn, is_reply

VIEWER_PROCS = 2


async def ban(port: int, seed: bytes, victim: str, db: str, timeout: float):
    """Send the ban; returns (sent, committed, replied, reply). Committed is when a separate
    SQLite reader first sees none of the victim's rows (WAL: it never blocks the writer)."""
    import msgpack

    conn = await Conn.open(HOST, port)
    await conn.handshake(identity_from_seed(seed), name="moderator")
    reader = sqlite3.connect(db, check_same_thread=False)

    def committed() -> float:
        while True:
            if reader.execute("SELECT 1 FROM entities WHERE owner = ? LIMIT 1",
                              (victim,)).fetchone() is None:
                return time.monotonic()
            time.sleep(0.01)

    t0 = time.monotonic()
    conn.request(1, "ban", token=victim, reason="bench")
    await conn.drain()
    try:
        async with asyncio.timeout(timeout):
            watch = asyncio.create_task(asyncio.to_thread(committed))
            while True:
                replies = [p for p in await conn.read_frames() if is_reply(p)]
                if replies:
                    t_reply = time.monotonic()
                    t_commit = await watch
                    return t0, t_commit, t_reply, msgpack.unpackb(replies[0])
    finally:
        conn.close()
        reader.close()


def phase(report: Report, n: int, viewers: int, timeout: float, batched: bool) -> None:
    """One server, `viewers` connected, a token owning `n` entities banned; its figures."""
    tag = "batched" if batched else "v1"
    mod_seed, victim_seed = os.urandom(32), os.urandom(32)
    moderator, victim = identity_from_seed(mod_seed).token, identity_from_seed(victim_seed).token
    rng = random.Random(4)
    others = [f"{rng.getrandbits(160):040x}"[:32] for _ in range(100)]

    with temp_dir("ban") as tmp:
        db = tmp / "domain.db"
        t0 = time.perf_counter()
        # The victim's entities plus a tenth as many of other owners', which must survive.
        seed_db(db, seed_rows(n + n // 10, lambda i: victim if i < n else others[i % 100],
                              rng, time.time()))
        report.figure(f"[{tag}] seeded {n:,} + {n // 10:,} entities (setup)",
                      time.perf_counter() - t0, "s")
        server = Server.domain(tmp, permissions_text({moderator: "moderator"}), db=str(db))
        ctx = mp.get_context("spawn")
        queue = ctx.Queue()
        barrier = ctx.Barrier(VIEWER_PROCS + 1)
        procs = []
        watcher = "count_removed_batched" if batched else "count_removed"
        with server.start(timeout=300):
            try:
                per = [viewers // VIEWER_PROCS + (i < viewers % VIEWER_PROCS)
                       for i in range(VIEWER_PROCS)]
                for k in per:
                    p = ctx.Process(target=worker, args=(
                        watcher, (server.port, k, n, barrier, timeout), queue))
                    p.start()
                    procs.append(p)
                barrier.wait(300)
                before = healthz(server.port)
                cpu0 = cpu_seconds(server.pid)
                t_send, t_commit, t_reply, reply = asyncio.run(
                    ban(server.port, mod_seed, victim, str(db), timeout))
                results = [queue.get(timeout=timeout + 60) for _ in procs]
                cpu_used = cpu_seconds(server.pid) - cpu0
                after = healthz(server.port)
            finally:
                stop_processes(procs)
        raise_failed(results)
        with sqlite3.connect(db) as conn:
            left = conn.execute("SELECT count(*) FROM entities WHERE owner = ?",
                                (victim,)).fetchone()[0]
            kept = conn.execute("SELECT count(*) FROM entities").fetchone()[0]

    done = [d for r in results for d in r["done"]]
    got = [g for r in results for g in r["got"]]
    firsts = [f for r in results for f in r["first"] if f is not None]
    told = [d - t_send for d in done if d is not None]
    complete = len(told)
    commit_s = t_commit - t_send
    all_told = max(told) if complete == viewers else float("nan")
    if not reply.get("ok") or reply.get("removed") != n:
        report.note(f"[{tag}] unexpected ban reply: {reply}")
    report.figure(f"[{tag}] removed (ban reply)", reply.get("removed", 0), "entities")
    report.figure(f"[{tag}] entities in world before / after", before["entities"], "",
                  baseline=f"after: {after['entities']:,}")
    report.figure(f"[{tag}] rows of the victim left in SQLite after stop", left, "rows",
                  baseline=f"{kept:,} other rows kept")
    report.figure(f"[{tag}] ban -> removed + committed (seen by a SQLite reader)", commit_s,
                  "s", "< 2", commit_s < 2)
    report.figure(f"[{tag}] ban -> moderator reply (after its own events)",
                  t_reply - t_send, "s")
    if firsts:
        report.figure(f"[{tag}] ban -> first removal event at a viewer",
                      min(firsts) - t_send, "s")
    report.figure(f"[{tag}] ban -> median viewer told everything", median(told), "s")
    target = 0.3 if batched else 2.0
    report.figure(f"[{tag}] ban -> every viewer told ({complete}/{viewers} complete)",
                  all_told, "s", f"< {target:g}", complete == viewers and all_told < target)
    if complete < viewers:
        report.note(f"[{tag}] viewers incomplete: ids received {sorted(got)[:5]}... of {n:,}")
    if complete == viewers and not batched:
        frames = n * viewers
        report.figure("[v1] frames pushed (entities x viewers) per second", frames / all_told,
                      "frames/s", baseline=f"{frames:,} frames")
    report.figure(f"[{tag}] server CPU during the ban", cpu_used, "s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10,000 entities, 10 viewers")
    parser.add_argument("--entities", type=int, help="entities of the banned token")
    parser.add_argument("--viewers", type=int, help="viewers connected")
    args = parser.parse_args()
    n, viewers = (10_000, 10) if args.quick else (100_000, 100)
    n, viewers = args.entities or n, args.viewers or viewers
    timeout = 120.0 if args.quick else 900.0
    report = Report("ban_mass_removal", args.quick)
    # Contract v1 viewers (one entity_removed per entity), then, as the comparison in the
    # same run, viewers that asked for batched removals (docs/PROTOCOL_NOTES.md).
    phase(report, n, viewers, timeout, batched=False)
    phase(report, n, viewers, timeout, batched=True)
    report.emit()


if __name__ == "__main__":
    main()
