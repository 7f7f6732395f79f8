"""A visitor's mutes, and the one question the server asks of them: is this hidden?

Entity, owner and avatar mutes are set lookups; area and invisible mutes are judged
against the entity as it is when each event is delivered (contract §2.3).
"""

from __future__ import annotations

import math
from typing import Any

import attrs
import msgpack

from . import fields
from .errors import BadRequest
from .model import Entity, Vec3
from .tokens import is_token

__all__ = ["MuteTarget", "MuteSet"]


@attrs.frozen
class MuteTarget:
    """One mute target; `key` is its canonical identity (for storage and de-duplication)."""

    kind: str  # entity | owner | avatar | area | invisible
    value: Any  # id, token, (center, radius) or True

    @classmethod
    def from_wire(cls, target: Any) -> MuteTarget:
        if not isinstance(target, dict) or len(target) != 1:
            raise BadRequest(
                "target must be a map with exactly one of entity, owner, avatar, area, invisible"
            )
        ((kind, value),) = target.items()
        if kind == "entity":
            if not isinstance(value, str) or not value:
                raise BadRequest("target.entity must be an entity id")
            return cls("entity", value)
        if kind in ("owner", "avatar"):
            if not is_token(value):
                raise BadRequest(f"target.{kind} must be an owner token")
            return cls(kind, value)
        if kind == "area":
            if not isinstance(value, dict) or set(value) != {"center", "radius"}:
                raise BadRequest("target.area must be {center: [x, y, z], radius: r}")
            center = fields.vec3(value["center"], "target.area.center")
            return cls("area", (center, fields.radius(value["radius"], "target.area.radius")))
        if kind == "invisible":
            if value is not True:
                raise BadRequest("target.invisible must be true")
            return cls("invisible", True)
        raise BadRequest(f"unknown mute target {kind!r}")

    @classmethod
    def from_blob(cls, blob: bytes) -> MuteTarget:
        return cls.from_wire(msgpack.unpackb(blob))

    def to_wire(self) -> dict[str, Any]:
        if self.kind == "area":
            center, radius = self.value
            return {"area": {"center": list(center), "radius": radius}}
        return {self.kind: self.value}

    @property
    def key(self) -> str:
        if self.kind == "area":
            (x, y, z), r = self.value
            return f"area:{x!r},{y!r},{z!r},{r!r}"
        return f"{self.kind}:{self.value}"


# Area mutes are indexed on grids whose cells double in size level by level from this one:
# an area sits on the level where it spans at most two cells a side, so judging an entity
# costs one lookup per level in use and a check of the areas around it, not of them all.
AREA_CELL = 16.0

_Area = tuple[Vec3, float]  # (center, radius squared)
_Cell = tuple[int, int, int]


def _level_of(radius: float) -> int:
    level = 0
    while AREA_CELL * (1 << level) < 2 * radius:
        level += 1
    return level


def _cell(p: Vec3, size: float) -> _Cell:
    return (math.floor(p[0] / size), math.floor(p[1] / size), math.floor(p[2] / size))


def _covered_cells(center: Vec3, radius: float, size: float) -> list[_Cell]:
    lo = _cell((center[0] - radius, center[1] - radius, center[2] - radius), size)
    hi = _cell((center[0] + radius, center[1] + radius, center[2] + radius), size)
    return [
        (x, y, z)
        for x in range(lo[0], hi[0] + 1)
        for y in range(lo[1], hi[1] + 1)
        for z in range(lo[2], hi[2] + 1)
    ]


class MuteSet:
    """Everything one visitor has muted; adding or removing a mute costs O(1)."""

    def __init__(self) -> None:
        self.targets: dict[str, MuteTarget] = {}
        self._entities: set[str] = set()
        self._owners: set[str] = set()
        self._avatars: set[str] = set()
        # level -> cell -> the areas registered there
        self._areas: dict[int, dict[_Cell, list[_Area]]] = {}
        self._invisible = False

    def __len__(self) -> int:
        return len(self.targets)

    def add(self, target: MuteTarget) -> bool:
        """Add a target; False when it was already muted."""
        if target.key in self.targets:
            return False
        self.targets[target.key] = target
        self._index(target, add=True)
        return True

    def remove(self, target: MuteTarget) -> bool:
        if self.targets.pop(target.key, None) is None:
            return False
        self._index(target, add=False)
        return True

    def _index(self, target: MuteTarget, add: bool) -> None:
        kind, value = target.kind, target.value
        if kind == "invisible":
            self._invisible = add
        elif kind == "area":
            center, radius = value
            level = _level_of(radius)
            cells = self._areas.setdefault(level, {})
            area = (center, radius * radius)
            for cell in _covered_cells(center, radius, AREA_CELL * (1 << level)):
                if add:
                    cells.setdefault(cell, []).append(area)
                else:
                    cells[cell].remove(area)
                    if not cells[cell]:
                        del cells[cell]
            if not cells:
                del self._areas[level]
        else:
            index = {"entity": self._entities, "owner": self._owners, "avatar": self._avatars}
            (index[kind].add if add else index[kind].discard)(value)

    def hides_entity(self, entity: Entity) -> bool:
        """True when a mute covers this entity as it is now."""
        if not self.targets:
            return False
        if entity.id in self._entities or (
            entity.owner is not None and entity.owner in self._owners
        ):
            return True
        if self._invisible and not entity.visible:
            return True
        if self._areas:
            p = entity.position
            for level, cells in self._areas.items():
                near = cells.get(_cell(p, AREA_CELL * (1 << level)))
                if near and any(entity.distance2(c) <= r2 for c, r2 in near):
                    return True
        return False

    def hides_avatar(self, token: str) -> bool:
        """True when this avatar's chat is muted (an owner mute covers the avatar too)."""
        return token in self._avatars or token in self._owners
