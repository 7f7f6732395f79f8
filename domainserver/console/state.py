"""The console's sign-ins: a random session id (the cookie) mapped to the API key's name and
hash, never the key; scopes are read from the live policy on every request, so a key
removed or narrowed in the permissions file loses its access at once."""

from __future__ import annotations

import asyncio
import hmac
import secrets
import time
from collections import OrderedDict, deque
from collections.abc import Callable

import attrs
from aiohttp import web

from permissions import Policy

from ..services.history import History

__all__ = [
    "Operator",
    "ConsoleSessions",
    "SignInLimiter",
    "CONSOLE_STATE",
    "ConsoleState",
    "HISTORY",
]

IDLE = 8 * 3600.0
"""Seconds a console session lives without a request."""
LONGEST = 24 * 3600.0
"""Seconds a console session lives at most: sign in again after a day."""
MAX_SESSIONS = 1000
"""Sessions kept at most; the least recently used goes first."""


@attrs.frozen
class Operator:
    """Who is signed in, as the policy in force sees them now."""

    sid: str
    name: str
    scopes: frozenset[str]
    csrf: str

    @property
    def actor(self) -> str:
        """The room log's actor for what this operator does: the key's `api:NAME`."""
        return "api:" + self.name

    def may(self, scope: str) -> bool:
        return scope in self.scopes


@attrs.define
class _Entry:
    name: str
    sha256: str
    csrf: str
    created: float
    seen: float
    flash: list[str] = attrs.Factory(list)


class ConsoleSessions:
    """Session id -> (key name, key hash, CSRF token)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._by_id: OrderedDict[str, _Entry] = OrderedDict()

    def __len__(self) -> int:
        return len(self._by_id)

    def sign_in(self, policy: Policy, key: str) -> str | None:
        """A new session id for a key the policy knows, or None."""
        found = policy.api_key(key.strip())
        if found is None:
            return None
        now = self._clock()
        sid = secrets.token_urlsafe(32)
        self._by_id[sid] = _Entry(found.name, found.sha256, secrets.token_urlsafe(32), now, now)
        while len(self._by_id) > MAX_SESSIONS:
            self._by_id.popitem(last=False)
        return sid

    def operator(self, policy: Policy, sid: str | None) -> Operator | None:
        """The operator of a session, if it is live and its key is still in the policy with
        the same hash; the scopes are the policy's now."""
        if not sid:
            return None
        entry = self._by_id.get(sid)
        if entry is None:
            return None
        now = self._clock()
        key = policy.api_keys.get(entry.name)
        expired = now - entry.seen > IDLE or now - entry.created > LONGEST
        if expired or key is None or not hmac.compare_digest(key.sha256, entry.sha256):
            del self._by_id[sid]
            return None
        entry.seen = now
        self._by_id.move_to_end(sid)
        return Operator(sid, entry.name, key.scopes, entry.csrf)

    def flash(self, sid: str, message: str) -> None:
        """A message the session's next page shows once (what an action did)."""
        entry = self._by_id.get(sid)
        if entry is not None:
            entry.flash = [*entry.flash[-4:], message]

    def take_flash(self, sid: str) -> list[str]:
        entry = self._by_id.get(sid)
        if entry is None:
            return []
        messages, entry.flash = entry.flash, []
        return messages

    def sign_out(self, sid: str | None) -> None:
        if sid:
            self._by_id.pop(sid, None)


class SignInLimiter:
    """Failed sign-ins per address: `attempts` within `window` seconds, then refused until
    the oldest failure leaves the window. A key is 256 bits; this keeps the log quiet and
    the CPU free rather than protecting the keys."""

    def __init__(self, attempts: int = 5, window: float = 60.0,
                 clock: Callable[[], float] = time.monotonic) -> None:  # fmt: skip
        self.attempts = attempts
        self.window = window
        self._clock = clock
        self._failures: dict[str, deque[float]] = {}

    def _recent(self, address: str) -> deque[float]:
        now = self._clock()
        failures = self._failures.get(address, deque())
        while failures and now - failures[0] > self.window:
            failures.popleft()
        if not failures:
            self._failures.pop(address, None)
        return failures

    def blocked(self, address: str) -> float:
        """Seconds until `address` may try again; 0 when it may now."""
        failures = self._recent(address)
        if len(failures) < self.attempts:
            return 0.0
        return max(0.0, self.window - (self._clock() - failures[0]))

    def failed(self, address: str) -> None:
        if len(self._failures) > 10_000:  # never grows without bound under a spray
            self._failures.clear()
        self._failures.setdefault(address, deque()).append(self._clock())


@attrs.define
class ConsoleState:
    """What the console keeps between requests, on the application."""

    sessions: ConsoleSessions = attrs.field(factory=ConsoleSessions)
    limiter: SignInLimiter = attrs.field(factory=SignInLimiter)
    prefix: str = ""
    closing: asyncio.Event = attrs.field(factory=asyncio.Event)  # set at shutdown: streams end
    verdict: object = None  # the last log verification and when: (LogVerdict, unix time)


CONSOLE_STATE: web.AppKey[ConsoleState] = web.AppKey("domainserver.console.state")
HISTORY: web.AppKey[History] = web.AppKey("domainserver.console.history")
