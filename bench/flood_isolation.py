"""Flood isolation: 50 ordinary viewers doing request/reply work (whoami, get, look; 5 a second
each, waiting for every reply) while one griefer rezzes and chats as fast as it can (256
requests in flight). The baseline is the same viewers in the same run with no griefer; the
figure is the viewers' p99 latency with the griefer over without.

Three griefers are measured: one under the domain's visitor role (temporary rezzes, 10 a
second, 50 at most, 5 chat lines a second: the policy refuses most of the flood), one
holding a role with no rate limits (every rez accepted and broadcast to all 50 viewers),
and a visitor that floods the widest, fullest `look` it may ask (radius 256 m, pages of
1000, over the 20,000 entities of the viewers' square): its reads are charged to its
token's read budget. Beside the viewers in the square, as many viewers stand far away with
an interest radius (protocol extension `interest`): an event of the griefers never reaches
them, so their latency must not move.

    python bench/flood_isolation.py [--quick]     # quick: 10 viewers, 4 s phases
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import random
import time

from _harness import (
    Report,
    Server,
    cpu_seconds,
    identity_from_seed,
    median,
    pct,
    permissions_text,
    raise_failed,
    seed_db,
    seed_rows,
    stop_processes,
    temp_dir,
)
from _load import pipelined_worker, worker

VIEWER_PROCS = 2
INTEREST = 100.0  # metres: the far viewers' interest radius
RATE = 5.0  # requests a second per viewer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10 viewers, 4 s phases")
    args = parser.parse_args()
    viewers, phase = (10, 4.0) if args.quick else (50, 12.0)
    report = Report("flood_isolation", args.quick)
    rogue_seed, griefer_seed, looker_seed = os.urandom(32), os.urandom(32), os.urandom(32)
    rogue = identity_from_seed(rogue_seed).token
    rng = random.Random(5)
    ids = [f"{i:016x}" for i in range(20_000)]
    # the griefer's own entities and the viewers' looks land in the same 200 m square
    with temp_dir("flood") as tmp:
        db = tmp / "domain.db"
        seed_db(db, seed_rows(len(ids), lambda i: "domaincontent", rng, time.time(),
                              extent=(200.0, 200.0, 20.0), id_of=lambda i: ids[i]))
        perms = permissions_text({rogue: "bench"})
        ctx = mp.get_context("spawn")
        with Server.domain(tmp, perms, db=str(db)) as server:
            # warmup 1 s; baseline phase; then each griefer for a phase, a pause between
            start = time.monotonic() + 3.0
            plan = [("baseline", None, None, start + 1.0, start + 1.0 + phase)]
            t = start + 2.0 + phase
            for label, seed, kind in (("visitor-role griefer", griefer_seed, "grief"),
                                      ("unlimited-role griefer", rogue_seed, "grief"),
                                      ("look-flooding visitor", looker_seed, "look")):
                plan.append((label, seed, kind, t, t + phase))
                t += phase + 3.0
            until = t
            queue = ctx.Queue()
            far_queue = ctx.Queue()
            procs = []
            results = []
            gq = ctx.Queue()
            griefers = []
            try:
                per = [viewers // VIEWER_PROCS + (i < viewers % VIEWER_PROCS)
                       for i in range(VIEWER_PROCS)]
                for k in per:
                    p = ctx.Process(target=worker, args=(
                        "ask_loop", (server.port, k, RATE, ids, until, None), queue))
                    p.start()
                    procs.append(p)
                # The same number of viewers far from everything, with interest radii.
                p = ctx.Process(target=worker, args=(
                    "ask_loop", (server.port, viewers, RATE, ids, until, None, INTEREST),
                    far_queue))
                p.start()
                procs.append(p)
                cpu: dict[str, float] = {}
                for label, seed, kind, t0, t1 in plan:
                    if seed is not None:
                        g = ctx.Process(target=pipelined_worker, args=(
                            (server.port, seed, kind, 256, 0.0, phase, None, "griefer"), gq))
                        # the griefer connects ~0.5 s before its phase (spawn + handshake)
                        time.sleep(max(0.0, t0 - 1.0 - time.monotonic()))
                        g.start()
                        griefers.append((label, g))
                    time.sleep(max(0.0, t0 - time.monotonic()))
                    c0 = cpu_seconds(server.pid)
                    time.sleep(max(0.0, t1 - time.monotonic()))
                    cpu[label] = (cpu_seconds(server.pid) - c0) / (t1 - t0)
                    if seed is not None:
                        grief = gq.get(timeout=120)
                        if "error" in grief:
                            raise RuntimeError(grief["error"])
                        results.append((label, grief))
                viewer_results = [queue.get(timeout=until - time.monotonic() + 120)
                                  for _ in procs[:-1]]
                far_results = [far_queue.get(timeout=until - time.monotonic() + 120)]
            finally:
                stop_processes(procs + [g for _, g in griefers])
        raise_failed(viewer_results + far_results)

    samples = [s for r in viewer_results for s in r["samples"]]
    far_samples = [s for r in far_results for s in r["samples"]]
    far_base_p99 = float("nan")
    closed = sum(r["closed"] for r in viewer_results)
    grief_by_label = dict(results)
    base_p99 = float("nan")
    for label, seed, _kind, t0, t1 in plan:
        # samples sent during the phase (griefer phases: after its first second)
        lo = t0 if seed is None else t0 + 1.0
        lat = [lt for ts, lt in samples if lo <= ts < t1]
        p50, p99 = median(lat) * 1e3, pct(lat, 0.99) * 1e3
        far_lat = [lt for ts, lt in far_samples if lo <= ts < t1]
        far_p99 = pct(far_lat, 0.99) * 1e3
        if seed is None:
            far_base_p99 = far_p99
            report.figure(f"{label}: far interest viewers' p99", far_p99, "ms",
                          baseline=f"{len(far_lat)} requests")
        else:
            ratio_far = far_p99 / far_base_p99
            report.figure(f"{label}: far interest viewers' p99 with / without", ratio_far, "x",
                          "<= 2", ratio_far <= 2)
        if seed is None:
            base_p99 = p99
            report.figure(f"{label}: viewers' p50", p50, "ms", baseline=f"{len(lat)} requests")
            report.figure(f"{label}: viewers' p99", p99, "ms",
                          baseline=f"server CPU {cpu[label]:.2f} cores")
            continue
        ratio = p99 / base_p99
        g = grief_by_label[label]
        report.figure(f"{label}: viewers' p50", p50, "ms", baseline=f"{len(lat)} requests")
        report.figure(f"{label}: viewers' p99", p99, "ms",
                      baseline=f"server CPU {cpu[label]:.2f} cores")
        report.figure(f"{label}: p99 with / without", ratio, "x", "<= 2", ratio <= 2)
        ok = g["replies"] - g["errors"]
        report.figure(f"  {label}: requests answered", g["replies"] / g["duration"], "req/s",
                      baseline=f"{ok / g['duration']:,.0f}/s accepted, refused {g['error_kinds']}")
    if closed:
        report.note(f"{closed} viewer sockets were closed by the server")
    report.emit()


if __name__ == "__main__":
    main()
