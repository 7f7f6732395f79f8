"""Entity changes queued but not yet committed. Writes validate against them (a second edit
builds on the first, a quota counts rezzes in flight); reads never see them."""

from __future__ import annotations

from collections import Counter

from entities import Entity, World

__all__ = ["PendingChanges"]


class PendingChanges:
    def __init__(self, world: World) -> None:
        self.world = world
        # id -> (ticket, the entity as it will be once committed; None once deleted)
        self._latest: dict[str, tuple[int, Entity | None]] = {}
        self._new_by_owner: Counter[str] = Counter()
        self._ticket = 0
        self.bans: Counter[str] = Counter()
        """Tokens whose ban is being committed: they may rez nothing meanwhile."""

    def __contains__(self, entity_id: object) -> bool:
        return entity_id in self._latest or entity_id in self.world

    def __len__(self) -> int:
        return len(self._latest)

    def latest(self, entity_id: str) -> Entity | None:
        """The entity as the writes queued so far leave it (None: absent or being deleted)."""
        hit = self._latest.get(entity_id)
        return self.world.get(entity_id) if hit is None else hit[1]

    def count_owned(self, owner: str) -> int:
        """Entities of `owner`, those being rezzed included."""
        return self.world.count_owned(owner) + self._new_by_owner[owner]

    def stage(self, entity_id: str, entity: Entity | None, new_owner: str | None = None) -> int:
        """Record a queued change; returns the ticket to `settle` it with."""
        self._ticket += 1
        self._latest[entity_id] = (self._ticket, entity)
        if new_owner is not None:
            self._new_by_owner[new_owner] += 1
        return self._ticket

    def settle(self, entity_id: str, ticket: int, new_owner: str | None = None) -> None:
        """The change of `ticket` committed (and was applied) or failed: forget it, unless
        a later change to the same entity is still queued."""
        hit = self._latest.get(entity_id)
        if hit is not None and hit[0] == ticket:
            del self._latest[entity_id]
        if new_owner is not None:
            self._new_by_owner[new_owner] -= 1
            if self._new_by_owner[new_owner] <= 0:
                del self._new_by_owner[new_owner]
