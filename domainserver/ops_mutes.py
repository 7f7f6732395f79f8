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


def mute(domain: Domain, session: Session, request: Request) -> Committing | dict[str, Any]:
    """Applied in memory now (so the very next event is filtered), acknowledged once durable."""
    target = MuteTarget.from_wire(request.arg("target"))
    reply = {"muted": covered(domain, target)}
    if not session.mutes.add(target):
        return reply
    blob = msgpack.packb(target.to_wire())
    token, now = session.token, domain.clock()
    done = domain.commit(lambda c: mute_rows.save(c, token, target.key, blob, now))
    return Committing(done, lambda: reply)


def unmute(domain: Domain, session: Session, request: Request) -> Committing | dict[str, Any]:
    target = MuteTarget.from_wire(request.arg("target"))
    reply = {"muted": covered(domain, target)}
    if not session.mutes.remove(target):
        return reply
    token = session.token
    done = domain.commit(lambda c: mute_rows.delete(c, token, target.key))
    return Committing(done, lambda: reply)


def mutes(domain: Domain, session: Session, request: Request) -> dict[str, Any]:
    return {"mutes": [t.to_wire() for t in session.mutes.targets.values()]}
