"""What one visitor's reads and mutes cost the loop (issue 15), against the way it was done
before, in the same run: a `look` page over 200,000 entities in its radius (nearest-first
grid walk vs. sorting everything in range), and 5,000 area mutes (the grid index vs. a
list scanned for every delivered event).

    python bench/reads_and_mutes.py [--quick]     # quick: 50,000 entities, 1,000 mutes
"""

from __future__ import annotations

import argparse
import random
import time

from _harness import Report, make_entity, median, timed

from entities import MuteSet, MuteTarget, World


def median_time(fn, reps: int) -> float:
    return median(timed(fn, reps))


def sort_all_page(world, center, radius, limit, after):
    """The look of before: every entity in range, sorted, on every page."""
    ranked = sorted((e.distance2(center), e.id, e) for e in world.in_area(center, radius))
    if after is not None:
        ranked = [r for r in ranked if (r[0], r[1]) > after]
    page = ranked[:limit]
    return page, ((page[-1][0], page[-1][1]) if len(ranked) > limit else None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="50,000 entities, 1,000 mutes")
    args = parser.parse_args()
    n, mutes_n = (50_000, 1_000) if args.quick else (200_000, 5_000)
    report = Report("reads_and_mutes", args.quick)
    rng = random.Random(7)
    now = time.time()
    side = 350.0  # n entities in a 350 m square, 20 m high: all within a 256 m look
    world = World()
    world.load(make_entity(f"{i:016x}", "a" * 32,
                           (rng.random() * side, rng.random() * side, rng.random() * 20.0), now)
               for i in range(n))  # fmt: skip
    center, radius, limit = (side / 2, side / 2, 10.0), 256.0, 200
    first = median_time(lambda: world.nearest(center, radius, limit), 20)
    old_first = median_time(lambda: sort_all_page(world, center, radius, limit, None), 3)
    # Page 50: what a client paging out to the edge pays per page.
    after = None
    for _ in range(49):
        _, after, _ = world.nearest(center, radius, limit, after)
    far = median_time(lambda: world.nearest(center, radius, limit, after), 20)
    examined = world.nearest(center, radius, limit, after)[2]
    report.figure(f"look page of {limit}, {n:,} in range: first page", first * 1e3, "ms",
                  baseline=f"sort-all {old_first * 1e3:.1f} ms")  # fmt: skip
    report.figure("look page 50 (10,000 entities out)", far * 1e3, "ms",
                  baseline=f"{examined:,} entities read; sort-all {old_first * 1e3:.1f} ms")
    report.figure("look: sort-all / nearest-first, first page", old_first / first, "x")

    targets = [
        MuteTarget.from_wire({"area": {"center": [rng.random() * 1000, rng.random() * 1000, 0],
                                       "radius": rng.random() * 20}})
        for _ in range(mutes_n)
    ]  # fmt: skip
    t0 = time.perf_counter()
    mutes = MuteSet()
    for target in targets:
        mutes.add(target)
    add_s = time.perf_counter() - t0
    events = [make_entity(f"e{i}", "b" * 32, (rng.random() * 1000, rng.random() * 1000, 0.0),
                          now) for i in range(5_000)]  # fmt: skip
    areas = [(t.value[0], t.value[1] ** 2) for t in targets]

    def scan(e):
        return any(e.distance2(c) <= r2 for c, r2 in areas)

    per_event = median_time(lambda: [mutes.hides_entity(e) for e in events], 5) / len(events)
    per_event_scan = median_time(lambda: [scan(e) for e in events], 1) / len(events)
    assert [mutes.hides_entity(e) for e in events] == [scan(e) for e in events]
    report.figure(f"add {mutes_n:,} area mutes", add_s * 1e3, "ms")
    report.figure("area mutes: judging one delivered event", per_event * 1e6, "µs",
                  baseline=f"scanning them all {per_event_scan * 1e6:.0f} µs")
    report.emit()


if __name__ == "__main__":
    main()
