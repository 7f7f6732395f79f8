"""Entities as visitors change them (contract §2.3): rez, edit, delete, set_override, look,
and the one way removals are persisted and told to viewers."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from functools import partial
from typing import Any

import attrs

from entities import Entity, RezRequest, Vec3
from entities.errors import BadRequest, NotAllowed, NotFound, QuotaExceeded, RateLimited
from entities.rules import (
    apply_edit,
    build_entity,
    check_owner_or_edit_any,
    lineage,
    override_from_wire,
)

from ..protocol.codec import PackedField
from ..store import entities as entity_rows
from .commits import Committing
from .domain import Domain
from .evidence import removal_entry, rez_entry
from .sessions import Session

__all__ = [
    "get",
    "rez",
    "edit",
    "delete",
    "set_override",
    "look",
    "latest",
    "forget",
    "forget_owned",
]


def get(domain: Domain, entity_id: str) -> Entity:
    """The committed entity with that id; `not_found` otherwise."""
    entity = domain.world.get(entity_id)
    if entity is None:
        raise NotFound(f"no entity {entity_id}")
    return entity


def latest(domain: Domain, entity_id: str) -> Entity:
    """The entity a write acts on: as the writes queued before it leave it."""
    entity = domain.pending.latest(entity_id)
    if entity is None:
        raise NotFound(f"no entity {entity_id}")
    return entity


class _Put:
    """A queued save's memory change (`apply`) and its end (`settle`), as one object rather
    than two closures and their cells: fewer objects per write for the garbage collector."""

    __slots__ = ("domain", "entity", "ticket", "new_owner")

    def __init__(self, domain: Domain, entity: Entity, ticket: int, new_owner: str | None):
        self.domain, self.entity, self.ticket, self.new_owner = domain, entity, ticket, new_owner

    def apply(self) -> None:
        # A replace when the entity is there; an add for a new one (or one whose rez failed
        # while this edit committed: the row exists now, so memory follows the database).
        world, entity = self.domain.world, self.entity
        if entity.id in world:
            world.replace(entity)
        else:
            world.add(entity)

    def settle(self, _: bool) -> None:
        self.domain.pending.settle(self.entity.id, self.ticket, self.new_owner)


def _put(
    domain: Domain, entity: Entity, *extra: Callable[[Any], Any], new_owner: str | None = None
) -> asyncio.Future[Any]:
    """Queue saving `entity` (and `extra` writes, such as its room-log record); it joins the
    world once committed."""
    put = _Put(domain, entity, domain.pending.stage(entity.id, entity, new_owner), new_owner)
    return domain.writes.commit(*extra, save=[entity.to_row()], apply=put.apply, after=put.settle)


def forget(
    domain: Domain, ids: list[str], reason: str, *extra: Callable[[Any], Any]
) -> asyncio.Future[Any]:
    """Queue deleting entities (and `extra` writes, such as the room-log record); once
    committed they leave the world and viewers are told, with `reason`."""
    pending, world = domain.pending, domain.world
    tickets = [(eid, pending.stage(eid, None)) for eid in ids]
    logged = removal_entry(domain, ids, reason)
    if logged is not None:
        extra = (*extra, logged)

    def apply() -> None:
        for eid in ids:
            world.remove(eid)

    def after(_: bool) -> None:
        for eid, ticket in tickets:
            pending.settle(eid, ticket)

    done = domain.writes.commit(*extra, delete=ids, apply=apply, after=after)
    domain.sessions.tell_removed_on(done, ids, reason, domain.world)
    return done


def forget_owned(
    domain: Domain,
    owner: str,
    reason: str,
    *extra: Callable[[Any], Any],
    first: Callable[[], None] | None = None,
) -> tuple[asyncio.Future[Any], list[str]]:
    """Queue deleting everything `owner` has, in one statement (a ban, a mass removal), and
    `extra` writes; once committed, `first` runs, then the entities leave the world and the
    viewers are told. Returns the future and the list the removed ids will fill."""
    world, sessions = domain.world, domain.sessions
    ahead: dict[str, Any] = {}
    removed: list[str] = []

    def prepare() -> None:
        # Runs once the commit is in the writer's hands (SQLite gives up the GIL while it
        # deletes), or at the latest when it lands: what the removal takes, worked out and
        # framed meanwhile, so a 100,000-entity ban costs the loop little beyond its commit.
        if not ahead:
            plan = world.plan_removal_of(owner)
            ahead["plan"] = plan
            ahead["told"] = sessions.prepare_removed(plan.ids, reason, world)

    def apply() -> None:
        if first is not None:
            first()
        prepare()
        plan = ahead["plan"]
        gone = world.remove_planned(plan)
        ahead["exact"] = gone is plan.ids
        removed.extend(gone)

    def tell(done: asyncio.Future[Any]) -> None:
        if done.cancelled() or done.exception() is not None:
            return
        # What was framed differs from what the world held at commit only when other
        # changes to that owner's entities committed in between.
        exact = ahead.get("exact")
        sessions.deliver(ahead["told"] if exact else sessions.prepare_removed(removed, reason))

    done = domain.writes.commit(
        partial(entity_rows.delete_owned_by, owner=owner), *extra, apply=apply
    )
    asyncio.get_running_loop().call_soon(prepare)  # after the commit is handed over
    done.add_done_callback(tell)
    return done, removed


def _announce(
    ev: str, domain: Domain, entity: Entity, before: Vec3 | None = None
) -> PackedField:
    """Tell the viewers (`before`: where it was, for an edit that may have moved it), and
    answer with the same encoded record."""
    record = PackedField.of("entity", entity.to_wire())
    domain.sessions.entity_event(ev, entity, record.packed, before)
    return record


def rez(domain: Domain, session: Session, wanted: RezRequest) -> Committing:
    grant = session.grant
    if not grant.may_rez or session.token in domain.pending.bans:
        raise NotAllowed("you may not rez here")
    parent = None
    if wanted.parent is not None:
        parent = domain.world.get(wanted.parent)
        if parent is None:
            raise NotAllowed(f"parent {wanted.parent} does not exist")
    creator = lineage(session.token, parent, grant.may_script)
    if wanted.script is not None:
        domain.script_checker(grant)(wanted.script)
    role = grant.role
    if domain.pending.count_owned(session.token) >= role.max_entities:
        raise QuotaExceeded(f"your role may own at most {role.max_entities} entities")
    now = domain.clock()
    buckets = domain.buckets
    owner_key = "rez:" + session.token
    if not buckets.allows(owner_key, role.rez_per_second, now):
        raise RateLimited(f"at most {role.rez_per_second:g} rezzes per second")
    if parent is not None:
        # A self-replicating family shares one budget however many owners it spreads over.
        family_key = "lineage:" + domain.world.lineage_root(parent.id)
        family_rate = domain.policy.domain.lineage_rez_per_second
        if not buckets.allows(family_key, family_rate, now):
            raise RateLimited("this family of entities is replicating too fast")
        buckets.spend(family_key, family_rate, now)
    buckets.spend(owner_key, role.rez_per_second, now)
    entity = build_entity(
        wanted,
        entity_id=domain.ids.new(domain.pending),
        owner=session.token,
        creator=creator,
        now=now,
        rule=domain.lifetime_rule(grant),
    )
    done = _put(domain, entity, *rez_entry(domain, entity), new_owner=session.token)
    return Committing(done, partial(_announce, "entity_added", domain, entity))


def edit(domain: Domain, session: Session, entity_id: str, changes: Any) -> Committing:
    entity = latest(domain, entity_id)
    grant = session.grant
    new = apply_edit(
        entity,
        session.actor,
        changes,
        domain.lifetime_rule(grant),
        domain.script_checker(grant),
    )
    moved = entity.position if new.position != entity.position else None
    return Committing(
        _put(domain, new), lambda: _announce("entity_changed", domain, new, moved)
    )


def delete(domain: Domain, session: Session, entity_id: str) -> Committing:
    entity = latest(domain, entity_id)
    check_owner_or_edit_any(entity, session.actor)
    return Committing(forget(domain, [entity.id], "deleted"), dict)


def set_override(
    domain: Domain, session: Session, entity_id: str, anyone: Any, groups: Any
) -> Committing:
    entity = latest(domain, entity_id)
    check_owner_or_edit_any(entity, session.actor)
    new = attrs.evolve(entity, override=override_from_wire(anyone, groups))
    return Committing(_put(domain, new), lambda: _announce("entity_changed", domain, new))


def look(
    domain: Domain,
    session: Session,
    center: Vec3,
    radius: float,
    limit: int,
    after: tuple[float, str] | None,
) -> tuple[list[Entity], tuple[float, str] | None]:
    """Entities around a point, nearest first, after the key `after`; whatever the viewer
    muted is left out. Returns the page and the key of its last entity when more follow.

    The radius is bounded, a page reads about what it returns, and what it reads is charged
    to the token's read budget: a visitor cannot make `look` hold the loop."""
    config = domain.config
    if radius > config.max_look_radius:
        raise BadRequest(f"radius may be at most {config.max_look_radius:g}")
    budget, now = "read:" + session.token, domain.clock()
    if not domain.buckets.allows(budget, config.read_budget, now):
        raise RateLimited("reading too much too fast; slow down")
    mutes = session.mutes
    page, last, examined = domain.world.nearest(
        center, radius, limit, after, mutes.hides_entity if len(mutes) else None
    )
    domain.buckets.spend(budget, config.read_budget, now, cost=examined + len(page) + 1)
    return page, last
