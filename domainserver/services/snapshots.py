"""The world snapshot: written at a clean stop, read back at the next start when the
database says it still matches (`store/snapshot.py` holds the file and the seal)."""

from __future__ import annotations

import asyncio
import logging
import time

from entities.columns import world_columns, world_from_columns

from ..store import snapshot
from .domain import Domain

__all__ = ["restore", "save"]

log = logging.getLogger(__name__)


def restore(domain: Domain, sealed: bytes | None, expired: list[str]) -> bool:
    """Fill the empty world from the snapshot sealed with `sealed`, less the `expired` ids
    the start-up already deleted from the database; False (and why, logged) when the
    snapshot cannot be used and the world must come from the database."""
    path = snapshot.path_for(domain.store.path)
    started = time.perf_counter()
    try:
        columns = snapshot.read(path, sealed)
        log.info("loading %s entities from the world snapshot %s",
                 f"{len(columns.get('id', ())):,}", path)  # fmt: skip
        world_from_columns(columns, domain.world)
    except snapshot.SnapshotUnusable as exc:
        if path.exists() or sealed is not None:
            log.info("world snapshot not used: %s", exc)
        return False
    except (ValueError, KeyError, TypeError) as exc:
        log.warning("world snapshot not used: %s is damaged (%s)", path, exc)
        return False
    for eid in expired:
        domain.world.remove(eid)
    log.info("world snapshot read in %.2f s", time.perf_counter() - started)
    return True


async def save(domain: Domain) -> bool:
    """Write the snapshot and seal it, at a clean stop after the last write; True when
    sealed. The seal is opened by a commit queued after every change already made, so the
    world read below holds all of them; any entity change after it voids the seal."""
    store = domain.store
    if not domain.config.world_snapshot:
        # One left by an earlier run is void (its seal was taken at start): not kept.
        snapshot.path_for(store.path).unlink(missing_ok=True)
        return False
    # Units apply to memory in commit order before their futures resolve: once this one
    # has, so has every change before it.
    await domain.writes.commit(snapshot.open_seal)
    started = time.perf_counter()
    columns = world_columns(domain.world)
    value = snapshot.new_seal()
    size = await asyncio.to_thread(snapshot.write, snapshot.path_for(store.path), columns,
                                   value)  # fmt: skip
    del columns
    sealed = await store.write(lambda conn: snapshot.seal(conn, value))
    if sealed:
        log.info("world snapshot of %s entities written (%s MB) in %.2f s",
                 f"{len(domain.world):,}", f"{size / 1e6:,.1f}",
                 time.perf_counter() - started)  # fmt: skip
    else:
        log.warning("world snapshot not sealed: entities changed while it was written")
    return bool(sealed)
