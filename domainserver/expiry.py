"""The expiry loop: sleeps until the next deadline (never scanning), then removes what is due,
commits, and tells every viewer. Timed bans are lifted by the same loop."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from .domain import Domain
from .store import bans as ban_rows

__all__ = ["run_expiry"]

log = logging.getLogger(__name__)

# Removals per commit, so a mass expiry never holds the writer for long.
BATCH = 20_000


def expire_due(domain: Domain, now: float) -> tuple[list[str], asyncio.Future[Any] | None]:
    """Drop due entities from the world and queue their deletion; returns the ids removed."""
    due = domain.world.expiry.pop_due(now, BATCH)
    removed = domain.remove_from_world(due)
    if not removed:
        return removed, None
    return removed, domain.delete_entities(removed)


async def run_expiry(domain: Domain) -> None:
    tick = domain.config.expiry_tick
    while True:
        now = domain.clock()
        removed: list[str] = []
        try:
            removed, done = expire_due(domain, now)
            if done is not None:
                await done
                for entity_id in removed:
                    domain.sessions.entity_removed(entity_id, "expired")
            lifted = domain.bans.pop_expired(now)
            if lifted:
                await domain.commit(lambda c: [ban_rows.delete(c, t) for t in lifted])
                domain.record("ban_expired", None, None, {"tokens": lifted})
        except Exception:
            log.exception("expiry pass failed; retrying")
        if len(removed) == BATCH:
            continue
        deadlines = [d for d in (domain.world.expiry.next_deadline(), domain.bans.next_expiry()) if d]
        delay = tick if not deadlines else min(tick, max(0.0, min(deadlines) - domain.clock()))
        await asyncio.sleep(delay)
