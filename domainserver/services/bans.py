"""Bans by token (contract §2.4, §3.2): impose and lift them, and read them back.

Both transports call these: the WebSocket `ban`/`unban` ops, the blacklist API for domain
scripts, and the operator API. A ban kicks, removes and logs the same way from either.
"""

from __future__ import annotations

from typing import Any

import attrs

from ..store import banfeed as banfeed_rows
from ..store import bans as ban_rows
from .commits import Committing
from .domain import Domain
from .entities import forget_owned
from .moderation import check_rank, kick

__all__ = ["BanEntry", "ban", "unban", "lift_expired", "tokens_page", "entries_page", "entry"]


@attrs.frozen
class BanEntry:
    """A ban in force as the operator sees it (never shown to domain scripts)."""

    token: str
    reason: str
    actor: str | None
    created_at: float
    expires_at: float | None

    @classmethod
    def from_row(cls, row: ban_rows.BanRow) -> BanEntry:
        token, reason, actor, created_at, expires_at = row
        return cls(token, reason, actor, created_at, expires_at)

    def to_wire(self) -> dict[str, Any]:
        return attrs.asdict(self)


def ban(
    domain: Domain,
    actor: str,
    token: str,
    reason: str,
    duration: float | None = None,
    keep_entities: bool = False,
    *,
    rank: int | None,
    shared: bool = False,
) -> Committing:
    """Ban a token: once committed, refuse its hellos, kick its sessions (4003) and remove
    its entities (unless `keep_entities`); one unit with its room-log record and its entry
    in the published feed's change log (`shared`: published under `publish = "shared"`).
    Refused for a member the operator's `rank` does not outrank (`moderation.check_rank`)."""
    check_rank(domain, actor, rank, (token,), "ban")
    now = domain.clock()
    expires_at = None if duration is None else now + duration
    pending = domain.pending
    def save(conn: Any) -> None:
        ban_rows.save(conn, token, reason, actor, now, expires_at, shared)
        banfeed_rows.record(conn, token, True, expires_at, shared)

    body = {
        "reason": reason,
        "expires_at": expires_at,
        "removed": 0 if keep_entities else domain.world.count_owned(token),
    }
    record = domain.roomlog.entry("ban", actor, token, body)

    def impose() -> None:
        domain.bans.add(token, expires_at)
        kick(domain, token, reason, code=4003)

    def after(_: bool) -> None:
        pending.bans[token] -= 1
        if pending.bans[token] <= 0:
            del pending.bans[token]

    pending.bans[token] += 1  # its rezzes in flight meanwhile are refused
    removed: list[str] = []
    if keep_entities:
        done = domain.writes.commit(save, record, apply=impose, after=after)
    else:
        done, removed = forget_owned(domain, token, "banned", save, record, first=impose)
        done.add_done_callback(lambda _: after(True))
    return Committing(done, lambda: {"removed": len(removed)})


def unban(domain: Domain, actor: str, token: str) -> Committing:
    """Lift a ban once the lift is committed; lifting one that is not there is fine."""
    was = domain.bans.is_banned(token, domain.clock())
    def lift(conn: Any) -> None:
        banfeed_rows.lift(conn, token)
        ban_rows.delete(conn, token)

    done = domain.writes.commit(
        lift,
        domain.roomlog.entry("unban", actor, token, {"was_banned": was}),
        apply=lambda: domain.bans.remove(token),
    )
    return Committing(done, dict)


async def lift_expired(domain: Domain, now: float) -> list[str]:
    """Lift the timed bans that are due; returns their tokens once the lift is committed.
    (Expired bans are inactive in memory and in the database alike, so dropping them from
    memory first never lets the two disagree.)"""
    lifted = domain.bans.pop_expired(now)
    if lifted:

        def write(conn: Any) -> None:
            for token in lifted:
                banfeed_rows.lift(conn, token)
                ban_rows.delete(conn, token)

        await domain.writes.commit(
            write, domain.roomlog.entry("ban_expired", None, None, {"tokens": lifted})
        )
    return lifted


async def tokens_page(domain: Domain, after: str | None, limit: int) -> list[str]:
    """Banned tokens in token order after `after` (the blacklist API: tokens only)."""
    now = domain.clock()
    return await domain.store.read_async(lambda c: ban_rows.page_tokens(c, after, limit, now))


async def entries_page(domain: Domain, after: str | None, limit: int) -> list[BanEntry]:
    """Bans in force in token order after `after`, with reasons (the operator API)."""
    now = domain.clock()
    rows = await domain.store.read_async(lambda c: ban_rows.page_bans(c, after, limit, now))
    return [BanEntry.from_row(r) for r in rows]


async def entry(domain: Domain, token: str) -> BanEntry | None:
    """The ban in force on `token`, or None."""
    now = domain.clock()
    row = await domain.store.read_async(lambda c: ban_rows.get(c, token, now))
    return None if row is None else BanEntry.from_row(row)
