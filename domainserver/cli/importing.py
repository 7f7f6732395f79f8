"""`domainserver import FILE [--db FILE] [--format csv|overte]`: bring an existing ban list
(CSV, or an Overte / Vircadia settings file) into the database in one transaction; a
malformed file is refused with its line and nothing is imported."""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Iterable, Iterator
from typing import Any, TypeVar

__all__ = ["register"]

T = TypeVar("T")


def register(sub: Any) -> None:
    imp = sub.add_parser(
        "import",
        help="import bans from a CSV or an Overte / Vircadia settings file",
        description="Add the bans of FILE to the database (created if missing), in one "
        "transaction. CSV rows are token,reason[,expires_at] with an optional header line. "
        "An Overte / Vircadia domain-server settings file (JSON) also gives the permissions "
        "it maps to (printed, or written with --permissions-out) and a report of every entry "
        "it cannot map and why.",
    )
    imp.add_argument("file", metavar="FILE")
    imp.add_argument("--db", default="domain.db", metavar="FILE", help="default domain.db")
    imp.add_argument("--format", choices=("csv", "overte"),
                     help="default: overte for a .json file, else csv")  # fmt: skip
    imp.add_argument("--permissions-out", metavar="FILE",
                     help="write the mapped permissions here (never overwrites)")  # fmt: skip
    imp.set_defaults(run=_import)


def _progress(items: Iterable[T], total: int, every: int = 10_000) -> Iterator[T]:
    """Pass `items` through, showing a count on a terminal (stderr) for long imports."""
    show = sys.stderr.isatty() and total >= every
    for n, item in enumerate(items, 1):
        if show and n % every == 0:
            print(f"\r  {n:,} / {total:,} bans written", end="", file=sys.stderr, flush=True)
        yield item
    if show:
        print(file=sys.stderr)


def _import(args: argparse.Namespace) -> int:
    from permissions.imports import ImportRefused, read_csv
    from permissions.overte import read_overte

    from ..store import Store
    from ..store import banfeed as banfeed_rows
    from ..store import bans as ban_rows
    from ..store import log as log_rows

    fmt = args.format or ("overte" if args.file.lower().endswith(".json") else "csv")
    try:
        with open(args.file, encoding="utf-8-sig") as f:
            text = f.read()
    except (OSError, UnicodeDecodeError) as exc:
        print(f"{args.file}: cannot read: {exc}", file=sys.stderr)
        return 2
    now = time.time()
    try:
        plan = (read_overte if fmt == "overte" else read_csv)(text, now)
    except ImportRefused as exc:
        print(f"{args.file}:{exc.line}: {exc.reason}; nothing imported", file=sys.stderr)
        return 1
    out = args.permissions_out if plan.permissions is not None else None
    if out is not None and os.path.exists(out):
        print(f"{out} exists; refusing to overwrite it; nothing imported", file=sys.stderr)
        return 2
    rows = [(b.token, b.reason, "import", now, b.expires_at) for b in plan.bans]

    def write(conn: Any) -> tuple[int, int]:
        before = conn.execute("SELECT COUNT(*) FROM bans").fetchone()[0]
        ban_rows.save_many(conn, _progress(rows, len(rows)))
        banfeed_rows.record_many(conn, ((t, exp, False) for t, _, _, _, exp in rows))
        after = conn.execute("SELECT COUNT(*) FROM bans").fetchone()[0]
        log_rows.append(conn, now, "import", "import", None,
                        {"file": args.file, "format": fmt, "bans": len(rows)})  # fmt: skip
        return before, after

    store = Store.open(args.db)
    try:
        before, after = store.write_sync(write)
    finally:
        store.close()
    if out is not None:
        with open(out, "x", encoding="utf-8") as f:
            f.write(plan.permissions or "")
    replaced = before + len(rows) - after
    print(f"{args.file}: imported {len(rows)} ban(s) into {args.db} from {plan.rows} row(s)"
          f" ({replaced} replaced an existing ban, {plan.duplicates} duplicate row(s): the last"
          f" kept, {plan.expired} already expired: skipped)")  # fmt: skip
    if plan.unmapped:
        print(f"not mapped ({len(plan.unmapped)}):")
        for line in plan.unmapped:
            print("  " + line)
    if out is not None:
        print(f"permissions mapped from the file written to {out}")
    elif plan.permissions is not None:
        print("permissions mapped from the file (save as a permissions file, then edit):")
        print(plan.permissions, end="")
    print("a running server sees imported bans after a restart")
    return 0
