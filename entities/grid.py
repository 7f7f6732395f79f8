"""A uniform spatial grid, so area queries cost what the area holds, not the whole world."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterator
from operator import itemgetter

from .model import Vec3

__all__ = ["SpatialGrid"]

THIN_AXIS = 64

Cell = tuple[int, int, int]


class SpatialGrid:
    """Maps cells of `cell_size` metres to the ids whose position falls in them."""

    def __init__(self, cell_size: float = 16.0) -> None:
        if cell_size <= 0:
            raise ValueError("cell_size must be positive")
        self.cell_size = cell_size
        self._cells: dict[Cell, set[str]] = {}
        # Occupied cells per index on each axis: a query's box is clamped to what is
        # occupied, so a flat world is not searched through empty layers above it.
        self._axes: tuple[Counter[int], Counter[int], Counter[int]] = (
            Counter(), Counter(), Counter()
        )

    def _cell(self, p: Vec3) -> Cell:
        s = self.cell_size
        return (math.floor(p[0] / s), math.floor(p[1] / s), math.floor(p[2] / s))

    def insert(self, entity_id: str, position: Vec3) -> None:
        cell = self._cell(position)
        bucket = self._cells.get(cell)
        if bucket is None:
            self._cells[cell] = {entity_id}
            for axis, k in zip(self._axes, cell, strict=True):
                axis[k] += 1
        else:
            bucket.add(entity_id)

    def remove(self, entity_id: str, position: Vec3) -> None:
        cell = self._cell(position)
        bucket = self._cells.get(cell)
        if bucket is not None:
            bucket.discard(entity_id)
            if not bucket:
                del self._cells[cell]
                for axis, k in zip(self._axes, cell, strict=True):
                    axis[k] -= 1
                    if not axis[k]:
                        del axis[k]

    def remove_all(self, cells: dict[Cell, list[str]]) -> None:
        """Remove ids given by the cell each is in (a mass removal); every id must be in
        the grid, in that cell."""
        grid = self._cells
        emptied = []
        for cell, ids in cells.items():
            bucket = grid[cell]
            if len(bucket) == len(ids):  # all of it goes: no set operation
                del grid[cell]
                emptied.append(cell)
            else:
                bucket.difference_update(ids)
        if emptied:
            # Counted in C, then subtracted per distinct index: not three updates a cell.
            for i, axis in enumerate(self._axes):
                axis -= Counter(map(itemgetter(i), emptied))

    def move(self, entity_id: str, old: Vec3, new: Vec3) -> None:
        if self._cell(old) != self._cell(new):
            self.remove(entity_id, old)
            self.insert(entity_id, new)

    def recount(self) -> None:
        """Count the occupied cells per axis again (after a bulk load filled the cells)."""
        self._axes = (Counter(), Counter(), Counter())
        for cell in self._cells:
            for axis, k in zip(self._axes, cell, strict=True):
                axis[k] += 1

    def _box(self, center: Vec3, radius: float) -> tuple[Cell, Cell]:
        """The cells a sphere's bounding box touches, clamped to the occupied extent."""
        lo = self._cell((center[0] - radius, center[1] - radius, center[2] - radius))
        hi = self._cell((center[0] + radius, center[1] + radius, center[2] + radius))
        if not self._cells:
            return lo, hi
        low, high = list(lo), list(hi)
        for i, axis in enumerate(self._axes):
            # Only a thin axis is clamped (the height of a flat world): its extent costs a
            # few steps to find, however many entities there are.
            if len(axis) <= THIN_AXIS:
                low[i], high[i] = max(lo[i], min(axis)), min(hi[i], max(axis))
        return (low[0], low[1], low[2]), (high[0], high[1], high[2])

    def candidates(self, center: Vec3, radius: float) -> Iterator[str]:
        """Ids in every cell the sphere's bounding box touches; the caller checks distance."""
        lo, hi = self._box(center, radius)
        span = (hi[0] - lo[0] + 1) * (hi[1] - lo[1] + 1) * (hi[2] - lo[2] + 1)
        cells = self._cells
        if span > len(cells):
            # A huge radius: walking the occupied cells is cheaper than the empty box.
            for (x, y, z), bucket in cells.items():
                if lo[0] <= x <= hi[0] and lo[1] <= y <= hi[1] and lo[2] <= z <= hi[2]:
                    yield from bucket
            return
        for x in range(lo[0], hi[0] + 1):
            for y in range(lo[1], hi[1] + 1):
                for z in range(lo[2], hi[2] + 1):
                    bucket = cells.get((x, y, z))
                    if bucket:
                        yield from bucket

    def shell(self, center: Vec3, inner: float, outer: float) -> Iterator[set[str]]:
        """The ids of every occupied cell that may hold a point whose distance from `center`
        lies between `inner` and `outer`: a cell whose centre is nearer than `inner` or
        farther than `outer` by more than half its diagonal is skipped unread."""
        s = self.cell_size
        reach = s * 0.8661  # half a cell's diagonal (sqrt(3) / 2), rounded up
        low = max(0.0, inner - reach) ** 2
        high = (outer + reach) ** 2
        cx, cy, cz = center[0] / s - 0.5, center[1] / s - 0.5, center[2] / s - 0.5
        lo, hi = self._box(center, outer)
        cells = self._cells
        s2 = s * s
        for x in range(lo[0], hi[0] + 1):
            dx2 = (x - cx) * (x - cx) * s2
            if dx2 > high:
                continue
            for y in range(lo[1], hi[1] + 1):
                dxy2 = dx2 + (y - cy) * (y - cy) * s2
                if dxy2 > high:
                    continue
                for z in range(lo[2], hi[2] + 1):
                    bucket = cells.get((x, y, z))
                    if bucket and low <= dxy2 + (z - cz) * (z - cz) * s2 <= high:
                        yield bucket

    def cells_near(self, center: Vec3, radius: float) -> list[tuple[float, float, set[str]]]:
        """Every occupied cell within `radius` of `center` as (nearest squared distance,
        farthest squared distance, its ids), nearest first: what a nearest-first search
        walks, cell by cell, reading only the entities it needs."""
        s = self.cell_size
        cx, cy, cz = center
        r2 = radius * radius
        lo, hi = self._box(center, radius)
        span = (hi[0] - lo[0] + 1) * (hi[1] - lo[1] + 1) * (hi[2] - lo[2] + 1)
        cells = self._cells
        if span > len(cells):
            keys: Iterator[Cell] = (
                k for k in cells
                if lo[0] <= k[0] <= hi[0] and lo[1] <= k[1] <= hi[1] and lo[2] <= k[2] <= hi[2]
            )  # fmt: skip
        else:
            keys = (
                (x, y, z)
                for x in range(lo[0], hi[0] + 1)
                for y in range(lo[1], hi[1] + 1)
                for z in range(lo[2], hi[2] + 1)
                if (x, y, z) in cells
            )
        found = []
        for key in keys:
            near = far = 0.0
            for c, k in zip((cx, cy, cz), key, strict=True):
                low, high = k * s, (k + 1) * s
                gap = low - c if c < low else c - high if c > high else 0.0
                near += gap * gap
                reach = max(c - low, high - c)
                far += reach * reach
            if near <= r2:
                found.append((near, far, cells[key]))
        found.sort(key=lambda cell: cell[0])
        return found
