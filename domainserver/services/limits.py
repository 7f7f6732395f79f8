"""Who may open a connection now: limits in all and per address (after the trusted proxy's
X-Forwarded-For), hellos per second per address, and refusals logged without flooding."""

from __future__ import annotations

import ipaddress
import logging
import time
from collections import Counter
from collections.abc import Callable, Iterable

from entities import RateBuckets

__all__ = ["ConnectionLimits", "client_address"]

log = logging.getLogger(__name__)

# A refusal of one kind for one address is logged once a window, with how many followed.
LOG_WINDOW = 60.0


def _is_loopback(address: str) -> bool:
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


def client_address(peer: str | None, forwarded_for: str | None, trusted: Iterable[str]) -> str:
    """The address a connection comes from: its peer, or, when the peer is a trusted proxy,
    the nearest address in X-Forwarded-For that is not itself a trusted proxy."""
    trusted = frozenset(trusted)
    address = peer or "?"
    if address in trusted and forwarded_for:
        for hop in reversed([h.strip() for h in forwarded_for.split(",")]):
            if hop and hop not in trusted:
                return hop
    return address


class ConnectionLimits:
    """Counts connections and hellos; answers why one is refused, or None."""

    def __init__(
        self,
        max_connections: int,
        per_address: int,
        hellos_per_second: float,
        limit_loopback: bool,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_connections = max_connections
        self.per_address = per_address
        self.hellos_per_second = hellos_per_second
        self.limit_loopback = limit_loopback
        self.clock = clock
        self.open = 0
        self.by_address: Counter[str] = Counter()
        self._hellos = RateBuckets()
        self._logged: dict[tuple[str, str], tuple[float, int]] = {}
        self.refused: Counter[str] = Counter()  # by reason, for the metrics

    def admit(self, address: str) -> str | None:
        """Count a new connection from `address`, or say why it is refused (not counted)."""
        reason = self._why_not(address)
        if reason is not None:
            self.refused[reason] += 1
            self._log_refusal(reason, address)
            return reason
        self.open += 1
        self.by_address[address] += 1
        return None

    def release(self, address: str) -> None:
        self.open -= 1
        self.by_address[address] -= 1
        if self.by_address[address] <= 0:
            del self.by_address[address]

    def _why_not(self, address: str) -> str | None:
        if self.open >= self.max_connections:
            return "server full"
        if not self.limit_loopback and _is_loopback(address):
            return None
        if self.by_address[address] >= self.per_address:
            return "too many connections from this address"
        if not self._hellos.take(address, self.hellos_per_second, self.clock()):
            return "too many new connections a second from this address"
        return None

    def _log_refusal(self, reason: str, address: str) -> None:
        now = self.clock()
        key = (reason, address)
        since, count = self._logged.get(key, (0.0, 0))
        if now - since < LOG_WINDOW:
            self._logged[key] = (since, count + 1)
            return
        more = f" ({count} more since the last line)" if count else ""
        log.warning("connection refused from %s: %s%s", address, reason, more,
                    extra={"event": "refused", "peer": address, "reason": reason})  # fmt: skip
        self._logged[key] = (now, 0)
        if len(self._logged) > 10_000:  # forget the oldest windows: bounded memory
            cutoff = now - LOG_WINDOW
            self._logged = {k: v for k, v in self._logged.items() if v[0] >= cutoff}

    def sweep(self) -> None:
        """Forget idle hello buckets (called now and then by the expiry loop)."""
        self._hellos.forget_idle(self.clock())
