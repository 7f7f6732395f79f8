"""Deadline-ordered expiry: one heap for every temporary entity, never a timer or a scan each.

Edits and deletions leave stale heap entries behind; they are skipped when they surface
(the caller says whether an entry is still current), and the heap is rebuilt when stale
entries outnumber live ones, so memory stays proportional to what is pending.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable

__all__ = ["ExpiryQueue"]


class ExpiryQueue:
    def __init__(self) -> None:
        self._heap: list[tuple[float, str]] = []
        self._live: dict[str, float] = {}

    def __len__(self) -> int:
        return len(self._live)

    def schedule(self, entity_id: str, deadline: float | None) -> None:
        """Set (or with None, clear) the deadline of `entity_id`."""
        if deadline is None:
            self._live.pop(entity_id, None)
        else:
            self._live[entity_id] = deadline
            heapq.heappush(self._heap, (deadline, entity_id))
        if len(self._heap) > 64 and len(self._heap) > 2 * len(self._live):
            self._heap = [(d, i) for i, d in self._live.items()]
            heapq.heapify(self._heap)

    def cancel(self, entity_id: str) -> None:
        self.schedule(entity_id, None)

    def cancel_many(self, entity_ids: Iterable[str]) -> None:
        """Clear many deadlines at once (a mass removal)."""
        live = self._live
        for entity_id in entity_ids:
            live.pop(entity_id, None)
        if len(self._heap) > 64 and len(self._heap) > 2 * len(live):
            self._heap = [(d, i) for i, d in live.items()]
            heapq.heapify(self._heap)

    def bulk_load(self, items: list[tuple[float, str]]) -> None:
        """Schedule many at once in O(n) (start-up)."""
        for deadline, entity_id in items:
            self._live[entity_id] = deadline
        self._heap.extend(items)
        heapq.heapify(self._heap)

    def next_deadline(self) -> float | None:
        heap, live = self._heap, self._live
        while heap and live.get(heap[0][1]) != heap[0][0]:
            heapq.heappop(heap)
        return heap[0][0] if heap else None

    def pop_due(self, now: float, limit: int = 100_000) -> list[str]:
        """Remove and return ids whose deadline is at or before `now` (at most `limit`)."""
        heap, live = self._heap, self._live
        due: list[str] = []
        while heap and heap[0][0] <= now and len(due) < limit:
            deadline, entity_id = heapq.heappop(heap)
            if live.get(entity_id) == deadline:
                del live[entity_id]
                due.append(entity_id)
        return due
