"""How fast grant_for decides, on a policy of 100,000 members and 1,000 groups, against a bare
dict lookup over the same tokens in the same run (so machines compare by ratio, not time).

    python bench/policy_decisions.py [--quick]     # quick: 10,000 members, 100 groups
"""

from __future__ import annotations

import argparse
import base64
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout

from _harness import per_call  # noqa: E402

from permissions import parse_policy  # noqa: E402


def _tokens(rng: random.Random, n: int) -> list[str]:
    return [base64.b32encode(rng.randbytes(20)).decode().lower() for _ in range(n)]


def build_text(rng: random.Random, members: int, groups: int) -> tuple[str, list[str]]:
    """A permissions file and the tokens to ask about (members, group members, strangers)."""
    member_tokens = _tokens(rng, members)
    grouped = _tokens(rng, groups * 20)
    lines = [
        '[domain]\nid = "bench"\naccess = "whitelist"',
        '[roles.builder]\nrez = "permanent"\nscripts = true\nrank = 10',
        '[roles.moderator]\nrez = "permanent"\ncaps = ["kick", "ban"]\nrank = 100',
        "[members]",
    ]
    lines += [f'"{t}" = "moderator"' for t in member_tokens]
    for g in range(groups):
        # every token is in two groups, and some members are in groups too
        chunk = grouped[g * 20 : g * 20 + 20] + grouped[((g + 1) % groups) * 20 :][:10]
        chunk.append(member_tokens[g])
        quoted = ", ".join(f'"{t}"' for t in chunk)
        role = "builder" if g % 2 else "visitor"
        lines.append(f'[groups.g{g}]\nrole = "{role}"\nmembers = [{quoted}]')
    lines.append('[rez]\nblacklist = ["group:g1"]\n[scripts]\nwhitelist = ["group:g3", "group:g5"]')
    asked = member_tokens[: len(grouped)] + grouped + _tokens(rng, len(grouped))
    rng.shuffle(asked)
    return "\n".join(lines), asked


def _figures(samples: list[float]) -> tuple[float, float, float]:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    median = statistics.median(ordered)
    return median * 1e6, p99 * 1e6, 1 / median


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10,000 members and 100 groups")
    args = parser.parse_args()
    members, groups = (10_000, 100) if args.quick else (100_000, 1_000)
    rng = random.Random(1)
    text, asked = build_text(rng, members, groups)

    t0 = time.perf_counter()
    policy = parse_policy(text, "bench.toml")
    load_s = time.perf_counter() - t0
    print(
        f"policy: {members:,} members, {groups:,} groups, {len(text) / 1e6:.1f} MB; "
        f"parsed and validated in {load_s:.2f} s"
    )

    rounds = 3 if args.quick else 2
    lookup = dict(policy.members)
    baseline = _figures(per_call(lookup.get, asked, 100, rounds))
    decided = _figures(per_call(policy.grant_for, asked, 100, rounds))
    creds = frozenset({"g7"})
    with_creds = _figures(per_call(lambda t: policy.grant_for(t, creds), asked, 100, rounds))
    print(f"{'':28}{'median µs':>10}{'p99 µs':>10}{'per s':>12}")
    for label, (med, p99, rate) in (
        ("baseline dict.get", baseline),
        ("grant_for", decided),
        ("grant_for + credential", with_creds),
    ):
        print(f"{label:28}{med:10.3f}{p99:10.3f}{rate:12,.0f}")
    print(f"grant_for / baseline: {decided[0] / baseline[0]:.1f}x (median per decision)")


if __name__ == "__main__":
    main()
