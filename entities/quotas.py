"""Rate budgets: token buckets per key (owner token, lineage root) holding one second's worth,
and never less than one request, so a rate below one admits one request in that many seconds.

A refused request spends nothing: callers ask `allows` for every bucket involved first
and `spend` only when all of them said yes, so a throttled griefer cannot drain a budget
it was never granted.
"""

from __future__ import annotations

__all__ = ["RateBuckets"]


class RateBuckets:
    def __init__(self) -> None:
        # key -> (tokens left, time of last refill)
        self._state: dict[str, tuple[float, float]] = {}

    def _level(self, key: str, rate: float, now: float) -> float:
        capacity = rate if rate >= 1.0 else 1.0
        state = self._state.get(key)
        if state is None:
            return capacity
        tokens, last = state
        return min(capacity, tokens + (now - last) * rate)

    def allows(self, key: str, rate: float, now: float, cost: float = 1.0) -> bool:
        """True when `key` has `cost` tokens at `rate` per second (capacity: `rate`, at
        least one)."""
        return rate > 0 and self._level(key, rate, now) >= cost

    def spend(self, key: str, rate: float, now: float, cost: float = 1.0) -> None:
        self._state[key] = (self._level(key, rate, now) - cost, now)

    def take(self, key: str, rate: float, now: float, cost: float = 1.0) -> bool:
        """`allows` then `spend`, for a single bucket."""
        if not self.allows(key, rate, now, cost):
            return False
        self.spend(key, rate, now, cost)
        return True

    def forget_idle(self, now: float, idle: float = 60.0) -> int:
        """Drop buckets untouched for `idle` seconds (they would be full anyway)."""
        stale = [k for k, (_, last) in self._state.items() if now - last > idle]
        for key in stale:
            del self._state[key]
        return len(stale)
