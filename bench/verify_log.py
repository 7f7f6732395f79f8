"""verify-log over a large room log: a database of N chat-like records with a signed
checkpoint every 1,000 (as the server writes them), checked record by record and checkpoint
by checkpoint (`store.logverify.verify_log`, what `domainserver verify-log --db` runs), and
the same through the command line. Also one report-sized bundle checked on its own.

    python bench/verify_log.py [--quick]      # 1,000,000 records; --quick: 100,000
"""

from __future__ import annotations

import argparse
import hashlib
import subprocess
import sys
import time

from _harness import ROOT, Report, temp_dir

from domainserver.evidence import verify_bundle
from domainserver.evidence.records import canonical
from domainserver.services.domainkey import DomainKey
from domainserver.services.evidence import evidence_span
from domainserver.store import Store
from domainserver.store import checkpoints as cps
from domainserver.store.logverify import verify_log

EVERY = 1000


def fill(store: Store, key: DomainKey, n: int) -> None:
    """N records written in bulk exactly as `store.log.append` writes them, sealed every
    EVERY records."""
    sha = hashlib.sha256
    t0 = 1_764_590_000.0
    token = "a" * 32

    def chunk(conn, start: int) -> None:
        rows = []
        for seq in range(start, min(start + EVERY, n + 1)):
            at = t0 + seq * 0.01
            record = {"seq": seq, "at": at, "kind": "say", "actor": token, "target": None,
                      "text": f"line {seq} of the benchmark's chat", "name": "Bench"}
            data = canonical(record)
            rows.append((seq, at, "say", token, None, data, sha(b"\x00" + data).digest()))
        conn.executemany("INSERT INTO log (seq, at, kind, actor, target, data, hash)"
                         " VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
        cps.seal(conn, "bench", key.sign, int(time.time() * 1000))

    for start in range(1, n + 1, EVERY):
        store.write_sync(lambda c, s=start: chunk(c, s))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100,000 records, not 1,000,000")
    args = parser.parse_args()
    n = 100_000 if args.quick else 1_000_000
    report = Report("verify_log", args.quick)
    with temp_dir("verify") as tmp:
        db = str(tmp / "log.db")
        key = DomainKey.load_or_create(db)
        t0 = time.perf_counter()
        with Store.open(db, synchronous="OFF") as store:
            fill(store, key, n)
        report.note(f"wrote {n:,} records and {n // EVERY:,} checkpoints in "
                    f"{time.perf_counter() - t0:.1f} s")
        with Store.open(db) as store:
            t0 = time.perf_counter()
            verdict = store.read(lambda c: verify_log(c, key.public))
            took = time.perf_counter() - t0
            assert verdict.failure is None and verdict.records == n, verdict
            report.figure(f"verify_log, {n:,} records, {verdict.checkpoints:,} checkpoints",
                          took, "s", "<= 10 s" if n == 1_000_000 else None,
                          took <= 10 if n == 1_000_000 else None)
            report.figure("  records verified per second", n / took, "rec/s")
            mid = n // 2

            def span(conn):
                return evidence_span(conn, cps.latest(conn), mid - 50, mid + 20)

            evidence = store.read(span)
        bundle = {"format": "domainserver-evidence/v1", "domain": "bench", "key": key.text,
                  **evidence}
        t0 = time.perf_counter()
        checked = verify_bundle(bundle, key.public)
        assert checked.ok, checked.failure
        report.figure("verify a 71-record bundle (proof against the last checkpoint)",
                      (time.perf_counter() - t0) * 1e3, "ms")
        t0 = time.perf_counter()
        out = subprocess.run([sys.executable, "-m", "domainserver", "verify-log", "--db", db],
                             capture_output=True, text=True, cwd=str(ROOT))
        assert out.returncode == 0, out.stdout + out.stderr
        report.figure(f"domainserver verify-log --db, {n:,} records (whole command)",
                      time.perf_counter() - t0, "s")
        report.note(out.stdout.strip().splitlines()[0])
    report.emit()


if __name__ == "__main__":
    main()
