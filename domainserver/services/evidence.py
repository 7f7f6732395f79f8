"""The room log's tamper evidence as the server runs it: signed checkpoints (every N records
or T seconds, and at shutdown), reads for auditors, retention, and the domain's identity."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Callable, Iterable
from typing import Any

from entities import fields
from entities.errors import BadRequest
from entities.model import is_finite_number

from ..evidence.bundle import make_bundle
from ..evidence.checkpoints import Checkpoint
from ..store import checkpoints as cp_rows
from ..store import log as log_rows
from ..store import reports as report_rows
from .domain import Domain

__all__ = [
    "identity",
    "seal_fn",
    "seal",
    "run_checkpoints",
    "purge",
    "run_retention",
    "read_log",
    "record_hot",
    "removal_entry",
    "rez_entry",
    "record_presence",
    "evidence_span",
    "range_bundle",
    "log_filters",
]

log = logging.getLogger(__name__)

# Seconds between looks at how many records await a checkpoint.
POLL = 0.25


def evidence_span(
    conn: sqlite3.Connection, checkpoint: Checkpoint, first: int, last: int,
    withhold: str | None = None,
) -> dict[str, Any]:
    """Records first..last with what proves them against `checkpoint` (docs/EVIDENCE.md):
    their leaf hashes and the range proof. Purged records, and those that name `withhold`
    (a reporter's token), appear only by seq and leaf hash."""
    records = log_rows.between(conn, first, last)
    left, right = cp_rows.range_proof(conn, checkpoint.size, first, last)
    hidden = withhold.encode() if withhold else None
    withheld = [r.seq for r in records
                if hidden is not None and r.data is not None and hidden in r.data]  # fmt: skip
    return {
        "first_seq": first,
        "last_seq": last,
        "records": [r.to_wire() for r in records if not r.purged and r.seq not in withheld],
        "purged": [r.seq for r in records if r.purged],
        "withheld": withheld,
        "leaves": [r.hash.hex() for r in records],
        "proof": {"left": [h.hex() for h in left], "right": [h.hex() for h in right]},
        "checkpoint": checkpoint.to_wire(),
    }


def range_bundle(
    conn: sqlite3.Connection, domain_id: str, key_text: str, since: float, until: float
) -> dict[str, Any] | None:
    """A bundle of every record with `since <= at < until` that a signed checkpoint covers;
    None when there is none."""
    lo, hi = conn.execute("SELECT min(seq), max(seq) FROM log WHERE at >= ? AND at < ?",
                          (since, until)).fetchone()  # fmt: skip
    signed = cp_rows.latest(conn)
    if lo is None or signed is None or lo > signed.size:
        return None
    hi = min(int(hi), signed.size)
    checkpoint = cp_rows.at_least(conn, hi) or signed
    return make_bundle(domain_id, key_text, evidence_span(conn, checkpoint, int(lo), hi))


def identity(domain: Domain) -> dict[str, str]:
    """`GET /api/v1/domain` (contract §3.3): the domain id and its public key."""
    return {"id": domain.policy.domain.id, "key": domain.key.text}


def seal_fn(domain: Domain) -> Callable[[sqlite3.Connection], Checkpoint | None]:
    """A write that signs a checkpoint over every record so far (None if none is new)."""
    domain_id, sign = domain.policy.domain.id, domain.key.sign
    at_ms = int(domain.clock() * 1000)
    return lambda conn: cp_rows.seal(conn, domain_id, sign, at_ms)


async def seal(domain: Domain) -> None:
    """Sign a checkpoint now (after everything already queued)."""
    await domain.writes.commit(seal_fn(domain))


def _sizes(conn: sqlite3.Connection) -> tuple[int, int]:
    row = conn.execute("SELECT coalesce(max(size), 0) FROM log_checkpoints").fetchone()
    return log_rows.last_seq(conn), int(row[0])


async def run_checkpoints(domain: Domain) -> None:
    """Sign a checkpoint once `checkpoint_every` records await one, or `checkpoint_seconds`
    after the last when any does."""
    config = domain.config
    last = domain.clock()
    while True:
        await asyncio.sleep(min(POLL, config.checkpoint_seconds))
        try:
            size, signed = await domain.store.read_async(_sizes)
            due = size - signed >= config.checkpoint_every or (
                size > signed and domain.clock() - last >= config.checkpoint_seconds
            )
            if due:
                await seal(domain)
                last = domain.clock()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("signing a room-log checkpoint failed; retrying")


def record_hot(domain: Domain, kind: str, actor: str | None, target: str | None,
               body: dict[str, Any]) -> None:  # fmt: skip
    """Record chat, rezzes and removals (each behind its `log_chat` / `log_rez` switch):
    queued with the request's commit, never waited for."""
    config = domain.config
    if config.log_chat if kind in ("say", "entity_say") else config.log_rez:
        domain.roomlog.record(kind, actor, target, body)


# A removal record lists at most this many ids (a ban may remove a hundred thousand).
MAX_IDS = 100


def removal_entry(
    domain: Domain, ids: list[str], reason: str
) -> Callable[[sqlite3.Connection], Any] | None:
    """The room-log write recording a removal, for the removal's own unit (None when rez
    logging is off)."""
    if not domain.config.log_rez or not ids:
        return None
    body = {"reason": reason, "count": len(ids), "entities": ids[:MAX_IDS]}
    return domain.roomlog.entry("removal", None, ids[0] if len(ids) == 1 else None, body)


def rez_entry(domain: Domain, entity: Any) -> tuple[Callable[[sqlite3.Connection], Any], ...]:
    """The room-log write recording a rez, for the rez's own unit (none when rez logging is
    off): one unit, so the record commits exactly when the entity does."""
    if not domain.config.log_rez:
        return ()
    return (domain.roomlog.entry("rez", entity.owner, entity.id, {
        "type": entity.type, "position": list(entity.position), "script": entity.script,
        "parent": entity.parent, "temporary": entity.expires_at is not None}),)


def record_presence(domain: Domain, kind: str, session: Any) -> None:
    """An avatar entering or leaving (`enter` / `exit`), invisible ones too, with the session."""
    domain.roomlog.record(kind, session.token, None, {
        "session": session.id, "name": session.name, "invisible": session.invisible})


def _purge_fn(domain: Domain, now: float) -> Callable[[sqlite3.Connection], int]:
    config = domain.config
    never = float("-inf")
    cutoffs = {kind: never if keep is None else now - keep for kind, keep in config.retention}
    default = None if config.retention_default is None else now - config.retention_default
    seal_it = seal_fn(domain)

    def purge_write(conn: sqlite3.Connection) -> int:
        signed = cp_rows.latest(conn)
        if signed is None:
            return 0
        keep = report_rows.open_spans(conn)
        purged = log_rows.purge(conn, cutoffs, default, keep, through_seq=signed.size)
        if purged:
            shown = {k: (None if v == never else v) for k, v in cutoffs.items()}
            log_rows.append(conn, now, "purge", None, None, {
                "purged": purged, "through_seq": signed.size, "cutoffs": shown,
                "default_cutoff": default})  # fmt: skip
            seal_it(conn)  # the new start is anchored by a signed checkpoint at once
        return purged

    return purge_write


async def purge(domain: Domain, now: float | None = None) -> int:
    """Drop the content of records past their retention (never those an open report cites,
    nor any not yet signed); the leaf hashes stay, and a new checkpoint is signed."""
    out: list[int] = []
    fn = _purge_fn(domain, domain.clock() if now is None else now)
    await domain.writes.commit(lambda conn: out.append(fn(conn)))
    return out[0] if out else 0


async def run_retention(domain: Domain) -> None:
    while True:
        await asyncio.sleep(domain.config.retention_interval)
        try:
            purged = await purge(domain)
            if purged:
                log.info("retention: %d room-log record(s) purged", purged)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("room-log retention failed; retrying later")


def _time(value: Any, name: str) -> float | None:
    if value is None:
        return None
    if not is_finite_number(value):
        raise BadRequest(f"{name} must be unix seconds")
    return float(value)


def log_filters(since: Any, until: Any, token: Any, kind: Any) -> dict[str, Any]:
    """The room-log filters both transports take: a time range (unix seconds, `until`
    exclusive), a token (as actor or target), and a kind or a list of kinds."""
    kinds = [kind] if isinstance(kind, str) else ([] if kind is None else kind)
    if not isinstance(kinds, list) or not all(isinstance(k, str) and k for k in kinds):
        raise BadRequest("kind must be a record kind or a list of them")
    return {
        "since": _time(since, "since"),
        "until": _time(until, "until"),
        "token": None if token is None else fields.token(token, "token"),
        "kinds": kinds,
    }


async def read_log(
    domain: Domain,
    *,
    limit: int,
    before: int | None = None,
    since: float | None = None,
    until: float | None = None,
    token: str | None = None,
    kinds: Iterable[str] = (),
) -> list[dict[str, Any]]:
    """Records newest first as auditors see them (contract §6), filtered as asked."""
    kinds = tuple(kinds)
    records = await domain.store.read_async(lambda c: log_rows.query(
        c, limit=limit, before_seq=before, since=since, until=until, token=token, kinds=kinds))
    return [r.to_wire() for r in records]
