"""Moderator queries at world scale: `find` by owner and by area over a World of 1,000,000
entities held by 10,000 owners, through the real `domainserver.services.moderation.find`, against
bare lookups on the same data in the same run (the set behind the index, a linear scan).

World: 2 km x 2 km x 100 m, positions uniform (about 84 entities in a 20 m sphere).

    python bench/find_owner.py [--quick]     # quick: 100,000 entities, 1,000 owners
"""

from __future__ import annotations

import argparse
import gc
import random
import time
from types import SimpleNamespace

from _harness import Report, make_entity, median, pct, random_tokens, rss_bytes, timed

from domainserver.services.moderation import FindQuery, find
from entities import World

EXTENT = (2000.0, 2000.0, 100.0)
BIG_OWNER = 1_000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100,000 entities, 1,000 owners")
    parser.add_argument("--entities", type=int, help="world size (owners: a hundredth of it)")
    args = parser.parse_args()
    n, owners = (100_000, 1_000) if args.quick else (1_000_000, 10_000)
    if args.entities:
        n, owners = args.entities, max(10, args.entities // 100)
    report = Report("find_owner", args.quick)
    rng = random.Random(3)
    tokens = random_tokens(rng, owners)
    big = tokens[0]
    now = time.time()

    def positions():
        u = rng.random
        return (u() * EXTENT[0], u() * EXTENT[1], u() * EXTENT[2])

    gc.collect()
    rss0 = rss_bytes()
    t0 = time.perf_counter()
    world = World()
    # The big owner holds BIG_OWNER entities; the rest are spread evenly over the others.
    ents = []
    for i in range(n):
        owner = big if i < BIG_OWNER else tokens[1 + i % (owners - 1)]
        ents.append(make_entity(f"{rng.getrandbits(64):016x}", owner, positions(), now))
    world.load(ents)
    del ents
    build_s = time.perf_counter() - t0
    gc.collect()
    report.figure(f"world built ({n:,} entities, {owners:,} owners)", build_s, "s")
    report.figure("memory per entity in World (RSS delta)", (rss_bytes() - rss0) / n, "bytes")

    domain = SimpleNamespace(world=world)
    q_owner = FindQuery(owner=big)
    reps = 200
    by_owner_100 = timed(lambda: find(domain, q_owner, 100, None), reps)
    by_owner_1000 = timed(lambda: find(domain, q_owner, 1000, None), reps)
    page, last = find(domain, q_owner, 1000, None)
    assert len(page) == BIG_OWNER and last is None, (len(page), last)
    bare = timed(lambda: sorted(world.owned_by(big)), reps)
    scan = timed(lambda: [e for e in world.all() if e.owner == big], 3)
    m100, m1000 = median(by_owner_100) * 1e3, median(by_owner_1000) * 1e3
    report.figure("find owner=<1,000 entities>, limit 100: median", m100, "ms", "< 1", m100 < 1,
                  f"{median(by_owner_100) / median(bare):.1f}x sorted(index set)")
    report.figure("find owner, limit 100: p99", pct(by_owner_100, 0.99) * 1e3, "ms")
    report.figure("find owner, limit 1000 (all of them): median", m1000, "ms", "< 1", m1000 < 1,
                  f"{median(by_owner_1000) / median(bare):.1f}x sorted(index set)")
    report.figure("find owner, limit 1000: p99", pct(by_owner_1000, 0.99) * 1e3, "ms")
    report.figure("baseline: sorted(owned_by set)", median(bare) * 1e3, "ms")
    report.figure("no index: linear scan of the world", median(scan) * 1e3, "ms")

    centers = [positions() for _ in range(500)]
    counts = [len(world.in_area(c, 20.0)) for c in centers]
    it = iter(centers * 3)
    area = timed(lambda: world.in_area(next(it), 20.0), 500)
    it2 = iter(centers * 3)
    area_find = timed(
        lambda: find(domain, FindQuery(area=(next(it2), 20.0)), 1000, None), 500
    )
    ma, mf = median(area) * 1e3, median(area_find) * 1e3
    report.figure(f"area r=20 m (World.in_area, ~{median(counts):.0f} found): median", ma, "ms",
                  "< 5", ma < 5)
    report.figure("area r=20 m: p99", pct(area, 0.99) * 1e3, "ms")
    report.figure("area r=20 m via moderation.find (sorted page): median", mf, "ms", "< 5",
                  mf < 5)
    report.figure("area r=20 m via moderation.find: p99", pct(area_find, 0.99) * 1e3, "ms")
    c = centers[0]
    r2 = 400.0
    area_scan = timed(lambda: [e for e in world.all() if e.distance2(c) <= r2], 3)
    report.figure("no index: linear scan for the sphere", median(area_scan) * 1e3, "ms")
    report.emit()


if __name__ == "__main__":
    main()
