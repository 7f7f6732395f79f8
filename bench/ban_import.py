"""`domainserver import` of a 100,000-row CSV ban list into a new database, end to end (the
command in its own process: read, validate every row, one transaction), against parsing
alone in the same run.

    python bench/ban_import.py [--quick]     # quick: 10,000 rows
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _harness import Report, random_tokens

from permissions.imports import read_csv


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10,000 rows")
    args = parser.parse_args()
    n = 10_000 if args.quick else 100_000
    report = Report("ban_import", args.quick)
    rng = random.Random(5)
    with tempfile.TemporaryDirectory() as tmp:
        csv = Path(tmp) / "bans.csv"
        tokens = random_tokens(rng, n)
        later = time.time() + 86400 * 30
        csv.write_text("token,reason,expires_at\n" + "".join(
            f"{t},griefing reported on the forum #{i},{later if i % 10 == 0 else ''}\n"
            for i, t in enumerate(tokens)
        ))  # fmt: skip
        t0 = time.perf_counter()
        plan = read_csv(csv.read_text(), time.time())
        parse_s = time.perf_counter() - t0
        assert len(plan.bans) == n
        report.figure(f"baseline: parse and validate {n:,} rows", parse_s, "s")
        db = Path(tmp) / "new.db"
        t0 = time.perf_counter()
        argv = [sys.executable, "-m", "domainserver", "import", str(csv), "--db", str(db)]
        done = subprocess.run(argv, capture_output=True, text=True, timeout=600)
        total = time.perf_counter() - t0
        assert done.returncode == 0, done.stderr
        with sqlite3.connect(db) as conn:
            assert conn.execute("SELECT COUNT(*) FROM bans").fetchone()[0] == n
        report.figure(f"domainserver import of {n:,} CSV rows (new db, whole command)", total,
                      "s", "< 10", total < 10, f"{n / total:,.0f} rows/s")  # fmt: skip
    report.emit()


if __name__ == "__main__":
    main()
