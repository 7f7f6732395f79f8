"""A consistent copy of the live database, taken through a read-only connection with
SQLite's online backup API: the server's single writer keeps committing meanwhile (WAL lets
one reader see one snapshot while the writer appends), and nothing here can write to it."""

from __future__ import annotations

import os
import sqlite3
import urllib.parse

import attrs

__all__ = ["BackupDone", "backup", "open_reader"]


@attrs.frozen
class BackupDone:
    """What a backup wrote: where, how many bytes, and the copy's own integrity check."""

    path: str
    size: int
    integrity: str


def open_reader(path: str) -> sqlite3.Connection:
    """A read-only connection to the database at `path` (FileNotFoundError if none)."""
    if not os.path.exists(path):
        raise FileNotFoundError(f"no database at {path}")
    uri = "file:" + urllib.parse.quote(os.path.abspath(path)) + "?mode=ro"
    conn = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA query_only = ON")
    conn.execute("PRAGMA busy_timeout = 5000")
    return conn


def backup(db_path: str, out_path: str) -> BackupDone:
    """Copy the database at `db_path` to `out_path` (which must not exist) as it was at one
    moment, then check the copy. The copy is written beside `out_path` and renamed into
    place only when complete, so `out_path` is never a half-written database."""
    if os.path.exists(out_path):
        raise FileExistsError(f"{out_path} exists; refusing to overwrite it")
    source = open_reader(db_path)
    partial = out_path + ".partial"
    try:
        if os.path.exists(partial):
            os.unlink(partial)
        target = sqlite3.connect(partial, isolation_level=None)
        try:
            # pages=-1: the whole copy in one step, i.e. within one read transaction of the
            # source: one consistent snapshot, never restarted by the writer's commits.
            source.backup(target, pages=-1)
            target.execute("PRAGMA journal_mode = DELETE")  # a single self-contained file
            integrity = target.execute("PRAGMA integrity_check").fetchone()[0]
        finally:
            target.close()
        os.replace(partial, out_path)
    except BaseException:
        if os.path.exists(partial):
            os.unlink(partial)
        raise
    finally:
        source.close()
    return BackupDone(out_path, os.path.getsize(out_path), integrity)
