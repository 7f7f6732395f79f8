"""The storage layer: the one owner of the SQLite file, and one module per persisted noun.

`Store` owns the connections (a single group-committing writer thread, a
reader); `entities`, `bans`, `mutes`, `log` (with `checkpoints` and `logverify`) and
`reports` are plain functions over a
`sqlite3.Connection`, run through `Store.write` / `Store.read`. Migrations live
in `schema`. Errors raised by the store itself are in `errors` (internal,
never shown to clients).
"""

from __future__ import annotations

from . import bans, checkpoints, entities, log, logverify, mutes, reports, schema
from ._store import MAX_BATCH, Store, StoreStats
from .errors import SchemaError, StoreClosed, StoreError
from .schema import SCHEMA_VERSION

__all__ = [
    "Store",
    "StoreStats",
    "SCHEMA_VERSION",
    "MAX_BATCH",
    "StoreError",
    "StoreClosed",
    "SchemaError",
    "entities",
    "bans",
    "mutes",
    "log",
    "checkpoints",
    "logverify",
    "reports",
    "schema",
]
