"""Visitor mutes (contract §2.3): kept per token, applied on the server, persisted here."""

from __future__ import annotations

from typing import Any

import msgpack

from entities import MuteTarget
from entities.errors import QuotaExceeded

from ..store import mutes as mute_rows
from .commits import Committing
from .domain import Domain

__all__ = ["mute", "unmute", "listed", "covered"]


def covered(domain: Domain, target: MuteTarget) -> int:
    """How many existing entities a target covers."""
    world = domain.world
    if target.kind == "entity":
        return int(target.value in world)
    if target.kind == "owner":
        return world.count_owned(target.value)
    if target.kind == "area":
        center, radius = target.value
        return len(world.in_area(center, radius))
    if target.kind == "invisible":
        return len(world.invisible_ids())
    return 0


def mute(domain: Domain, token: str, target: MuteTarget) -> Committing | dict[str, Any]:
    """Filters the token's events from the moment it is committed; acknowledged then."""
    reply = {"muted": covered(domain, target)}
    mutes = domain.mutes_of(token)
    if target.key in mutes.targets:
        return reply
    cap = domain.config.max_mutes
    if len(mutes) >= cap:
        raise QuotaExceeded(f"at most {cap} mutes; unmute something first")
    blob = msgpack.packb(target.to_wire())
    now = domain.clock()
    done = domain.writes.commit(
        lambda c: mute_rows.save(c, token, target.key, blob, now),
        apply=lambda: mutes.add(target),
    )
    return Committing(done, lambda: reply)


def unmute(domain: Domain, token: str, target: MuteTarget) -> Committing | dict[str, Any]:
    reply = {"muted": covered(domain, target)}
    mutes = domain.mutes_of(token)
    if target.key not in mutes.targets:
        return reply
    done = domain.writes.commit(
        lambda c: mute_rows.delete(c, token, target.key), apply=lambda: mutes.remove(target)
    )
    return Committing(done, lambda: reply)


def listed(domain: Domain, token: str) -> list[dict[str, Any]]:
    """The token's mutes as wire targets."""
    return [t.to_wire() for t in domain.mutes_of(token).targets.values()]
