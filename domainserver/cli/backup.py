"""`domainserver backup OUT`: a consistent copy of the live database, while it runs."""

from __future__ import annotations

import argparse
import sqlite3
import sys
from typing import Any

__all__ = ["register"]


def register(sub: Any) -> None:
    cmd = sub.add_parser(
        "backup",
        help="copy the live database, consistently, while the server runs",
        description="Copy the database through a read-only connection with SQLite's online "
        "backup API (the server keeps writing meanwhile), check the copy, and write it to OUT "
        "(never overwriting). Restore by stopping the server and putting the copy in place "
        "of the database (removing its -wal and -shm files).",
    )
    cmd.add_argument("out", metavar="OUT", help="the copy to write")
    cmd.add_argument(
        "--db", metavar="FILE", help="the database (default: the server's, from "
        "DOMAINSERVER_DB, the settings file, or domain.db)"
    )
    cmd.add_argument("--config", metavar="FILE", help="the server's settings file")
    cmd.set_defaults(run=_backup)


def _backup(args: argparse.Namespace) -> int:
    from ..settings import SettingsError, configured
    from ..store.backup import backup

    try:
        db = configured("db_path", args.db, args.config)
    except SettingsError as exc:
        print(exc, file=sys.stderr)
        return 2
    try:
        done = backup(db, args.out)
    except (OSError, sqlite3.Error) as exc:
        print(f"domainserver: backup: {exc}", file=sys.stderr)
        return 2
    if done.integrity != "ok":
        print(f"domainserver: backup: the copy fails its integrity check: {done.integrity}",
              file=sys.stderr)  # fmt: skip
        return 1
    print(f"backed up {db} to {done.path} ({done.size:,} bytes, integrity ok)")
    return 0
