"""The ownership and lifetime rules (contract §2.2–2.3), as pure functions.

Who may change an entity, what an edit may touch, and how long a rez lives. Each
function returns an answer or raises a DomainError; the server carries it out.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import attrs

from . import fields
from .errors import BadRequest, NotAllowed, NotOwner, OwnerImmutable
from .model import EMPTY_PROPS, NO_OVERRIDE, Entity, Override, Vec3

__all__ = [
    "Actor",
    "LifetimeRule",
    "RezRequest",
    "may_edit",
    "check_edit",
    "check_owner_or_edit_any",
    "lineage",
    "build_entity",
    "apply_edit",
    "override_from_wire",
    "DEFAULT_DIMENSIONS",
]

DEFAULT_DIMENSIONS: Vec3 = (0.1, 0.1, 0.1)
IMMUTABLE_FIELDS = frozenset({"owner", "creator", "id", "parent", "created_at"})
EDITABLE_FIELDS = frozenset(
    {"type", "position", "dimensions", "visible", "script", "props", "lifetime"}
)
REZ_FIELDS = frozenset({"type", "position", "dimensions", "visible", "lifetime", "script", "props"})
_UNSET: Any = object()


@attrs.frozen
class Actor:
    """Who is acting: their owner token, their groups, and whether they hold `edit_any`."""

    token: str
    groups: frozenset[str] = frozenset()
    edit_any: bool = False


@attrs.frozen
class LifetimeRule:
    """How long what an actor rezzes may live: their role's rez mode and the domain's caps."""

    temporary_only: bool
    default_temp: float
    max_temp: float

    def expires_at_for_rez(self, lifetime: float | None, now: float) -> float | None:
        if self.temporary_only:
            return now + min(self.default_temp if lifetime is None else lifetime, self.max_temp)
        return None if lifetime is None else now + lifetime

    def expires_at_for_edit(self, lifetime: float | None, created_at: float) -> float | None:
        if self.temporary_only:
            if lifetime is None:
                raise NotAllowed("your role may only make temporary entities")
            return created_at + min(lifetime, self.max_temp)
        return None if lifetime is None else created_at + lifetime


@attrs.frozen
class RezRequest:
    """A validated `rez` request: what the client asked for, before stamping."""

    type: str
    position: Vec3
    dimensions: Vec3
    visible: bool
    lifetime: float | None
    script: str | None
    props: Mapping[str, Any]
    parent: str | None

    @classmethod
    def from_wire(cls, entity: Any, parent: Any = None) -> RezRequest:
        if not isinstance(entity, dict):
            raise BadRequest("entity must be a map")
        if not REZ_FIELDS.issuperset(entity):
            unknown = set(entity) - REZ_FIELDS
            raise BadRequest(f"rez does not take {', '.join(sorted(map(str, unknown)))}")
        if parent is not None and not isinstance(parent, str):
            raise BadRequest("parent must be an entity id")
        # Absent optional fields skip their checks: a plain rez names only type and position.
        props = (fields.props(entity["props"]) or EMPTY_PROPS) if "props" in entity else EMPTY_PROPS
        type_ = fields.text(entity.get("type"), "type", fields.MAX_TYPE_LEN)
        position = fields.vec3(entity.get("position"), "position")
        dims = entity.get("dimensions")
        dims = DEFAULT_DIMENSIONS if dims is None else fields.positive_vec3(dims, "dimensions")
        visible = entity.get("visible", True)
        if visible is not True:
            visible = fields.boolean(visible, "visible")
        lifetime = entity.get("lifetime")
        if lifetime is not None:
            lifetime = fields.lifetime(lifetime)
        script = entity.get("script")
        if script is not None:
            script = fields.text(script, "script", fields.MAX_SCRIPT_LEN)
        return cls(
            type=type_,
            position=position,
            dimensions=dims,
            visible=visible,
            lifetime=lifetime,
            script=script,
            props=props,
            parent=parent,
        )


def may_edit(entity: Entity, actor: Actor) -> bool:
    """Owner, anyone the owner's override admits, or an `edit_any` holder."""
    if actor.edit_any:
        return True
    if entity.owner is None:
        return False
    return entity.owner == actor.token or entity.override.admits(actor.groups)


def check_edit(entity: Entity, actor: Actor) -> None:
    if not may_edit(entity, actor):
        raise NotOwner("only the owner (or whom the owner admits) may change this entity")


def check_owner_or_edit_any(entity: Entity, actor: Actor) -> None:
    """`delete` and `set_override` stay with the owner or `edit_any`, whatever the override."""
    if not actor.edit_any and (entity.owner is None or entity.owner != actor.token):
        raise NotOwner("only the owner may do this")


def lineage(rezzer: str, parent: Entity | None, rezzer_may_script: bool) -> str:
    """The creator token of a new entity: the rezzer's, or through a scripted parent its creator's.

    A parent must carry a script and the rezzer must be allowed to run scripts, so no one
    can pin a plain object's maker on their own rezzes.
    """
    if parent is None:
        return rezzer
    if parent.script is None:
        raise NotAllowed("a parent must be a scripted entity")
    if not rezzer_may_script:
        raise NotAllowed("rezzing through a parent needs script permission")
    return parent.creator if parent.creator is not None else rezzer


def build_entity(
    request: RezRequest,
    *,
    entity_id: str,
    owner: str,
    creator: str,
    now: float,
    rule: LifetimeRule,
) -> Entity:
    """Stamp a new entity: the owner comes from the session, never from the request."""
    return Entity(
        id=entity_id,
        owner=owner,
        creator=creator,
        parent=request.parent,
        type=request.type,
        position=request.position,
        dimensions=request.dimensions,
        visible=request.visible,
        expires_at=rule.expires_at_for_rez(request.lifetime, now),
        script=request.script,
        override=NO_OVERRIDE,
        props=request.props,
        created_at=now,
    )


def apply_edit(
    entity: Entity,
    actor: Actor,
    changes: Any,
    rule: LifetimeRule,
    check_script: Callable[[str], None],
) -> Entity:
    """The entity after `changes`, or a refusal; `not_owner` is decided before anything else."""
    check_edit(entity, actor)
    if not isinstance(changes, dict) or not changes:
        raise BadRequest("set must be a non-empty map of fields")
    immutable = IMMUTABLE_FIELDS.intersection(changes)
    if immutable:
        raise OwnerImmutable(f"{', '.join(sorted(immutable))} can never change")
    unknown = set(changes) - EDITABLE_FIELDS
    if unknown:
        raise BadRequest(f"edit cannot set {', '.join(sorted(map(str, unknown)))}")
    update: dict[str, Any] = {}
    if "type" in changes:
        update["type"] = fields.text(changes["type"], "type", fields.MAX_TYPE_LEN)
    if "position" in changes:
        update["position"] = fields.vec3(changes["position"], "position")
    if "dimensions" in changes:
        update["dimensions"] = fields.positive_vec3(changes["dimensions"], "dimensions")
    if "visible" in changes:
        update["visible"] = fields.boolean(changes["visible"], "visible")
    if "props" in changes:
        update["props"] = fields.props(changes["props"]) or EMPTY_PROPS
    if "script" in changes:
        script = fields.optional_text(changes["script"], "script", fields.MAX_SCRIPT_LEN)
        if script is not None:
            check_script(script)
        update["script"] = script
    if "lifetime" in changes:
        update["expires_at"] = rule.expires_at_for_edit(
            fields.lifetime(changes["lifetime"]), entity.created_at
        )
    return attrs.evolve(entity, **update)


def override_from_wire(anyone: Any, groups: Any) -> Override:
    if not isinstance(anyone, bool):
        raise BadRequest("anyone must be true or false")
    if not isinstance(groups, list) or not all(isinstance(g, str) and g for g in groups):
        raise BadRequest("groups must be a list of group names")
    if not anyone and not groups:
        return NO_OVERRIDE
    return Override(anyone=anyone, groups=frozenset(groups))
