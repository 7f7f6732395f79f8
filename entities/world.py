"""The world: every entity, with the indexes that make each safety query cost its result.

Indexes by owner, by creator, by area (a uniform grid), by visibility, and by deadline
(the expiry heap). The world only holds and indexes; whether a change is allowed is
decided in `entities.rules` before it gets here.
"""

from __future__ import annotations

import heapq
import math
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from itertools import repeat
from operator import is_not

import attrs

from .expiry import ExpiryQueue
from .grid import SpatialGrid
from .model import Entity, Vec3

__all__ = ["OwnedRemoval", "World"]


def _index_add(index: dict[str | None, set[str]], key: str | None, entity_id: str) -> None:
    bucket = index.get(key)
    if bucket is None:
        index[key] = {entity_id}
    else:
        bucket.add(entity_id)


def _index_remove(index: dict[str | None, set[str]], key: str | None, entity_id: str) -> None:
    bucket = index.get(key)
    if bucket is not None:
        bucket.discard(entity_id)
        if not bucket:
            del index[key]


@attrs.frozen
class OwnedRemoval:
    """Everything of one owner, ready to leave the world (`World.plan_removal_of`)."""

    owner: str
    ids: list[str]
    entities: list[Entity]
    cells: dict[tuple[int, int, int], list[str]]
    strangers: list[Entity]
    temporary: list[str]


class World:
    def __init__(self, cell_size: float = 16.0) -> None:
        self._by_id: dict[str, Entity] = {}
        self._by_owner: dict[str | None, set[str]] = {}
        self._by_creator: dict[str | None, set[str]] = {}
        self._invisible: set[str] = set()
        # Lineage root of every entity rezzed through a parent; roots map to themselves implicitly.
        self._root: dict[str, str] = {}
        self.grid = SpatialGrid(cell_size)
        self.expiry = ExpiryQueue()

    def __len__(self) -> int:
        return len(self._by_id)

    def __contains__(self, entity_id: object) -> bool:
        return entity_id in self._by_id

    def get(self, entity_id: str) -> Entity | None:
        return self._by_id.get(entity_id)

    def all(self) -> Iterator[Entity]:
        return iter(self._by_id.values())

    def all_ids(self) -> Iterable[str]:
        return self._by_id.keys()

    def add(self, entity: Entity, *, schedule: bool = True) -> None:
        """Index a new entity (its id must be new)."""
        eid = entity.id
        if eid in self._by_id:
            raise KeyError(f"entity {eid} exists")
        self._by_id[eid] = entity
        _index_add(self._by_owner, entity.owner, eid)
        _index_add(self._by_creator, entity.creator, eid)
        if not entity.visible:
            self._invisible.add(eid)
        if entity.parent is not None:
            self._root[eid] = self._root.get(entity.parent, entity.parent)
        self.grid.insert(eid, entity.position)
        if schedule and entity.expires_at is not None:
            self.expiry.schedule(eid, entity.expires_at)

    def load(self, entities: Iterable[Entity]) -> None:
        """Add many entities at start-up; the expiry heap is built once at the end.

        The same indexing as `add`, inlined: at a million entities per restart the calls
        themselves were most of the cost.
        """
        pending: list[tuple[float, str]] = []
        by_id, by_owner, by_creator = self._by_id, self._by_owner, self._by_creator
        invisible, root, cells = self._invisible, self._root, self.grid._cells
        size = self.grid.cell_size
        floor = math.floor
        for entity in entities:
            eid = entity.id
            if eid in by_id:
                raise KeyError(f"entity {eid} exists")
            by_id[eid] = entity
            bucket = by_owner.get(entity.owner)
            if bucket is None:
                by_owner[entity.owner] = {eid}
            else:
                bucket.add(eid)
            bucket = by_creator.get(entity.creator)
            if bucket is None:
                by_creator[entity.creator] = {eid}
            else:
                bucket.add(eid)
            if not entity.visible:
                invisible.add(eid)
            if entity.parent is not None:
                root[eid] = root.get(entity.parent, entity.parent)
            x, y, z = entity.position
            cell = (floor(x / size), floor(y / size), floor(z / size))
            bucket = cells.get(cell)
            if bucket is None:
                cells[cell] = {eid}
            else:
                bucket.add(eid)
            if entity.expires_at is not None:
                pending.append((entity.expires_at, eid))
        self.expiry.bulk_load(pending)
        self.grid.recount()

    def replace(self, new: Entity) -> Entity:
        """Swap in an edited entity, keeping every index right; returns the old one."""
        old = self._by_id[new.id]
        if (old.owner, old.creator, old.parent) != (new.owner, new.creator, new.parent):
            raise ValueError("owner, creator and parent never change")
        self._by_id[new.id] = new
        if old.visible != new.visible:
            if new.visible:
                self._invisible.discard(new.id)
            else:
                self._invisible.add(new.id)
        if old.position != new.position:
            self.grid.move(new.id, old.position, new.position)
        if old.expires_at != new.expires_at:
            self.expiry.schedule(new.id, new.expires_at)
        return old

    def remove(self, entity_id: str) -> Entity | None:
        entity = self._by_id.pop(entity_id, None)
        if entity is None:
            return None
        _index_remove(self._by_owner, entity.owner, entity_id)
        _index_remove(self._by_creator, entity.creator, entity_id)
        self._invisible.discard(entity_id)
        self._root.pop(entity_id, None)
        self.grid.remove(entity_id, entity.position)
        if entity.expires_at is not None:
            self.expiry.cancel(entity_id)
        return entity

    def remove_owned(self, owner: str) -> list[str]:
        """Remove every entity of `owner` at once (a ban, a mass removal); returns their ids."""
        return self.remove_planned(self.plan_removal_of(owner))

    def plan_removal_of(self, owner: str) -> OwnedRemoval:
        """What removing everything of `owner` will take, worked out ahead (while its
        commit runs) so that `remove_planned` is mostly set operations: a ban of 100,000
        entities runs on the event loop after its commit."""
        ids = list(self._by_owner.get(owner, ()))
        by_id = self._by_id
        entities = list(map(by_id.__getitem__, ids))
        cells: dict[tuple[int, int, int], list[str]] = {}
        strangers: list[Entity] = []  # made by someone else for this owner: rare
        temporary: list[str] = []
        size, floor = self.grid.cell_size, math.floor
        for entity in entities:
            x, y, z = entity.position
            cell = (floor(x / size), floor(y / size), floor(z / size))
            bucket = cells.get(cell)
            if bucket is None:
                cells[cell] = [entity.id]
            else:
                bucket.append(entity.id)
            if entity.creator != owner:
                strangers.append(entity)
            if entity.expires_at is not None:
                temporary.append(entity.id)
        return OwnedRemoval(owner, ids, entities, cells, strangers, temporary)

    def remove_planned(self, plan: OwnedRemoval) -> list[str]:
        """Carry out `plan`, or, when the owner's entities changed since it was made, remove
        them afresh; returns the ids removed (`plan.ids` itself when the plan held)."""
        owner, ids, by_id = plan.owner, plan.ids, self._by_id
        held = self._by_owner.get(owner, ())
        if len(held) != len(ids):
            return self.remove_planned(self.plan_removal_of(owner)) if held else []
        if not ids:
            return ids
        taken = list(map(by_id.pop, ids, repeat(None)))
        if any(map(is_not, taken, plan.entities)):
            # Not each planned entity is still the very object planned: put back, plan again.
            by_id.update((e.id, e) for e in taken if e is not None)
            return self.remove_planned(self.plan_removal_of(owner))
        del self._by_owner[owner]
        self.grid.remove_all(plan.cells)
        by_creator = self._by_creator
        own = by_creator.get(owner)
        if own is not None:
            own.difference_update(ids)
            if not own:
                del by_creator[owner]
        for entity in plan.strangers:
            _index_remove(by_creator, entity.creator, entity.id)
        self._invisible.difference_update(ids)
        if self._root:
            deque(map(self._root.pop, ids, repeat(None)), maxlen=0)
        self.expiry.cancel_many(plan.temporary)
        return ids

    def lineage_root(self, entity_id: str) -> str:
        """The id of the first ancestor of `entity_id` (itself when it has no parent)."""
        return self._root.get(entity_id, entity_id)

    def owned_by(self, owner: str | None) -> frozenset[str] | set[str]:
        return self._by_owner.get(owner, frozenset())

    def created_by(self, creator: str | None) -> frozenset[str] | set[str]:
        return self._by_creator.get(creator, frozenset())

    def count_owned(self, owner: str | None) -> int:
        return len(self._by_owner.get(owner, ()))

    def owner_counts(self) -> Iterator[tuple[str | None, int]]:
        """(owner, how many entities it owns) for every owner, in no order."""
        return ((owner, len(ids)) for owner, ids in self._by_owner.items() if ids)

    def invisible_ids(self) -> set[str]:
        return self._invisible

    def in_area(self, center: Vec3, radius: float) -> list[Entity]:
        """Entities whose position lies within `radius` of `center`."""
        r2 = radius * radius
        by_id = self._by_id
        found = []
        for eid in self.grid.candidates(center, radius):
            entity = by_id[eid]
            if entity.distance2(center) <= r2:
                found.append(entity)
        return found

    def crossing(
        self, old: Vec3, new: Vec3, radius: float
    ) -> tuple[list[Entity], list[Entity]]:
        """What a sphere of `radius` gains and loses when its centre moves from `old` to
        `new`: (within it now but not before, within it before but not now). Only the cells
        near both spheres' surfaces are read, both distances worked out inline: an
        interest-managed viewer's range follows it at this cost, hundreds of times a second."""
        r2 = radius * radius
        ox, oy, oz = old
        nx, ny, nz = new
        # The sphere about the midpoint that holds both: radius r plus half the step.
        half = math.sqrt((nx - ox) ** 2 + (ny - oy) ** 2 + (nz - oz) ** 2) / 2
        middle = ((ox + nx) / 2, (oy + ny) / 2, (oz + nz) / 2)
        if half > radius / 4:
            # A long step (a teleport): the spheres barely overlap, and one sphere about the
            # midpoint holding both would grow with the step. Each is read on its own.
            now_in = self.in_area(new, radius)
            before_in = self.in_area(old, radius)
            now_ids, before_ids = {e.id for e in now_in}, {e.id for e in before_in}
            return ([e for e in now_in if e.id not in before_ids],
                    [e for e in before_in if e.id not in now_ids])  # fmt: skip
        by_id = self._by_id
        entered: list[Entity] = []
        left: list[Entity] = []
        # Only what lies within half a step of the sphere's surface can cross it.
        for bucket in self.grid.shell(middle, radius - half, radius + half):
            for eid in bucket:
                entity = by_id[eid]
                x, y, z = entity.position
                dx, dy, dz = x - nx, y - ny, z - nz
                now = dx * dx + dy * dy + dz * dz <= r2
                dx, dy, dz = x - ox, y - oy, z - oz
                if now != (dx * dx + dy * dy + dz * dz <= r2):
                    (entered if now else left).append(entity)
        return entered, left

    def nearest(
        self,
        center: Vec3,
        radius: float,
        limit: int,
        after: tuple[float, str] | None = None,
        hidden: Callable[[Entity], bool] | None = None,
    ) -> tuple[list[Entity], tuple[float, str] | None, int]:
        """Up to `limit` entities within `radius`, nearest first (ties by id), strictly
        after the key `after` (squared distance, id), leaving out what `hidden` says.
        Returns the page, the key of its last entity when more follow, and how many
        entities were examined: about the page and a shell of cells, not the whole area,
        so a far page costs what a near one does."""
        r2 = radius * radius
        by_id = self._by_id
        heap: list[tuple[float, str, Entity]] = []
        page: list[tuple[float, str, Entity]] = []
        examined = 0
        after_d2 = after[0] if after is not None else -1.0
        for near, far, bucket in self.grid.cells_near(center, radius):
            # Nothing in this cell or beyond comes before what the heap holds nearer.
            while heap and heap[0][0] < near:
                page.append(heapq.heappop(heap))
                if len(page) > limit:
                    return _paged(page, limit, examined)
            if far < after_d2:
                continue  # wholly before the cursor: its entities are not even read
            for eid in bucket:
                entity = by_id[eid]
                examined += 1
                d2 = entity.distance2(center)
                if d2 > r2 or (after is not None and (d2, eid) <= after):
                    continue
                if hidden is not None and hidden(entity):
                    continue
                heapq.heappush(heap, (d2, eid, entity))
        while heap and len(page) <= limit:
            page.append(heapq.heappop(heap))
        return _paged(page, limit, examined)


def _paged(
    ranked: list[tuple[float, str, Entity]], limit: int, examined: int
) -> tuple[list[Entity], tuple[float, str] | None, int]:
    more = len(ranked) > limit
    last = (ranked[limit - 1][0], ranked[limit - 1][1]) if more else None
    return [e for _, _, e in ranked[:limit]], last, examined
