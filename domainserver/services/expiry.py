"""The expiry loop: sleeps until the next deadline (never scanning), then removes what is due,
commits, and tells every viewer. Timed bans are lifted, and idle rate buckets swept, by the
same loop."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from .bans import lift_expired
from .domain import Domain
from .entities import forget

__all__ = ["run_expiry", "expire_due"]

log = logging.getLogger(__name__)

# Removals per commit, so a mass expiry never holds the writer for long.
BATCH = 20_000
# Seconds between sweeps of idle rate buckets (a full bucket carries no information).
BUCKET_SWEEP = 60.0


def expire_due(domain: Domain, now: float) -> tuple[list[str], asyncio.Future[Any] | None]:
    """Drop due entities from the world and queue their deletion; returns the ids removed."""
    world, pending = domain.world, domain.pending
    due = [eid for eid in world.expiry.pop_due(now, BATCH) if pending.latest(eid) is not None]
    if not due:
        return due, None
    first = world.get(due[0])
    if first is not None and first.expires_at is not None:
        domain.expiry_lag = max(0.0, now - first.expires_at)  # the earliest is the latest
    done = forget(domain, due, "expired")

    def retry_if_failed(f: asyncio.Future[Any]) -> None:
        if f.cancelled() or f.exception() is not None:
            for eid in due:  # still in the world: due again on the next pass
                entity = world.get(eid)
                if entity is not None:
                    world.expiry.schedule(eid, entity.expires_at)

    done.add_done_callback(retry_if_failed)
    return due, done


async def run_expiry(domain: Domain) -> None:
    tick = domain.config.expiry_tick
    next_sweep = domain.clock() + BUCKET_SWEEP
    while True:
        now = domain.clock()
        if now >= next_sweep:
            # Otherwise every token that ever rezzed or spoke would keep a bucket forever.
            domain.buckets.forget_idle(now)
            domain.limits.sweep()
            next_sweep = now + BUCKET_SWEEP
        removed: list[str] = []
        failed = False
        try:
            removed, done = expire_due(domain, now)
            if done is not None:
                await done  # viewers are told as it lands
            await lift_expired(domain, now)
        except Exception:
            log.exception("expiry pass failed; retrying")
            failed = True
        if len(removed) == BATCH and not failed:
            continue
        pending = (domain.world.expiry.next_deadline(), domain.bans.next_expiry())
        deadlines = [d for d in pending if d is not None]
        delay = tick if failed or not deadlines else min(
            tick, max(0.0, min(deadlines) - domain.clock())
        )
        await asyncio.sleep(delay)
