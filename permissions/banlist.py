"""Who is banned right now: a set lookup at every hello, however long the list grows.

Tokens live in one set (constant-time admission for a million bans); the few bans with a
duration also sit in a deadline heap so expiry never scans the list.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable

__all__ = ["BanList"]


class BanList:
    def __init__(self) -> None:
        self._tokens: set[str] = set()
        self._expires: dict[str, float] = {}
        self._heap: list[tuple[float, str]] = []

    def __len__(self) -> int:
        return len(self._tokens)

    def __contains__(self, token: object) -> bool:
        return token in self._tokens

    def add(self, token: str, expires_at: float | None = None) -> None:
        """Ban `token` until `expires_at` (None: until lifted); a new ban replaces an old one."""
        self._tokens.add(token)
        if expires_at is None:
            self._expires.pop(token, None)
        else:
            self._expires[token] = expires_at
            heapq.heappush(self._heap, (expires_at, token))

    def bulk_load(self, bans: Iterable[tuple[str, float | None]]) -> None:
        for token, expires_at in bans:
            self._tokens.add(token)
            if expires_at is not None:
                self._expires[token] = expires_at
                self._heap.append((expires_at, token))
        heapq.heapify(self._heap)

    def remove(self, token: str) -> bool:
        self._expires.pop(token, None)
        if token in self._tokens:
            self._tokens.discard(token)
            return True
        return False

    def is_banned(self, token: str, now: float) -> bool:
        """True while a ban on `token` is in force (an expired one no longer counts)."""
        if token not in self._tokens:
            return False
        expires_at = self._expires.get(token)
        return expires_at is None or expires_at > now

    def expires_at(self, token: str) -> float | None:
        return self._expires.get(token)

    def next_expiry(self) -> float | None:
        heap = self._heap
        while heap and self._expires.get(heap[0][1]) != heap[0][0]:
            heapq.heappop(heap)
        return heap[0][0] if heap else None

    def pop_expired(self, now: float) -> list[str]:
        """Lift and return the bans whose time is up."""
        heap, lifted = self._heap, []
        while heap and heap[0][0] <= now:
            expires_at, token = heapq.heappop(heap)
            if self._expires.get(token) == expires_at:
                del self._expires[token]
                self._tokens.discard(token)
                lifted.append(token)
        return lifted
