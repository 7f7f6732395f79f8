"""Visitor mutes (contract §2.3): kept per token, persisted, applied on the server."""

from __future__ import annotations

from typing import Any

import msgpack

from entities import MuteTarget

from .codec import Request
from .domain import Committing, Domain
from .sessions import Session
from .store import mutes as mute_rows

__all__ = ["mute", "unmute", "mutes", "covered"]


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


async def mute(domain: Domain, session: Session, request: Request) -> dict[str, Any]:
    target = MuteTarget.from_wire(request.arg("target"))
    if session.mutes.add(target):
        blob = msgpack.packb(target.to_wire())
        now = domain.clock()
        await domain.store.write(lambda c: mute_rows.save(c, session.token, target.key, blob, now))
    return {"muted": covered(domain, target)}


async def unmute(domain: Domain, session: Session, request: Request) -> dict[str, Any]:
    target = MuteTarget.from_wire(request.arg("target"))
    if session.mutes.remove(target):
        await domain.store.write(lambda c: mute_rows.delete(c, session.token, target.key))
    return {"muted": covered(domain, target)}


def mutes(domain: Domain, session: Session, request: Request) -> dict[str, Any]:
    return {"mutes": [t.to_wire() for t in session.mutes.targets.values()]}

