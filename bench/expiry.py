"""Expiry at scale: 1,000,000 temporary entities pending in a real server. Idle CPU while none
is due soon (utime + stime from /proc over 10 s), then lateness of removal (time a viewer
receives `entity_removed` minus the entity's deadline) while they fall due at 5,000 a second.

The baseline in the same run is the same server idle with an empty world.

    python bench/expiry.py [--quick]     # quick: 10,000 entities, 3 s idle, 1,000 due a second
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import random
import sqlite3
import time

from _harness import (
    Report,
    Server,
    cpu_seconds,
    median,
    pct,
    permissions_text,
    seed_db,
    seed_rows,
    temp_dir,
)
from _load import worker


def idle_share(server: Server, seconds: float) -> float:
    c0, t0 = cpu_seconds(server.pid), time.monotonic()
    time.sleep(seconds)
    return (cpu_seconds(server.pid) - c0) / (time.monotonic() - t0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10,000 entities")
    args = parser.parse_args()
    if args.quick:
        n, rate, idle_s, watch_s, lead = 10_000, 1_000.0, 3.0, 4.0, 7.0
    else:
        n, rate, idle_s, watch_s, lead = 1_000_000, 5_000.0, 10.0, 20.0, 60.0
    step = 1.0 / rate
    report = Report("expiry", args.quick)
    rng = random.Random(6)
    owners = [f"owner{i:027d}" for i in range(1000)]
    with temp_dir("expiry") as tmp:
        perms = permissions_text({})
        with Server.domain(tmp, perms, db=str(tmp / "empty.db")) as empty:
            time.sleep(1.0)
            base_idle = idle_share(empty, idle_s)
        db = tmp / "domain.db"
        far = time.time() + 10 * 86400
        t0 = time.perf_counter()
        seed_db(db, seed_rows(n, lambda i: owners[i % 1000], rng, time.time(),
                              id_of=lambda i: f"{i:016x}", expires_of=lambda i: far + i * step))
        # Shift every deadline at once so the first falls due `lead` seconds from now: enough
        # for the server to load them all and for the idle measurement before it.
        base = time.time() + lead
        with sqlite3.connect(db) as conn:
            conn.execute("UPDATE entities SET expires_at = expires_at - ?", (far - base,))
        report.figure(f"seeded {n:,} temporary entities (setup)", time.perf_counter() - t0, "s")
        ctx = mp.get_context("spawn")
        queue = ctx.Queue()
        with Server.domain(tmp, perms, db=str(db)).start(timeout=lead) as server:
            report.figure("server start to /healthz", server.startup_s, "s")
            until = base + watch_s + 3.0
            watcher = ctx.Process(target=worker, args=(
                "watch_expiry", (server.port, base, step, until), queue))
            try:
                watcher.start()
                time.sleep(1.0)
                spare = base - time.time() - 0.5
                idle = idle_share(server, min(idle_s, spare))
                if spare < idle_s:
                    report.note(f"idle measured over {spare:.1f} s only (slow start-up)")
                result = queue.get(timeout=until - time.time() + 60)
            finally:
                watcher.join(10)
                if watcher.is_alive():
                    watcher.terminate()
    if "error" in result:
        raise RuntimeError(result["trace"])
    report.figure("idle CPU, empty world (baseline)", base_idle * 100, "% core")
    report.figure(f"idle CPU, {n:,} pending, none due", idle * 100, "% core", "< 2",
                  idle * 100 < 2)
    # Every entity due within the watched window, late or never seen (counted as missing).
    due = int(watch_s * rate)
    late = [x for x, d in zip(result["late"], result["due_in"], strict=True) if d < watch_s]
    seen = len(late)
    report.figure(f"removals watched (due in {watch_s:.0f} s at {rate:,.0f}/s)", seen, "",
                  baseline=f"{due:,} due")
    if late:
        worst = max(late)
        report.figure("lateness: median", median(late) * 1e3, "ms")
        report.figure("lateness: p99", pct(late, 0.99) * 1e3, "ms")
        report.figure("lateness: max", worst * 1e3, "ms", "< 1000",
                      worst < 1.0 and seen >= due * 0.99)
    if seen < due * 0.99:
        report.note(f"only {seen:,} of {due:,} due removals reached the viewer in time")
    report.emit()


if __name__ == "__main__":
    main()
