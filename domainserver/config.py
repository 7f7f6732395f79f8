"""Server settings that are not policy: where things live and how much a client may send."""

from __future__ import annotations

import attrs

from .protocol.codec import DEFAULT_MAX_FRAME

__all__ = ["ServerConfig"]


@attrs.frozen
class ServerConfig:
    """Frozen at start; the policy (permissions file) is separate and reloads live."""

    db_path: str = "domain.db"
    permissions_path: str | None = None  # None: the embedded default policy
    max_frame: int = DEFAULT_MAX_FRAME
    max_inflight: int = 64  # requests one connection may have awaiting commit
    abuse_limit: int = 64  # malformed frames before a socket is closed with 1008
    # Bounds on what one visitor can make the server do (docs/RELIABILITY.md).
    max_look_radius: float = 256.0  # metres; a larger `look` radius is bad_request
    read_budget: float = 20_000.0  # entities a token's reads may examine or return a second
    max_mutes: int = 1000  # mutes per token; more is quota_exceeded
    max_pending_bytes: int = 1 << 20  # output queued for one viewer; past it, closed 1008
    # Connections (docs/RELIABILITY.md). Per-address limits skip loopback unless asked, so a
    # local reverse proxy or load test works; behind a proxy listed in trusted_proxies the
    # address is the client's, from X-Forwarded-For.
    max_connections: int = 10_000
    max_connections_per_address: int = 32
    hellos_per_second_per_address: float = 5.0
    max_frames_per_second: float = 10_000.0  # per connection; beyond it, it is read slower
    limit_loopback: bool = False
    trusted_proxies: tuple[str, ...] = ()
    hello_timeout: float = 30.0
    watch_interval: float = 1.0  # seconds between checks of the permissions file
    expiry_tick: float = 0.25  # longest sleep of the expiry loop
    synchronous: str = "FULL"  # SQLite durability; FULL survives power loss too
    world_snapshot: bool = True  # at a clean stop, write <db>.snapshot for a fast start
    # The SQLite writer is a thread: at Python's default 5 ms GIL switch interval it waits
    # up to 5 ms for every hand-over, which caps group commit at a few hundred per second.
    gil_switch_interval: float | None = 0.0005
    handle_signals: bool = True  # SIGHUP reloads; off when mounted into a host that owns signals
    # The room log and reports (docs/EVIDENCE.md). A signed checkpoint every so many records
    # or seconds, whichever comes first, and on a clean shutdown.
    checkpoint_every: int = 1000
    checkpoint_seconds: float = 60.0
    log_chat: bool = True  # record `say` and `entity_say`
    log_rez: bool = True  # record rezzes and removals
    report_before: int = 50  # records captured before the reported moment
    report_after: int = 20  # and after it (those already written when the report is made)
    max_open_reports: int = 5  # per reporter
    report_rate: float = 0.2  # reports a second per reporter (a bucket of one)
    # Seconds each kind of record is kept (None: for ever); kinds not named keep
    # `retention_default`. Records cited by an open report are kept until it closes.
    retention: tuple[tuple[str, float | None], ...] = (
        ("say", 30 * 86400.0), ("entity_say", 30 * 86400.0), ("enter", 90 * 86400.0),
        ("exit", 90 * 86400.0), ("rez", 90 * 86400.0), ("removal", 90 * 86400.0),
    )
    retention_default: float | None = None
    retention_interval: float = 3600.0  # seconds between purges
    # Seconds viewers get to answer the 1001 close at shutdown before they are dropped.
    shutdown_timeout: float = 2.0
