"""The published ban feed over a million bans: a delta of 100 changes (`?since=SERIAL`)
against the whole list in the same run, and the 304 answer to an unchanged ETag. Each
figure is the full `services.banfeed.publish` call: the read, the JSON and the signature.

    python bench/banfeed.py [--quick]     # quick: 10,000 bans
"""

from __future__ import annotations

import argparse
import asyncio
import random
import tempfile
import time
from pathlib import Path

from _harness import Report, median, per_call, random_tokens

from domainserver import ServerConfig
from domainserver.services.banfeed import publish
from domainserver.services.domain import Domain
from domainserver.store import Store
from domainserver.store import banfeed as banfeed_rows
from domainserver.store import bans as ban_rows
from permissions import BanList, FeedBans, FeedRule, decide, default_policy

CHANGES = 100


async def timed(fn, rounds: int) -> list[float]:
    samples = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        await fn()
        samples.append(time.perf_counter() - t0)
    return samples


async def run(n: int, quick: bool) -> None:
    report = Report("banfeed", quick)
    rng = random.Random(11)
    now = time.time()
    with tempfile.TemporaryDirectory() as tmp:
        db = str(Path(tmp) / "feed.db")
        store = Store.open(db, synchronous="NORMAL")
        tokens = random_tokens(rng, n)
        t0 = time.perf_counter()

        def seed(conn):
            ban_rows.save_many(conn, ((t, "r", "bench", now, None) for t in tokens))
            banfeed_rows.record_many(conn, ((t, None, False) for t in tokens))

        store.write_sync(seed)
        report.figure(f"seed {n:,} bans with their change log", time.perf_counter() - t0, "s")
        domain = Domain(ServerConfig(db_path=db), default_policy(), store)
        whole = await publish(domain)  # records the publication choice
        await asyncio.sleep(0.05)
        since = whole.serial
        lifted, added = rng.sample(tokens, CHANGES // 2), random_tokens(rng, CHANGES // 2)

        def change(conn):
            for t in lifted:
                banfeed_rows.lift(conn, t)
                ban_rows.delete(conn, t)
            for t in added:
                ban_rows.save(conn, t, "r", "bench", now, None)
                banfeed_rows.record(conn, t, True, None, False)

        store.write_sync(change)
        delta = await publish(domain, since)
        assert delta.body is not None and delta.body.count(b'"token"') == CHANGES
        rounds = 200
        d = await timed(lambda: publish(domain, since), rounds)
        report.figure(f"delta of {CHANGES} changes from {n:,} bans: median", median(d) * 1e3,
                      "ms", "< 10", median(d) * 1e3 < 10, f"{len(delta.body):,} bytes")  # fmt: skip

        async def whole_list():
            domain.published = None  # the baseline builds the document every time
            return await publish(domain)

        w = await timed(whole_list, 3 if n >= 1_000_000 else 10)
        report.figure(f"baseline: the whole list of {n:,} bans: median",
                      median(w) * 1e3, "ms", None, None,
                      f"{len((await whole_list()).body or b''):,} bytes")  # fmt: skip
        report.figure("whole list / delta", median(w) / median(d), "x")
        etag = delta.etag
        nm = await timed(lambda: publish(domain, since, etag), rounds)
        report.figure("unchanged ETag (304): median", median(nm) * 1e3, "ms", "< 10",
                      median(nm) * 1e3 < 10)  # fmt: skip
        cached = await timed(lambda: publish(domain), 20)
        report.figure("whole list again, cached: median", median(cached) * 1e3, "ms")
        store.close()
    admission(report, tokens, rng, now)
    report.emit()


def admission(report: Report, tokens: list[str], rng: random.Random, now: float) -> None:
    """The hello's ban check with a feed listing every token, against a bare set lookup."""
    feeds, local = FeedBans(), BanList()
    feeds.set_rule(FeedRule("big", "ban"))
    feeds.replace("big", dict.fromkeys(tokens))
    for name in ("a", "b"):  # two more subscriptions, listing nothing of these
        feeds.set_rule(FeedRule(name, "advisory", 1))
    sample = rng.sample(tokens, 1000) + random_tokens(rng, 1000)
    members: dict[str, str] = {}
    bare = set(tokens).__contains__
    base = per_call(bare, sample, rounds=20)
    got = per_call(lambda t: decide(t, now, local, feeds, members), sample, rounds=20)
    report.figure(f"hello ban check, 3 feeds, one listing {len(tokens):,}: median",
                  median(got) * 1e6, "µs", "< 5", median(got) * 1e6 < 5,
                  f"bare set lookup {median(base) * 1e6:.3f} µs")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10,000 bans")
    args = parser.parse_args()
    asyncio.run(run(10_000 if args.quick else 1_000_000, args.quick))


if __name__ == "__main__":
    main()
