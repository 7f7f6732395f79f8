"""Entities as visitors change them (contract §2.3): rez, edit, delete, set_override, look,
and the one way removals are persisted and told to viewers."""

from __future__ import annotations

import asyncio
from typing import Any

import attrs

from entities import Entity, RezRequest, Vec3
from entities.errors import NotAllowed, NotFound, QuotaExceeded, RateLimited
from entities.rules import (
    apply_edit,
    build_entity,
    check_owner_or_edit_any,
    lineage,
    override_from_wire,
)

from ..protocol.codec import PackedField
from .commits import Committing
from .domain import Domain
from .sessions import Session

__all__ = [
    "get",
    "rez",
    "edit",
    "delete",
    "set_override",
    "look",
    "save",
    "forget",
]


def get(domain: Domain, entity_id: str) -> Entity:
    """The entity with that id; `not_found` otherwise."""
    entity = domain.world.get(entity_id)
    if entity is None:
        raise NotFound(f"no entity {entity_id}")
    return entity


def save(domain: Domain, entities: list[Entity]) -> asyncio.Future[Any]:
    """Persist new or edited entities."""
    return domain.writes.save_rows([e.to_row() for e in entities])


def forget(domain: Domain, ids: list[str], reason: str) -> asyncio.Future[Any]:
    """Delete from the store what the world already dropped; viewers are told (with
    `reason`) when the commit lands."""
    done = domain.writes.delete_rows(ids)
    domain.sessions.tell_removed_on(done, ids, reason)
    return done


def _announce(ev: str, domain: Domain, entity: Entity) -> PackedField:
    """Tell the viewers, and answer with the same encoded record."""
    record = PackedField.of("entity", entity.to_wire())
    domain.sessions.entity_event(ev, entity, record.packed)
    return record


def rez(domain: Domain, session: Session, wanted: RezRequest) -> Committing:
    grant = session.grant
    if not grant.may_rez:
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
    if domain.world.count_owned(session.token) >= role.max_entities:
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
        entity_id=domain.ids.new(domain.world),
        owner=session.token,
        creator=creator,
        now=now,
        rule=domain.lifetime_rule(grant),
    )
    domain.world.add(entity)
    return Committing(save(domain, [entity]), lambda: _announce("entity_added", domain, entity))


def edit(domain: Domain, session: Session, entity_id: str, changes: Any) -> Committing:
    entity = get(domain, entity_id)
    grant = session.grant
    new = apply_edit(
        entity,
        session.actor,
        changes,
        domain.lifetime_rule(grant),
        domain.script_checker(grant),
    )
    domain.world.replace(new)
    return Committing(save(domain, [new]), lambda: _announce("entity_changed", domain, new))


def delete(domain: Domain, session: Session, entity_id: str) -> Committing:
    entity = get(domain, entity_id)
    check_owner_or_edit_any(entity, session.actor)
    domain.world.remove(entity.id)
    return Committing(forget(domain, [entity.id], "deleted"), dict)


def set_override(
    domain: Domain, session: Session, entity_id: str, anyone: Any, groups: Any
) -> Committing:
    entity = get(domain, entity_id)
    check_owner_or_edit_any(entity, session.actor)
    new = attrs.evolve(entity, override=override_from_wire(anyone, groups))
    domain.world.replace(new)
    return Committing(save(domain, [new]), lambda: _announce("entity_changed", domain, new))


def look(
    domain: Domain,
    session: Session,
    center: Vec3,
    radius: float,
    limit: int,
    after: tuple[float, str] | None,
) -> tuple[list[Entity], tuple[float, str] | None]:
    """Entities around a point, nearest first, after the key `after`; whatever the viewer
    muted is left out. Returns the page and the key of its last entity when more follow."""
    mutes = session.mutes
    ranked = sorted(
        (e.distance2(center), e.id, e)
        for e in domain.world.in_area(center, radius)
        if not mutes.hides_entity(e)
    )
    if after is not None:
        ranked = [r for r in ranked if (r[0], r[1]) > after]
    page = ranked[:limit]
    last = (page[-1][0], page[-1][1]) if len(ranked) > limit else None
    return [e for _, _, e in page], last
