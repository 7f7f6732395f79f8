"""Entity ops every visitor has (contract §2.3): rez, get, edit, delete, set_override, look.
Each parses its arguments and calls `services.entities`."""

from __future__ import annotations

from typing import Any

from entities import Entity, RezRequest, fields

from ..protocol.codec import Request
from ..services import entities
from ..services.commits import Committing
from ..services.domain import Domain
from ..services.paging import LOOK, decode_cursor, encode_cursor, page_limit
from ..services.sessions import Session

__all__ = ["rez", "get", "edit", "delete", "set_override", "look", "entity_arg"]


def entity_arg(domain: Domain, request: Request, name: str = "entity") -> Entity:
    """The entity the request names under `name`."""
    return entities.get(domain, fields.entity_id(request.arg(name), name))


def rez(domain: Domain, session: Session, request: Request) -> Committing:
    wanted = RezRequest.from_wire(request.arg("entity"), request.arg("parent"))
    return entities.rez(domain, session, wanted)


def get(domain: Domain, session: Session, request: Request) -> dict[str, Any]:
    return {"entity": entity_arg(domain, request).to_wire()}


def edit(domain: Domain, session: Session, request: Request) -> Committing:
    entity_id = fields.entity_id(request.arg("entity"))
    return entities.edit(domain, session, entity_id, request.arg("set"))


def delete(domain: Domain, session: Session, request: Request) -> Committing:
    return entities.delete(domain, session, fields.entity_id(request.arg("entity")))


def set_override(domain: Domain, session: Session, request: Request) -> Committing:
    entity_id = fields.entity_id(request.arg("entity"))
    anyone, groups = request.arg("anyone"), request.arg("groups", [])
    return entities.set_override(domain, session, entity_id, anyone, groups)


def look(domain: Domain, session: Session, request: Request) -> dict[str, Any]:
    """Entities around a point, nearest first, paged; whatever the viewer muted is left out."""
    center = fields.vec3(request.arg("center"), "center")
    radius = fields.radius(request.arg("radius"))
    limit = page_limit(request.arg("limit"), LOOK)
    after = decode_cursor(request.arg("cursor"), (float, str))
    page, last = entities.look(
        domain, session, center, radius, limit, None if after is None else (after[0], after[1])
    )
    return {
        "entities": [e.to_wire() for e in page],
        "next": None if last is None else encode_cursor(list(last)),
    }
