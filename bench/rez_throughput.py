"""Rez throughput over the real WebSocket: pipelined rez requests (256 in flight per client)
through the full pipeline (auth, policy, stamping, index, durable commit, broadcast) of a real
`domainserver serve`, against a bare aiohttp WebSocket msgpack echo server fed the same frames
by the same clients in the same run. First the echo's throughput is measured with 1, 2 and 4
client processes; the comparison then uses the count where it levels off.

    python bench/rez_throughput.py [--quick] [--profile]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import time

from _harness import (
    Report,
    Server,
    cpu_seconds,
    identity_from_seed,
    permissions_text,
    stop_processes,
    temp_dir,
    thread_cpu_seconds,
)
from _load import pipelined_worker

WINDOW = 256


def run_clients(server: Server, seeds: list[bytes | None], kind: str, warmup: float,
                duration: float) -> dict:
    """Run one pipelined client process per seed; returns totals and the server's CPU share."""
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    barrier = ctx.Barrier(len(seeds) + 1)
    procs = [
        ctx.Process(target=pipelined_worker,
                    args=((server.port, s, kind, WINDOW, warmup, duration, barrier), queue))
        for s in seeds
    ]
    try:
        for p in procs:
            p.start()
        barrier.wait(120)
        time.sleep(warmup)
        cpu0, t0 = cpu_seconds(server.pid), time.monotonic()
        threads0 = thread_cpu_seconds(server.pid)
        time.sleep(duration)
        elapsed = time.monotonic() - t0
        cpu_share = (cpu_seconds(server.pid) - cpu0) / elapsed
        threads1 = thread_cpu_seconds(server.pid)
        by_thread = {k: (v - threads0.get(k, 0.0)) / elapsed for k, v in threads1.items()}
        results = [queue.get(timeout=120 + warmup + duration) for _ in procs]
    finally:
        stop_processes(procs)
    failed = [r["error"] for r in results if "error" in r]
    if failed:
        raise RuntimeError(f"client failed: {failed[0]}")
    replies = sum(r["replies"] for r in results)
    errors = sum(r["errors"] for r in results)
    kinds: dict[str, int] = {}
    for r in results:
        for k, v in r["error_kinds"].items():
            kinds[k] = kinds.get(k, 0) + v
    return {
        "rate": replies / duration,
        "errors": errors,
        "error_kinds": kinds,
        "events": sum(r["events"] for r in results),
        "p50": max(r["lat_p50"] for r in results),
        "p99": max(r["lat_p99"] for r in results),
        "cpu": cpu_share,
        "threads": by_thread,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 s per measurement, not 6")
    parser.add_argument("--profile", action="store_true",
                        help="run the domain server under cProfile (slower; for hotspots)")
    args = parser.parse_args()
    warmup, duration = (0.5, 2.0) if args.quick else (1.5, 6.0)
    report = Report("rez_throughput", args.quick)
    seeds = [os.urandom(32) for _ in range(4)]
    tokens = [identity_from_seed(s).token for s in seeds]

    with temp_dir("rez") as tmp:
        echo_rates: dict[int, float] = {}
        with Server.echo(tmp) as echo:
            for n in (1, 2, 4):
                r = run_clients(echo, [None] * n, "rez", warmup, duration)
                echo_rates[n] = r["rate"]
                report.figure(f"echo, {n} client process(es)", r["rate"], "req/s",
                              baseline=f"server CPU {r['cpu']:.2f} cores, "
                              f"p99 {r['p99'] * 1e3:.0f} ms")
        best = max(echo_rates.values())
        level = min(n for n, v in echo_rates.items() if v >= 0.95 * best)
        report.note(f"echo levels off at {level} client process(es) (within 5% of the best)")

        perms = permissions_text({t: "bench" for t in tokens})
        server = Server.domain(tmp, perms)
        if args.profile:
            prof = tmp / "server.prof"
            server.argv[1:1] = ["-m", "cProfile", "-o", str(prof)]
        with server:
            counts = sorted({1, level})
            rez: dict[int, dict] = {}
            for n in counts:
                r = rez[n] = run_clients(server, seeds[:n], "rez", warmup, duration)
                ratio = r["rate"] / echo_rates[n]
                report.figure(f"rez, {n} client process(es)", r["rate"], "req/s",
                              baseline=f"server CPU {r['cpu']:.2f} cores, p50 "
                              f"{r['p50'] * 1e3:.0f} ms p99 {r['p99'] * 1e3:.0f} ms")
                report.figure(f"rez / echo, {n} client process(es)", ratio, "x", ">= 0.5",
                              ratio >= 0.5)
                busy = sorted(r["threads"].items(), key=lambda kv: -kv[1])[:3]
                report.note("server CPU by thread (cores): "
                            + ", ".join(f"{k} {v:.2f}" for k, v in busy))
                if r["errors"]:
                    report.note(f"{r['errors']} rez refused: {r['error_kinds']}")
                report.figure(f"  events pushed per rez ({n} sessions)",
                              r["events"] / max(1.0, r["rate"] * duration), "frames")
        if args.profile:
            import pstats

            pstats.Stats(str(prof)).sort_stats("tottime").print_stats(25)
        room_log_cost(report, tmp, perms, seeds[:1], warmup, duration)
    report.emit()


def room_log_cost(report: Report, tmp, perms: str, seeds: list[bytes], warmup: float,
                  duration: float) -> None:
    """Rez with chat and rez logging on against off (docs/EVIDENCE.md), in this run: fresh
    servers, alternated on, off, three times each; each side's best taken (the others are
    printed: on a shared machine a run's worst says more about the neighbours)."""
    rates: dict[bool, list[float]] = {True: [], False: []}
    for round_ in range(3):
        for on in (True, False):
            flag = "true" if on else "false"
            env = {"DOMAINSERVER_LOG_CHAT": flag, "DOMAINSERVER_LOG_REZ": flag}
            work = tmp / f"log-{flag}-{round_}"
            work.mkdir()
            with Server.domain(work, perms, extra_env=env) as server:
                rates[on].append(run_clients(server, seeds, "rez", warmup, duration)["rate"])
    on, off = max(rates[True]), max(rates[False])
    report.figure("rez, room log on (1 client process)", on, "req/s",
                  baseline="runs " + ", ".join(f"{r:,.0f}" for r in rates[True]))
    report.figure("rez, room log off (1 client process)", off, "req/s",
                  baseline="runs " + ", ".join(f"{r:,.0f}" for r in rates[False]))
    report.figure("rez with the room log / without", on / off, "x", ">= 0.85", on / off >= 0.85)


if __name__ == "__main__":
    main()
