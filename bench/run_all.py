"""Run every benchmark and print one summary table of its figures against their targets.

    python bench/run_all.py [--quick] [--only NAME,NAME] [--json FILE]

Quick mode (CI) scales every size down and reports; neither mode fails on a missed target.
A benchmark that crashes, hangs past its time limit or prints no figures is a failure
(exit 1).
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _harness import JSON_MARK, fmt, machine, machine_line  # noqa: E402

# Cheap in-process ones first, then the ones that run a server.
BENCHES = [
    "ban_admission",
    "find_owner",
    "reads_and_mutes",
    "policy_decisions",
    "banfeed",
    "ban_import",
    "restart",
    "rez_throughput",
    "ban_mass_removal",
    "flood_isolation",
    "expiry",
    "verify_log",
    "capacity",
    "viewers_mixed",
]


def policy_rows(out: str) -> list[dict]:
    """bench/policy_decisions.py prints a table, not JSON; take its main figures."""
    rows = []
    for line in out.splitlines():
        m = re.match(r"^(baseline dict\.get|grant_for(?: \+ credential)?)\s+([\d.]+)\s+([\d.]+)",
                     line)
        if m:
            rows.append({"label": f"{m.group(1)}: median", "value": float(m.group(2)),
                         "unit": "µs", "target": None, "met": None})
        m = re.match(r"^grant_for / baseline: ([\d.]+)x", line)
        if m:
            rows.append({"label": "grant_for / dict.get", "value": float(m.group(1)),
                         "unit": "x", "target": None, "met": None})
    return rows


def run(name: str, quick: bool, timeout: float) -> dict:
    argv = [sys.executable, str(HERE / f"{name}.py")] + (["--quick"] if quick else [])
    t0 = time.monotonic()
    lines: list[str] = []
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            if not line.startswith(JSON_MARK):
                print(line, end="", flush=True)
            lines.append(line)
            if time.monotonic() - t0 > timeout:
                raise subprocess.TimeoutExpired(argv, timeout)
        proc.wait(timeout=max(1.0, timeout - (time.monotonic() - t0)))
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        return {"bench": name, "ok": False, "why": f"timed out after {timeout:.0f} s",
                "rows": [], "seconds": time.monotonic() - t0}
    seconds = time.monotonic() - t0
    out = "".join(lines)
    result = None
    for line in lines:
        if line.startswith(JSON_MARK):
            result = json.loads(line[len(JSON_MARK):])
    if result is None and name == "policy_decisions" and proc.returncode == 0:
        result = {"bench": name, "rows": policy_rows(out), "notes": []}
    if proc.returncode != 0 or result is None or not result["rows"]:
        return {"bench": name, "ok": False, "rows": [], "seconds": seconds,
                "why": f"exit {proc.returncode}" + ("" if result else ", no figures")}
    result.update(ok=True, seconds=seconds)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="scaled-down sizes (CI)")
    parser.add_argument("--only", help="comma-separated benchmark names")
    parser.add_argument("--json", metavar="FILE", help="also write every figure as JSON")
    args = parser.parse_args()
    names = args.only.split(",") if args.only else BENCHES
    unknown = set(names) - set(BENCHES)
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(sorted(unknown))}")
    timeout = 150.0 if args.quick else 1800.0
    t0 = time.monotonic()
    results = [run(name, args.quick, timeout) for name in names]
    total = time.monotonic() - t0

    print(f"\n== summary ({'quick' if args.quick else 'full'}) on {machine_line()}; "
          f"{total:.0f} s in all")
    print(f"{'benchmark':<18} {'figure':<58} {'value':>12} {'unit':<9} {'target':<14} verdict")
    for r in results:
        if not r["ok"]:
            print(f"{r['bench']:<18} FAILED: {r['why']}")
            continue
        for row in r["rows"]:
            if row.get("target") is None:
                continue
            verdict = "met" if row["met"] else "MISSED"
            print(f"{r['bench']:<18} {row['label'][:58]:<58} {fmt(row['value']):>12} "
                  f"{row['unit']:<9} {row['target']:<14} {verdict}")
        if not any(row.get("target") for row in r["rows"]):
            for row in r["rows"]:
                print(f"{r['bench']:<18} {row['label'][:58]:<58} {fmt(row['value']):>12} "
                      f"{row['unit']:<9} {'-':<14} (no target)")
        print(f"{'':<18} ({r['seconds']:.1f} s)")
    if args.json:
        Path(args.json).write_text(json.dumps({"machine": machine(), "quick": args.quick,
                                               "seconds": total, "results": results}, indent=1))
    failed = [r["bench"] for r in results if not r["ok"]]
    if failed:
        print(f"FAILED: {', '.join(failed)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
