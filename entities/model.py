"""The entity value: what the server stamps, stores and sends. Immutable by type.

An edit never mutates an Entity; it builds a new one with `attrs.evolve`, and only the
edit rules in `entities.rules` decide which fields may differ. `owner`, `creator`, `id`,
`parent` and `created_at` have no setter anywhere.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

import attrs
import msgpack

__all__ = ["Entity", "Override", "Vec3", "NO_OVERRIDE", "EMPTY_PROPS"]

Vec3 = tuple[float, float, float]

# Shared so that a million entities without props or the default size cost nothing extra.
EMPTY_PROPS: Mapping[str, Any] = {}
_EMPTY_PROPS_BLOB = msgpack.packb({})


@attrs.frozen(slots=True)
class Override:
    """Who besides the owner may edit: anyone, or members of the named groups."""

    anyone: bool = False
    groups: frozenset[str] = frozenset()

    def admits(self, groups: frozenset[str]) -> bool:
        """True when an actor in `groups` is let in by this override."""
        return self.anyone or not self.groups.isdisjoint(groups)

    def to_wire(self) -> dict[str, Any]:
        return {"anyone": self.anyone, "groups": sorted(self.groups)}


NO_OVERRIDE = Override()


@attrs.frozen(slots=True)
class Entity:
    """One thing in the world, stamped with its rezzer's owner token."""

    id: str
    owner: str | None
    creator: str | None
    parent: str | None
    type: str
    position: Vec3
    dimensions: Vec3
    visible: bool
    expires_at: float | None
    script: str | None
    override: Override
    props: Mapping[str, Any]
    created_at: float

    @property
    def temporary(self) -> bool:
        return self.expires_at is not None

    def distance2(self, center: Vec3) -> float:
        """Squared distance from `center` to this entity's position."""
        p = self.position
        return (p[0] - center[0]) ** 2 + (p[1] - center[1]) ** 2 + (p[2] - center[2]) ** 2

    def to_wire(self) -> dict[str, Any]:
        """The contract's entity record (§2.2)."""
        return {
            "id": self.id,
            "owner": self.owner,
            "creator": self.creator,
            "parent": self.parent,
            "type": self.type,
            "position": list(self.position),
            "dimensions": list(self.dimensions),
            "visible": self.visible,
            "temporary": self.expires_at is not None,
            "expires_at": self.expires_at,
            "script": self.script,
            "override": self.override.to_wire(),
            "props": dict(self.props),
            "created_at": self.created_at,
        }

    def to_row(self) -> tuple[Any, ...]:
        """The storage row, in the column order of the `entities` table."""
        p, d, o = self.position, self.dimensions, self.override
        props = _EMPTY_PROPS_BLOB if not self.props else msgpack.packb(dict(self.props))
        return (
            self.id, self.owner, self.creator, self.parent, self.type,
            p[0], p[1], p[2], d[0], d[1], d[2],
            int(self.visible), self.expires_at, self.script,
            int(o.anyone), json.dumps(sorted(o.groups)) if o.groups else "[]", props,
            self.created_at,
        )  # fmt: skip

    @classmethod
    def from_row(cls, row: tuple[Any, ...], shared: dict[Any, Any] | None = None) -> Entity:
        """Rebuild an entity from its storage row.

        `shared`, when given, makes equal owner, creator, type, script and dimension values
        one object across rows: a restart of a million entities held by ten thousand owners
        keeps ten thousand token strings, not two million.
        """
        (eid, owner, creator, parent, etype, px, py, pz, dx, dy, dz,
         visible, expires_at, script, anyone, groups, props, created_at) = row  # fmt: skip
        dims = (dx, dy, dz)
        if shared is not None:
            dims = shared.setdefault(dims, dims)
            owner = shared.setdefault(owner, owner)
            creator = owner if creator == owner else shared.setdefault(creator, creator)
            etype = shared.setdefault(etype, etype)
            if script is not None:
                script = shared.setdefault(script, script)
        override = NO_OVERRIDE
        if anyone or groups != "[]":
            override = Override(bool(anyone), frozenset(json.loads(groups)))
        return cls(
            id=eid,
            owner=owner,
            creator=creator,
            parent=parent,
            type=etype,
            position=(px, py, pz),
            dimensions=dims,
            visible=bool(visible),
            expires_at=expires_at,
            script=script,
            override=override,
            props=EMPTY_PROPS if props == _EMPTY_PROPS_BLOB else msgpack.unpackb(props),
            created_at=created_at,
        )


def is_finite_number(value: object) -> bool:
    """True for an int or float that is not bool, nan or infinite."""
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
