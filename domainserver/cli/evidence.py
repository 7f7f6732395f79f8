"""`domainserver verify-log` and `domainserver export` (contract §6): check a room log or an
evidence bundle, and write a report's (or a time range's) evidence as a bundle."""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
import time
from pathlib import Path
from typing import Any

from ..evidence import CheckpointError, parse_key, verify_bundle
from ..evidence.bundle import make_bundle
from ..services.domainkey import DomainKey, DomainKeyError, key_path
from ..services.evidence import range_bundle
from ..store import SCHEMA_VERSION
from ..store import checkpoints as cp_rows
from ..store import reports as report_rows
from ..store.logverify import verify_log

__all__ = ["register"]


def register(sub: Any) -> None:
    verify = sub.add_parser(
        "verify-log", help="check a room log or an evidence bundle",
        description="Check every record and every signed checkpoint of a database (--db), or "
        "every record of an evidence bundle against its signed checkpoint. Exits 0 when all "
        "verifies; otherwise prints the first failure and exits 1.",
    )  # fmt: skip
    verify.add_argument("bundle", nargs="?", metavar="BUNDLE", help="an evidence bundle (JSON)")
    verify.add_argument("--db", metavar="FILE", help="a database (a copy will do)")
    verify.add_argument("--key", metavar="ed25519:...", help="the domain's public key (default: "
                        "the key beside the database, or the one the bundle carries)")
    verify.set_defaults(run=_verify)

    export = sub.add_parser(
        "export", help="write a report's evidence (or a time range) as a bundle",
        description="Write an evidence bundle (contract §6, docs/EVIDENCE.md) that verifies "
        "with the domain's public key alone. It never holds who reported.",
    )  # fmt: skip
    export.add_argument("--db", required=True, metavar="FILE")
    what = export.add_mutually_exclusive_group(required=True)
    what.add_argument("--report", metavar="ID")
    what.add_argument("--since", type=float, metavar="UNIX_SECONDS",
                      help="every signed record from this time (with --until)")
    export.add_argument("--until", type=float, metavar="UNIX_SECONDS", help="default: now")
    export.add_argument("--out", required=True, metavar="BUNDLE")
    export.set_defaults(run=_export)


def _fail(message: str, code: int = 2) -> int:
    print(f"domainserver: {message}", file=sys.stderr)
    return code


def _open(db: str) -> sqlite3.Connection:
    """A read-only connection (the server may be running); refuses another schema."""
    if not Path(db).is_file():
        raise FileNotFoundError(f"no database at {db}")
    conn = sqlite3.connect(f"file:{Path(db).resolve()}?mode=ro", uri=True)
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version != SCHEMA_VERSION:
        conn.close()
        raise ValueError(f"{db} has schema version {version}; this command reads "
                         f"{SCHEMA_VERSION} (start the server once to migrate it)")  # fmt: skip
    return conn


def _own_key(db: str) -> DomainKey:
    path = key_path(db)
    if path is None or not path.exists():
        raise DomainKeyError(f"no domain key beside {db}; give --key ed25519:...")
    return DomainKey.load(path)


def _verify(args: argparse.Namespace) -> int:
    if (args.bundle is None) == (args.db is None):
        return _fail("give either BUNDLE or --db FILE")
    try:
        key = None if args.key is None else parse_key(args.key)
    except CheckpointError as exc:
        return _fail(f"--key: {exc}")
    if args.bundle is not None:
        try:
            bundle = json.loads(Path(args.bundle).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            return _fail(f"cannot read the bundle {args.bundle}: {exc}")
        report = verify_bundle(bundle, key)
        if not report.ok:
            print(f"FAILED: {report.failure}")
            return 1
        cp = report.checkpoint
        assert cp is not None
        print(f"ok: {report.checked} record(s) of {bundle.get('domain')!r}, proven against "
              f"the checkpoint of size {cp.size} signed at {cp.at_ms / 1000:.3f}")  # fmt: skip
        if key is None:
            print(f"note: checked with the key the bundle carries ({bundle.get('key')}); "
                  "compare it with the domain's own (GET /api/v1/domain), or pass --key")
        return 0
    try:
        key = key or _own_key(args.db).public
        conn = _open(args.db)
    except (OSError, ValueError, DomainKeyError, sqlite3.Error) as exc:
        return _fail(str(exc))
    started = time.perf_counter()
    with conn:
        verdict = verify_log(conn, key)
    took = time.perf_counter() - started
    if verdict.failure is not None:
        print(f"FAILED: {verdict.failure}")
        return 1
    print(f"ok: {verdict.records} record(s), {verdict.checkpoints} signed checkpoint(s), "
          f"{verdict.purged} purged by retention; checked in {took:.2f} s")  # fmt: skip
    if verdict.unsigned:
        print(f"note: the newest {verdict.unsigned} record(s) are not under a checkpoint yet "
              "(the server signs every few seconds and when it stops)")  # fmt: skip
    return 0


def _export(args: argparse.Namespace) -> int:
    try:
        key = _own_key(args.db)
        conn = _open(args.db)
    except (OSError, ValueError, DomainKeyError, sqlite3.Error) as exc:
        return _fail(str(exc))
    with conn:
        if args.report is not None:
            row = report_rows.get(conn, args.report)
            if row is None:
                return _fail(f"no report {args.report!r} in {args.db}")
            evidence = json.loads(row.evidence)
            report = {"id": row.id, "target": json.loads(row.target), "reason": row.reason,
                      "created_at": row.created_at, "state": row.state, "action": row.action}
            bundle = make_bundle(evidence["checkpoint"]["domain"], key.text, evidence, report)
        else:
            signed = cp_rows.latest(conn)
            domain_id = signed.domain if signed is not None else ""
            until = time.time() if args.until is None else args.until
            found = range_bundle(conn, domain_id, key.text, args.since, until)
            if found is None:
                return _fail("no signed record in that time range")
            bundle = found
    Path(args.out).write_text(json.dumps(bundle, indent=1, ensure_ascii=False) + "\n",
                              encoding="utf-8")  # fmt: skip
    print(f"wrote {args.out}: records {bundle['first_seq']}..{bundle['last_seq']} of "
          f"{bundle['domain']!r}, signed by {key.text}")  # fmt: skip
    return 0
