"""Entity ops every visitor has (contract §2.3): rez, get, edit, delete, set_override, look."""

from __future__ import annotations

from typing import Any

import attrs

from entities import Entity, RezRequest
from entities import fields as check
from entities.errors import BadRequest, NotAllowed, NotFound, QuotaExceeded, RateLimited
from entities.rules import (
    apply_edit,
    build_entity,
    check_owner_or_edit_any,
    lineage,
    override_from_wire,
)

from .codec import PackedField, Request
from .domain import Committing, Domain
from .paging import decode_cursor, encode_cursor, page_limit
from .sessions import Session

__all__ = ["rez", "get", "edit", "delete", "set_override", "look", "entity_arg"]

def entity_arg(domain: Domain, request: Request, name: str = "entity") -> Entity:
    entity_id = request.arg(name)
    if not isinstance(entity_id, str):
        raise BadRequest(f"{name} must be an entity id")
    entity = domain.world.get(entity_id)
    if entity is None:
        raise NotFound(f"no entity {entity_id}")
    return entity


def rez(domain: Domain, session: Session, request: Request) -> Committing:
    wanted = RezRequest.from_wire(request.arg("entity"), request.arg("parent"))
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
        entity_id=domain.new_entity_id(),
        owner=session.token,
        creator=creator,
        now=now,
        rule=domain.lifetime_rule(grant),
    )
    domain.world.add(entity)
    return Committing(
        domain.save_entities([entity]), lambda: _announce("entity_added", domain, entity)
    )


def _announce(ev: str, domain: Domain, entity: Entity) -> PackedField:
    """Tell the viewers, and answer with the same encoded record."""
    record = PackedField.of("entity", entity.to_wire())
    domain.sessions.entity_event(ev, entity, record.packed)
    return record


def get(domain: Domain, session: Session, request: Request) -> dict[str, Any]:
    return {"entity": entity_arg(domain, request).to_wire()}


def edit(domain: Domain, session: Session, request: Request) -> Committing:
    entity = entity_arg(domain, request)
    grant = session.grant
    new = apply_edit(
        entity,
        session.actor,
        request.arg("set"),
        domain.lifetime_rule(grant),
        domain.script_checker(grant),
    )
    domain.world.replace(new)
    return Committing(domain.save_entities([new]), lambda: _announce("entity_changed", domain, new))


def delete(domain: Domain, session: Session, request: Request) -> Committing:
    entity = entity_arg(domain, request)
    check_owner_or_edit_any(entity, session.actor)
    domain.world.remove(entity.id)
    return Committing(domain.delete_entities([entity.id], "deleted"), dict)


def set_override(domain: Domain, session: Session, request: Request) -> Committing:
    entity = entity_arg(domain, request)
    check_owner_or_edit_any(entity, session.actor)
    override = override_from_wire(request.arg("anyone"), request.arg("groups", []))
    new = attrs.evolve(entity, override=override)
    domain.world.replace(new)
    return Committing(domain.save_entities([new]), lambda: _announce("entity_changed", domain, new))


def look(domain: Domain, session: Session, request: Request) -> dict[str, Any]:
    """Entities around a point, nearest first, paged; whatever the viewer muted is left out."""
    center = check.vec3(request.arg("center"), "center")
    radius = check.radius(request.arg("radius"))
    limit = page_limit(request.arg("limit"))
    after = decode_cursor(request.arg("cursor"), (float, str))
    mutes = session.mutes
    ranked = sorted(
        (e.distance2(center), e.id, e)
        for e in domain.world.in_area(center, radius)
        if not mutes.hides_entity(e)
    )
    if after is not None:
        key = (after[0], after[1])
        ranked = [r for r in ranked if (r[0], r[1]) > key]
    page = ranked[:limit]
    next_cursor = None
    if len(ranked) > limit:
        next_cursor = encode_cursor([page[-1][0], page[-1][1]])
    return {"entities": [e.to_wire() for _, _, e in page], "next": next_cursor}
