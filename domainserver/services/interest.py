"""Where interest-managed viewers are (protocol extension `interest`): a coarse grid of their
spheres of interest, so an event near a point reaches only the viewers whose sphere can hold
it, and a flood at one end of a domain costs nothing to viewers at the other."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import TYPE_CHECKING

from entities import Vec3

if TYPE_CHECKING:
    from .sessions import Session

__all__ = ["InterestGrid"]

_Cell = tuple[int, int, int]


class InterestGrid:
    """Each viewer is registered in the cells its sphere's bounding box touches; with cells
    as large as the largest radius, that is at most 8, and a point is looked up in one."""

    def __init__(self, cell_size: float) -> None:
        self.cell_size = cell_size
        self._cells: dict[_Cell, set[Session]] = {}
        self._placed: dict[Session, list[_Cell]] = {}

    def __len__(self) -> int:
        return len(self._placed)

    def sessions(self) -> Iterable[Session]:
        """Every interest-managed viewer."""
        return self._placed.keys()

    def _cell(self, p: Vec3) -> _Cell:
        s = self.cell_size
        return (math.floor(p[0] / s), math.floor(p[1] / s), math.floor(p[2] / s))

    def _covered(self, center: Vec3, radius: float) -> list[_Cell]:
        lo = self._cell((center[0] - radius, center[1] - radius, center[2] - radius))
        hi = self._cell((center[0] + radius, center[1] + radius, center[2] + radius))
        return [
            (x, y, z)
            for x in range(lo[0], hi[0] + 1)
            for y in range(lo[1], hi[1] + 1)
            for z in range(lo[2], hi[2] + 1)
        ]

    def place(self, session: Session, position: Vec3, radius: float) -> None:
        """(Re)register `session`'s sphere; cheap when it stays in the same cells."""
        cells = self._covered(position, radius)
        old = self._placed.get(session)
        if old == cells:
            return
        if old is not None:
            self._unplace(session, old)
        for cell in cells:
            self._cells.setdefault(cell, set()).add(session)
        self._placed[session] = cells

    def remove(self, session: Session) -> None:
        old = self._placed.pop(session, None)
        if old is not None:
            self._unplace(session, old)

    def _unplace(self, session: Session, cells: list[_Cell]) -> None:
        for cell in cells:
            bucket = self._cells.get(cell)
            if bucket is not None:
                bucket.discard(session)
                if not bucket:
                    del self._cells[cell]

    def near(self, p: Vec3) -> set[Session] | tuple[()]:
        """The viewers whose sphere may hold `p` (the caller checks the distance)."""
        return self._cells.get(self._cell(p), ())
