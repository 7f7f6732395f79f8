"""The scaling table of docs/PERFORMANCE.md, from one run: the entity benchmarks (restart,
find_owner, ban_mass_removal) at 10k, 100k and 1M entities, then the capacity benchmark at
100, 300 and 1,000 viewers, each run as its own process exactly as `run_all` runs it; the
figures are read from their BENCH-JSON lines and printed as two markdown tables.

    python bench/scaling.py                    # about 15 minutes on 2 cores
    python bench/scaling.py --entities 10000,100000 --viewers 100   # a part of it
    python bench/scaling.py --json out.json    # every bench's rows as well
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
MARK = "BENCH-JSON: "

# (benchmark, label prefix, how the cell shows it)
ENTITY_ROWS = [
    (
        "restart",
        "server start to /healthz, from the snapshot",
        "start to /healthz from the snapshot (after a clean stop)",
    ),
    (
        "restart",
        "server start to /healthz, from the database",
        "start to /healthz from the database (after a crash)",
    ),
    (
        "restart",
        "server start to /healthz, empty db",
        "start to /healthz, empty database (same run)",
    ),
    (
        "restart",
        "clean stop (SIGTERM) writing the snapshot",
        "clean stop, writing the snapshot",
    ),
    (
        "restart",
        "memory per entity, server, from the snapshot",
        "memory per entity, from the snapshot (RSS over empty)",
    ),
    (
        "restart",
        "memory per entity, server, from the database",
        "memory per entity, from the database",
    ),
    (
        "restart",
        "database size per entity",
        "database size per entity",
    ),
    (
        "restart",
        "snapshot size per entity",
        "snapshot size per entity",
    ),
    (
        "find_owner",
        "find owner, limit 1000 (all of them): median",
        "find by owner, 1,000 entities, median",
    ),
    (
        "find_owner",
        "area r=20 m via moderation.find (sorted page): median",
        "find by area r = 20 m, median",
    ),
    (
        "ban_mass_removal",
        "[v1] ban -> removed + committed",
        "ban of N: removed and committed",
    ),
    (
        "ban_mass_removal",
        "[v1] ban -> every viewer told",
        "ban of N: all 100 v1 viewers told",
    ),
    (
        "ban_mass_removal",
        "[batched] ban -> removed + committed",
        "ban of N (fresh server): committed",
    ),
    (
        "ban_mass_removal",
        "[batched] ban -> every viewer told",
        "ban of N: all 100 batched viewers told",
    ),
]

VIEWER_ROWS = [
    ("reply p50 (all ops)", "reply p50"),
    ("reply p99 (all ops)", "reply p99"),
    ("answered within 10 s of the window's end", "answered in time"),
    ("events pushed per second", "events pushed / s"),
    ("server CPU", "server CPU (cores)"),
    ("  of which the event loop's thread", "event loop's thread (cores)"),
    ("server CPU per viewer", "server CPU per viewer"),
    ("load generators' share of the 2 cores", "load generators' share of 2 cores"),
]


def run(args: list[str], timeout: float) -> dict[str, Any]:
    """One benchmark process; its BENCH-JSON report (with its own output echoed)."""
    started = time.monotonic()
    out = subprocess.run([sys.executable, *args], capture_output=True, text=True,
                         timeout=timeout, cwd=HERE.parent)  # fmt: skip
    lines = [ln for ln in out.stdout.splitlines() if ln.startswith(MARK)]
    print("\n".join(ln for ln in out.stdout.splitlines() if not ln.startswith(MARK)))
    if out.returncode != 0 or not lines:
        raise SystemExit(f"{' '.join(args)} failed ({out.returncode}):\n{out.stderr[-3000:]}")
    report = json.loads(lines[-1][len(MARK) :])
    report["seconds"] = time.monotonic() - started
    return report


def value(report: dict[str, Any], prefix: str) -> dict[str, Any] | None:
    for row in report["rows"]:
        if row["label"].strip().startswith(prefix.strip()):
            return row
    return None


def cell(row: dict[str, Any] | None) -> str:
    if row is None:
        return "-"
    v, unit = row["value"], row["unit"]
    if unit == "s":
        text = f"{v:.2f} s" if v < 10 else f"{v:.1f} s"
    elif unit == "ms":
        text = f"{v:.3g} ms"
    elif unit in ("bytes", "%"):
        text = f"{v:,.0f} {'B' if unit == 'bytes' else '%'}"
    elif unit == "cores":
        text = f"{v:.2f}"
    else:
        text = f"{v:,.0f}" if abs(v) >= 100 else f"{v:.3g}"
        text += f" {unit}" if unit not in ("frames/s", "") else ""
    return f"**{text}**" if row.get("met") is False else text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entities", default="10000,100000,1000000")
    parser.add_argument("--viewers", default="100,300,1000")
    parser.add_argument("--json", help="write every report here")
    args = parser.parse_args()
    sizes = [int(x) for x in args.entities.split(",") if x]
    viewers = [int(x) for x in args.viewers.split(",") if x]
    reports: dict[str, Any] = {}
    started = time.monotonic()
    for n in sizes:
        for bench in ("restart", "find_owner", "ban_mass_removal"):
            extra = ["--viewers", "100"] if bench == "ban_mass_removal" else []
            print(f"== {bench} --entities {n:,}", flush=True)
            reports[f"{bench}:{n}"] = run([str(HERE / f"{bench}.py"), "--entities", str(n),
                                           *extra], timeout=3600)  # fmt: skip
    if viewers:
        print(f"== capacity --sizes {args.viewers}", flush=True)
        reports["capacity"] = run([str(HERE / "capacity.py"), "--sizes", args.viewers],
                                  timeout=3600)  # fmt: skip
    total = time.monotonic() - started

    print(f"\n### Entities ({', '.join(f'{n:,}' for n in sizes)})\n")
    print("| figure | " + " | ".join(f"{n:,}" for n in sizes) + " |")
    print("|---|" + "---|" * len(sizes))
    for bench, prefix, title in ENTITY_ROWS:
        cells = [cell(value(reports[f"{bench}:{n}"], prefix)) for n in sizes]
        print(f"| {title} | " + " | ".join(cells) + " |")
    if viewers:
        cap = reports["capacity"]
        cols = [(n, mode) for mode in ("v1", "interest") for n in viewers]
        print("\n### Viewers\n")
        print("| figure | " + " | ".join(f"{n:,} {mode}" for n, mode in cols) + " |")
        print("|---|" + "---|" * len(cols))
        for prefix, title in VIEWER_ROWS:
            cells = [cell(value(cap, f"N={n} {mode}: {prefix}")) for n, mode in cols]
            print(f"| {title} | " + " | ".join(cells) + " |")
    print(f"\nwhole run: {total / 60:.1f} min")
    if args.json:
        Path(args.json).write_text(json.dumps(reports, indent=1))


if __name__ == "__main__":
    main()
