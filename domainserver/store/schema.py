"""Numbered, append-only schema migrations, tracked by `PRAGMA user_version`.

A migration once released is never edited: change the schema by appending one.
`SCHEMA_VERSION` is the number of migrations, so the two cannot disagree.
"""

from __future__ import annotations

import sqlite3

from .errors import SchemaError

__all__ = ["MIGRATIONS", "SCHEMA_VERSION", "migrate", "current_version"]

# Each migration is a tuple of single statements, run in one transaction with
# the user_version bump (executescript() would COMMIT midway, so it is not used).
MIGRATIONS: tuple[tuple[str, ...], ...] = (
    # 1: entities, bans, mutes, the room log and abuse reports.
    (
        """CREATE TABLE entities (
            id TEXT PRIMARY KEY,
            owner TEXT,
            creator TEXT,
            parent TEXT,
            type TEXT NOT NULL,
            px REAL, py REAL, pz REAL,
            dx REAL, dy REAL, dz REAL,
            visible INTEGER NOT NULL,
            expires_at REAL,
            script TEXT,
            override_anyone INTEGER NOT NULL,
            override_groups TEXT NOT NULL,
            props BLOB NOT NULL,
            created_at REAL NOT NULL
        )""",
        "CREATE INDEX entities_owner ON entities(owner)",
        "CREATE INDEX entities_creator ON entities(creator)",
        "CREATE INDEX entities_expires_at ON entities(expires_at) WHERE expires_at IS NOT NULL",
        """CREATE TABLE bans (
            token TEXT PRIMARY KEY,
            reason TEXT NOT NULL,
            actor TEXT,
            created_at REAL NOT NULL,
            expires_at REAL
        ) WITHOUT ROWID""",
        # The expiry sweep must not scan a million permanent bans.
        "CREATE INDEX bans_expires_at ON bans(expires_at) WHERE expires_at IS NOT NULL",
        """CREATE TABLE mutes (
            muter TEXT NOT NULL,
            target_key TEXT NOT NULL,
            target BLOB NOT NULL,
            created_at REAL NOT NULL,
            PRIMARY KEY (muter, target_key)
        ) WITHOUT ROWID""",
        """CREATE TABLE log (
            seq INTEGER PRIMARY KEY,
            at REAL NOT NULL,
            kind TEXT NOT NULL,
            actor TEXT,
            target TEXT,
            body BLOB NOT NULL,
            prev_hash BLOB NOT NULL,
            hash BLOB NOT NULL
        )""",
        """CREATE TABLE reports (
            id TEXT PRIMARY KEY,
            reporter TEXT NOT NULL,
            target BLOB NOT NULL,
            reason TEXT NOT NULL,
            at REAL NOT NULL,
            first_seq INTEGER,
            last_seq INTEGER,
            evidence_hash BLOB NOT NULL
        )""",
    ),
    # 2: the room log as Merkle-tree leaves with signed checkpoints (docs/EVIDENCE.md); the
    # hash-chained rows of migration 1 stay readable in log_v1. Reports get a queue.
    (
        "ALTER TABLE log RENAME TO log_v1",
        """CREATE TABLE log (
            seq INTEGER PRIMARY KEY,
            at REAL NOT NULL,
            kind TEXT NOT NULL,
            actor TEXT,
            target TEXT,
            data BLOB,
            hash BLOB NOT NULL
        )""",
        "CREATE INDEX log_at ON log(at)",
        """CREATE TABLE log_nodes (
            level INTEGER NOT NULL,
            idx INTEGER NOT NULL,
            hash BLOB NOT NULL,
            PRIMARY KEY (level, idx)
        ) WITHOUT ROWID""",
        """CREATE TABLE log_checkpoints (
            size INTEGER PRIMARY KEY,
            root BLOB NOT NULL,
            at_ms INTEGER NOT NULL,
            domain TEXT NOT NULL,
            sig BLOB NOT NULL,
            frontier BLOB NOT NULL
        )""",
        "DROP TABLE reports",
        """CREATE TABLE reports (
            id TEXT PRIMARY KEY,
            reporter BLOB NOT NULL,
            target_key TEXT NOT NULL,
            target TEXT NOT NULL,
            subject TEXT,
            reason TEXT NOT NULL,
            created_at REAL NOT NULL,
            state TEXT NOT NULL,
            action TEXT,
            closed_at REAL,
            first_seq INTEGER,
            last_seq INTEGER,
            evidence BLOB NOT NULL
        )""",
        "CREATE INDEX reports_state ON reports(state, created_at)",
        "CREATE INDEX reports_reporter ON reports(reporter, state)",
    ),
    # 3: ban lists across domains (docs/FEEDS.md). What is published: each token's latest ban
    # change under a rising serial, and whether a ban is shared; what is subscribed: every
    # feed's last good copy and its fetch state.
    (
        "ALTER TABLE bans ADD COLUMN shared INTEGER NOT NULL DEFAULT 0",
        """CREATE TABLE ban_changes (
            token TEXT PRIMARY KEY,
            serial INTEGER NOT NULL UNIQUE,
            banned INTEGER NOT NULL,
            expires_at REAL,
            shared INTEGER NOT NULL
        ) WITHOUT ROWID""",
        """CREATE TABLE banfeed_mode (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            mode TEXT NOT NULL,
            since INTEGER NOT NULL
        )""",
        """CREATE TABLE feed_state (
            name TEXT PRIMARY KEY,
            url TEXT NOT NULL,
            key TEXT NOT NULL,
            domain TEXT,
            serial INTEGER,
            etag TEXT,
            fetched_at REAL,
            ok_at REAL,
            errors INTEGER NOT NULL DEFAULT 0,
            last_error TEXT,
            entries INTEGER NOT NULL DEFAULT 0
        )""",
        """CREATE TABLE feed_entries (
            feed TEXT NOT NULL,
            token TEXT NOT NULL,
            expires_at REAL,
            PRIMARY KEY (feed, token)
        ) WITHOUT ROWID""",
    ),
    # 4: the world snapshot's seal (store/snapshot.py). A clean shutdown records the seal of
    # the snapshot it wrote; any change to an entity row, by any program, clears it first,
    # so a snapshot is only ever read against the very rows it was made from. No query reads
    # entities by creator (the world in memory answers that), so its index, which cost every
    # rez and removal one more b-tree write, goes.
    (
        "DROP INDEX entities_creator",
        """CREATE TABLE snapshot_seal (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            seal BLOB NOT NULL
        )""",
        *(
            f"""CREATE TRIGGER entities_{event.lower()}_unseals AFTER {event} ON entities
            WHEN EXISTS (SELECT 1 FROM snapshot_seal)
            BEGIN DELETE FROM snapshot_seal; END"""
            for event in ("INSERT", "UPDATE", "DELETE")
        ),
    ),
)

SCHEMA_VERSION: int = len(MIGRATIONS)


def current_version(conn: sqlite3.Connection) -> int:
    """The schema version recorded in the database file (0 for a new file)."""
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def migrate(conn: sqlite3.Connection) -> int:
    """Bring the database up to `SCHEMA_VERSION`; returns the number of migrations run.

    `conn` must be in autocommit mode (`isolation_level=None`). Each migration
    commits atomically with its version bump, so a crash leaves a whole version.
    Raises `SchemaError` if the file is newer than this code.
    """
    ran = 0
    while True:
        conn.execute("BEGIN IMMEDIATE")
        try:
            version = current_version(conn)
            if version > SCHEMA_VERSION:
                raise SchemaError(
                    f"database schema version {version} is newer than this server's "
                    f"{SCHEMA_VERSION}; upgrade the server or restore an older file"
                )
            if version == SCHEMA_VERSION:
                conn.execute("ROLLBACK")
                return ran
            for statement in MIGRATIONS[version]:
                conn.execute(statement)
            # PRAGMA cannot take a parameter; version is an int we computed.
            conn.execute(f"PRAGMA user_version = {version + 1:d}")
            conn.execute("COMMIT")
            ran += 1
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
