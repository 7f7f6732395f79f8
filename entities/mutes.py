"""A visitor's mutes, and the one question the server asks of them: is this hidden?

Entity, owner and avatar mutes are set lookups; area and invisible mutes are judged
against the entity as it is when each event is delivered (contract §2.3).
"""

from __future__ import annotations

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


class MuteSet:
    """Everything one visitor has muted."""

    def __init__(self) -> None:
        self.targets: dict[str, MuteTarget] = {}
        self._entities: set[str] = set()
        self._owners: set[str] = set()
        self._avatars: set[str] = set()
        self._areas: list[tuple[Vec3, float]] = []
        self._invisible = False

    def __len__(self) -> int:
        return len(self.targets)

    def add(self, target: MuteTarget) -> bool:
        """Add a target; False when it was already muted."""
        if target.key in self.targets:
            return False
        self.targets[target.key] = target
        self._rebuild()
        return True

    def remove(self, target: MuteTarget) -> bool:
        if self.targets.pop(target.key, None) is None:
            return False
        self._rebuild()
        return True

    def _rebuild(self) -> None:
        by_kind: dict[str, list[Any]] = {}
        for t in self.targets.values():
            by_kind.setdefault(t.kind, []).append(t.value)
        self._entities = set(by_kind.get("entity", ()))
        self._owners = set(by_kind.get("owner", ()))
        self._avatars = set(by_kind.get("avatar", ()))
        self._areas = [(c, r * r) for c, r in by_kind.get("area", ())]
        self._invisible = "invisible" in by_kind

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
        return any(entity.distance2(c) <= r2 for c, r2 in self._areas)

    def hides_avatar(self, token: str) -> bool:
        """True when this avatar's chat is muted (an owner mute covers the avatar too)."""
        return token in self._avatars or token in self._owners
