"""Admission against a million bans: `BanList.is_banned` for banned and non-banned tokens, the
memory each ban costs, and the whole hello path (signature, ban check, credentials, grant),
against a bare `token in set` over the same tokens in the same run.

    python bench/ban_admission.py [--quick]     # quick: 10,000 bans
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import sys
import time
import tracemalloc

from _harness import Report, median, pct, per_call, random_tokens, rss_bytes

from domainserver.wire.handshake import Hello, signed_message
from permissions import default_policy, verify_credentials
from permissions.banlist import BanList

TIMED_SHARE = 0.01  # one ban in a hundred has a duration (the rest are permanent)


def build(tokens: list[str], now: float) -> BanList:
    bans = BanList()
    bans.bulk_load(
        (t, now + 86400.0 if i % int(1 / TIMED_SHARE) == 0 else None) for i, t in enumerate(tokens)
    )
    return bans


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10,000 bans")
    args = parser.parse_args()
    n = 10_000 if args.quick else 1_000_000
    report = Report("ban_admission", args.quick)
    rng = random.Random(2)
    now = time.time()

    # Memory, two ways. RSS: the tokens are made here and only the ban list keeps them (the
    # server holds the strings it read from SQLite). tracemalloc: the list's own structures
    # traced on a second build over the same strings, plus the strings' own size.
    gc.collect()
    rss0 = rss_bytes()
    t0 = time.perf_counter()
    tokens = random_tokens(rng, n)
    made_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    bans = build(tokens, now)
    build_s = time.perf_counter() - t0
    del tokens
    gc.collect()
    rss_per_ban = (rss_bytes() - rss0) / n
    held = list(bans._tokens)  # noqa: SLF001 - the same strings, for the traced rebuild
    tracemalloc.start()
    again = build(held, now)
    structures, _peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del again
    strings = sum(map(sys.getsizeof, held)) / n
    traced_per_ban = structures / n + strings
    report.figure(f"tokens made ({n:,})", made_s, "s")
    report.figure(f"BanList.bulk_load ({n:,}, {TIMED_SHARE:.0%} timed)", build_s, "s")
    report.figure("memory per ban (tracemalloc: structures + token str)", traced_per_ban,
                  "bytes", "< 200", traced_per_ban < 200,
                  f"{structures / n:.0f} structures + {strings:.0f} str")
    report.figure("memory per ban (RSS delta)", rss_per_ban, "bytes", "< 200", rss_per_ban < 200)

    banned = rng.sample(held, min(n, 100_000))
    strangers = random_tokens(rng, len(banned))
    rounds = 5 if args.quick else 3
    bare = bans._tokens.__contains__  # noqa: SLF001 - the bare-set baseline

    def banned_check(t: str) -> bool:
        return bans.is_banned(t, now)

    base_s = per_call(bare, banned, 1000, rounds)
    hit_s = per_call(banned_check, banned, 1000, rounds)
    miss_s = per_call(banned_check, strangers, 1000, rounds)
    base_med = median(base_s)
    for label, samples in (("is_banned, banned token", hit_s), ("is_banned, not banned", miss_s)):
        med = median(samples) * 1e6
        report.figure(f"{label}: median", med, "µs", "< 2", med < 2,
                      f"{median(samples) / base_med:.1f}x bare set")
        report.figure(f"{label}: p99 (per 1000-call batch)", pct(samples, 0.99) * 1e6, "µs")
    report.figure("baseline `token in set`: median", base_med * 1e6, "µs")

    # The whole hello path, in process: Ed25519 verify, ban check, credentials, grant.
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    policy = default_policy()
    domain_id = policy.domain.id
    hellos = []
    for i in range(200 if args.quick else 2000):
        key = Ed25519PrivateKey.generate()
        nonce = os.urandom(32)
        raw = key.public_key().public_bytes(serialization.Encoding.Raw,
                                            serialization.PublicFormat.Raw)
        hellos.append(({"key": raw, "sig": key.sign(signed_message(domain_id, nonce)),
                        "name": f"v{i}", "invisible": False}, nonce))

    def verify_only(h) -> None:
        Hello.verify(h[0], domain_id, h[1])

    def full_hello(h) -> None:
        hello = Hello.verify(h[0], domain_id, h[1])
        if bans.is_banned(hello.token, now):
            raise RuntimeError("unexpected ban")
        groups = verify_credentials(policy, list(hello.credentials), hello.token, now)
        policy.grant_for(hello.token, groups)

    tokens = [Hello.verify(h[0], domain_id, h[1]).token for h in hellos]

    def no_crypto(t: str) -> None:
        if bans.is_banned(t, now):
            raise RuntimeError("unexpected ban")
        policy.grant_for(t, verify_credentials(policy, [], t, now))

    v = per_call(verify_only, hellos, 50, 2)
    f = per_call(full_hello, hellos, 50, 2)
    nc = per_call(no_crypto, tokens * 5, 100, 2)
    report.figure("hello path: Ed25519 verify only, median", median(v) * 1e6, "µs")
    report.figure("hello path: verify + ban + credentials + grant", median(f) * 1e6, "µs",
                  baseline=f"{median(f) / median(v):.2f}x verify alone")
    report.figure("hello path without crypto (ban + credentials + grant)", median(nc) * 1e6, "µs")
    report.figure("hellos per second per core (full path)", 1 / median(f), "/s")
    report.emit()


if __name__ == "__main__":
    main()
