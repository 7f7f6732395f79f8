"""The world snapshot beside the database: a fast restart's cache, never a source of truth.

A clean shutdown opens a seal in the database's `snapshot_seal` table, writes the world's
columns to `<database>.snapshot` under a random seal, and only then records that seal in
the table, if no entity row changed meanwhile; the file carries the same seal. The
next start takes the seal out of the database (one commit) before anything else writes,
and reads the file only when its seal is the one taken. Every change to an entity row, by
this server or by any other program, clears the seal first (the migration's triggers),
so a kill -9, a crash, an offline tool or a hand edit all mean the snapshot is not used:
the world is read from the database, as it always can be.
"""

from __future__ import annotations

import marshal
import os
import secrets
import sqlite3
import struct
import sys
import zlib
from pathlib import Path
from typing import Any, Final

__all__ = [
    "SnapshotUnusable",
    "new_seal",
    "open_seal",
    "path_for",
    "read",
    "seal",
    "take_seal",
    "write",
]

_MAGIC: Final = b"domainserver-world-snapshot\n"
# Marshal's format belongs to the interpreter that wrote it.
_TAG: Final = f"{sys.implementation.cache_tag}/{marshal.version}".encode().ljust(32)[:32]
_HEADER: Final = struct.Struct("<16sIQ32s")  # seal, crc32 of the payload, its length, tag
_OPEN: Final = bytes(16)  # the seal row while a snapshot is being made: no file carries it


class SnapshotUnusable(Exception):
    """The snapshot cannot be used; the message says why (it is logged, then ignored)."""


def path_for(db_path: str | os.PathLike[str]) -> Path:
    """Where the snapshot of the database at `db_path` lives."""
    return Path(os.fspath(db_path) + ".snapshot")


def take_seal(conn: sqlite3.Connection) -> bytes | None:
    """Remove and return the seal a clean shutdown left (a write function)."""
    row = conn.execute("DELETE FROM snapshot_seal RETURNING seal").fetchone()
    return None if row is None or bytes(row[0]) == _OPEN else bytes(row[0])


def open_seal(conn: sqlite3.Connection) -> None:
    """Start making a snapshot (a write function): from this commit on, any change to an
    entity row removes the open seal, and with it the chance to `seal` the snapshot."""
    conn.execute("INSERT OR REPLACE INTO snapshot_seal (id, seal) VALUES (1, ?)", (_OPEN,))


def seal(conn: sqlite3.Connection, value: bytes) -> bool:
    """Seal the snapshot written with `value` (a write function); False when an entity row
    changed since `open_seal`, and the snapshot must not be used."""
    cur = conn.execute("UPDATE snapshot_seal SET seal = ? WHERE id = 1 AND seal = ?",
                       (value, _OPEN))  # fmt: skip
    return cur.rowcount == 1


def new_seal() -> bytes:
    """A fresh random seal for `write`."""
    return secrets.token_bytes(16)


def write(path: Path, columns: dict[str, Any], value: bytes) -> int:
    """Write `columns` durably to `path` under the seal `value` (atomically replacing the
    file); returns its size. The caller records the seal with `seal` only afterwards."""
    payload = marshal.dumps(columns)
    header = _MAGIC + _HEADER.pack(value, zlib.crc32(payload), len(payload), _TAG)
    partial = path.with_name(path.name + ".partial")
    try:
        with open(partial, "wb") as out:
            out.write(header)
            out.write(payload)
            out.flush()
            os.fsync(out.fileno())
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)  # a full disk keeps no half-written file
        raise
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)
    return len(header) + len(payload)


def read(path: Path, expected_seal: bytes | None) -> dict[str, Any]:
    """The columns in the snapshot at `path` when it carries `expected_seal`.

    Raises SnapshotUnusable, saying why, when there is no seal, no file, another seal, or a
    damaged or foreign file.
    """
    if expected_seal is None:
        raise SnapshotUnusable("the database holds no seal (the last stop was not clean, "
                               "or entities changed since)")  # fmt: skip
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise SnapshotUnusable(f"{path} is missing") from None
    except OSError as exc:
        raise SnapshotUnusable(f"{path}: {exc.strerror}") from None
    start = len(_MAGIC) + _HEADER.size
    if not data.startswith(_MAGIC) or len(data) < start:
        raise SnapshotUnusable(f"{path} is not a world snapshot")
    value, crc, length, tag = _HEADER.unpack_from(data, len(_MAGIC))
    if value != expected_seal:
        raise SnapshotUnusable(f"{path} is from another stop than the database's last")
    if tag != _TAG:
        raise SnapshotUnusable(f"{path} was written by another Python ({tag.strip()!r})")
    payload = memoryview(data)[start:]
    if len(payload) != length or zlib.crc32(payload) != crc:
        raise SnapshotUnusable(f"{path} is damaged (length or checksum)")
    try:
        columns = marshal.loads(payload)
    except (EOFError, ValueError, TypeError) as exc:
        raise SnapshotUnusable(f"{path} is damaged ({exc})") from None
    if not isinstance(columns, dict):
        raise SnapshotUnusable(f"{path} is damaged (not a table of columns)")
    return columns
