"""Restart at world scale: 1,000,000 entities loaded back from SQLite, timed in process
(`Domain.load()`) and as the real server's start-up until /healthz answers, first from the
database (no snapshot, as after a crash), then from the snapshot its clean stop wrote,
against the same server starting on an empty database in the same run; memory per entity
from RSS deltas.

The seeded world is a realistic mix: 10,000 owners, 2 km x 2 km x 100 m, one entity in ten
temporary (due in a day), one in ten with small props, one in twenty scripted.

    python bench/restart.py [--quick] [--profile]     # quick: 50,000 entities
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import subprocess
import sys
import time

from _harness import (
    Report,
    Server,
    make_entity,
    permissions_text,
    random_tokens,
    rss_bytes,
    seed_db,
    temp_dir,
)


def world_rows(n: int, owners: int, rng: random.Random, now: float):
    """Rows made by Entity.to_row() once per shape, then varied in id, owner and place."""
    tokens = random_tokens(rng, owners)
    shapes = [
        make_entity("x", "o", (0.0, 0.0, 0.0), now - 3600.0, expires_at=now + 86400.0),
        make_entity("x", "o", (0.0, 0.0, 0.0), now - 3600.0, props={"color": "red", "n": 1}),
        make_entity("x", "o", (0.0, 0.0, 0.0), now - 3600.0,
                    script="https://scripts.example/door.js"),
        make_entity("x", "o", (0.0, 0.0, 0.0), now - 3600.0),
    ]
    templates = [e.to_row() for e in shapes]
    u = rng.random
    for i in range(n):
        # one in ten temporary (due in a day), one in ten with props, one in twenty scripted
        t = templates[0 if i % 10 == 0 else 1 if i % 10 == 1 else 2 if i % 20 == 2 else 3]
        owner = tokens[i % owners]
        expires = t[12] + i * 0.01 if t[12] is not None else None
        yield (f"{rng.getrandbits(64):016x}", owner, owner, None, t[4],
               u() * 2000.0, u() * 2000.0, u() * 100.0, *t[8:12], expires, *t[13:])


def child(db: str, profile: bool) -> None:
    """In a fresh interpreter: open the store and time Domain.load()."""
    from domainserver.config import ServerConfig
    from domainserver.services.domain import Domain
    from domainserver.services.loading import load
    from domainserver.store import Store
    from domainserver.store import entities as entity_rows
    from entities import Entity
    from permissions import default_policy

    store = Store.open(db)
    # The parts of a load, each over the whole table: SQLite alone, then rows to Entity.
    t0 = time.perf_counter()
    rows = store.read(lambda c: sum(1 for _ in entity_rows.load_all(c)))
    read_s = time.perf_counter() - t0
    cache: dict = {}
    t0 = time.perf_counter()
    store.read(lambda c: sum(1 for r in entity_rows.load_all(c) if Entity.from_row(r, cache)))
    build_s = time.perf_counter() - t0
    domain = Domain(ServerConfig(db_path=db), default_policy(), store)
    gc.collect()
    rss0 = rss_bytes()
    t0 = time.perf_counter()
    if profile:
        import cProfile
        import pstats

        prof = cProfile.Profile()
        prof.enable()
        loaded = load(domain)
        prof.disable()
        pstats.Stats(prof, stream=sys.stderr).sort_stats("tottime").print_stats(15)
    else:
        loaded = load(domain)
    load_s = time.perf_counter() - t0
    gc.collect()
    print(json.dumps({"load_s": load_s, "rss_delta": rss_bytes() - rss0, "loaded": loaded,
                      "read_s": read_s, "build_s": build_s, "rows": rows}))
    store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="50,000 entities")
    parser.add_argument("--profile", action="store_true", help="cProfile Domain.load()")
    parser.add_argument("--entities", type=int, help="world size")
    parser.add_argument("--child", metavar="DB", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.profile)
        return
    n = args.entities or (50_000 if args.quick else 1_000_000)
    report = Report("restart", args.quick)
    with temp_dir("restart") as tmp:
        db = tmp / "world.db"
        t0 = time.perf_counter()
        seeded = seed_db(db, world_rows(n, 10_000, random.Random(7), time.time()))
        report.figure(f"seeded {seeded:,} rows (bench setup)", time.perf_counter() - t0, "s")
        report.figure("database size per entity", db.stat().st_size / n, "bytes")

        out = subprocess.run(
            [sys.executable, __file__, "--child", str(db)]
            + (["--profile"] if args.profile else []),
            capture_output=True, text=True, timeout=600, check=True,
        )
        if args.profile:
            print(out.stderr)
        res = json.loads(out.stdout.strip().splitlines()[-1])
        load_s = res["load_s"]
        report.figure("Domain.load() in process", load_s, "s", "< 10 (at 1M)",
                      load_s < 10 * n / 1_000_000)
        report.figure("Domain.load() rate", n / load_s, "ent/s")
        read_s, build_s = res["read_s"], res["build_s"]
        report.figure("  part: SQLite SELECT of every row", read_s, "s")
        report.figure("  part: SELECT + Entity.from_row", build_s,
                      "s", baseline=f"{build_s - read_s:.2f} s over the read")
        report.figure("  part: World indexing (rest of load)",
                      load_s - build_s, "s")
        report.figure("memory per entity, in process (RSS delta)", res["rss_delta"] / n, "bytes",
                      "< 1024 (at 1M)", res["rss_delta"] / n < 1024 if n == 1_000_000 else None)

        perms = permissions_text({})
        with Server.domain(tmp, perms, db=str(tmp / "empty.db")) as empty:
            empty_s, empty_rss = empty.startup_s, rss_bytes(empty.pid)
        full_size = n == 1_000_000
        # First start: no snapshot (as after a crash); its clean stop writes one.
        full = Server.domain(tmp, perms, db=str(db)).start(timeout=600)
        full_s, full_rss = full.startup_s, rss_bytes(full.pid)
        t0 = time.perf_counter()
        full.stop()
        stop_s = time.perf_counter() - t0
        snap = db.with_name(db.name + ".snapshot")
        snap_size = snap.stat().st_size if snap.exists() else 0
        # Second start: from the snapshot the clean stop left.
        with Server.domain(tmp, perms, db=str(db)).start(timeout=600) as again:
            snap_s, snap_rss = again.startup_s, rss_bytes(again.pid)
            from_snapshot = "'world_from': 'snapshot'" in again.tail(100)
        report.figure("server start to /healthz, empty db (baseline)", empty_s, "s")
        report.figure("server start to /healthz, from the database (no snapshot)", full_s, "s",
                      baseline=f"{full_s - empty_s:.2f} s over empty")
        report.figure("server start to /healthz, from the snapshot", snap_s, "s", "< 3 (at 1M)",
                      snap_s < 3 if full_size else None,
                      f"{snap_s - empty_s:.2f} s over empty; "
                      f"{full_s / snap_s:.1f}x faster than the database")
        if not from_snapshot:
            report.note("the second start did NOT read the snapshot (see its log)")
        report.figure("clean stop (SIGTERM) writing the snapshot", stop_s, "s")
        report.figure("snapshot size per entity", snap_size / n, "bytes")
        for how, rss in (("from the database", full_rss), ("from the snapshot", snap_rss)):
            per_entity = (rss - empty_rss) / n
            report.figure(f"memory per entity, server, {how}", per_entity,
                          "bytes", "<= 763 (at 1M)", per_entity <= 763 if full_size else None)
    report.emit()


if __name__ == "__main__":
    main()
