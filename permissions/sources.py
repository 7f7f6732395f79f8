"""Where a ban comes from, and which source wins: local bans and the tokens each subscribed
feed lists, merged by one pure rule (local first; then feed priority; members never).

Admission stays O(1) in the size of the lists: a lookup costs one set or dict probe per
feed, and a domain subscribes to a handful of feeds, not to thousands.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import attrs

from permissions.banlist import BanList

__all__ = [
    "SEVERITY",
    "Decision",
    "Holding",
    "Conflict",
    "FeedRule",
    "FeedBans",
    "decide",
    "sources_of",
]

# Where two feeds of equal priority list a token, the stronger action applies.
SEVERITY = {"ban": 3, "rez-deny": 2, "advisory": 1}
_MISSING = object()


@attrs.frozen
class FeedRule:
    """What a subscription does with what its feed lists, and how it ranks."""

    name: str
    action: str
    priority: int = 0


@attrs.frozen
class Decision:
    """The one action in force on a token: `ban`, `rez-deny` or `advisory`, and the
    source it comes from: `local` or `feed NAME`."""

    action: str
    source: str

    @property
    def feed(self) -> str | None:
        """The deciding feed's name; None for a local ban."""
        return self.source[5:] if self.source.startswith("feed ") else None


@attrs.frozen
class Holding:
    """One source that lists a token, in force or not, and whether it decides."""

    source: str
    action: str
    expires_at: float | None
    deciding: bool

    def to_wire(self) -> dict[str, object]:
        return attrs.asdict(self)


@attrs.frozen
class Conflict:
    """A feed lists a token that `[members]` names: it is never acted on, and shown."""

    feed: str
    token: str
    role: str
    action: str

    def to_wire(self) -> dict[str, str]:
        return attrs.asdict(self)


class FeedBans:
    """Every subscribed feed's last good list: token -> expires_at (None: permanent)."""

    def __init__(self) -> None:
        self._rules: dict[str, FeedRule] = {}
        self._entries: dict[str, dict[str, float | None]] = {}
        self._order: list[tuple[str, dict[str, float | None], str]] = []

    def __contains__(self, name: object) -> bool:
        return name in self._rules

    def names(self) -> list[str]:
        """The feeds in order of precedence (highest priority first)."""
        return [name for name, _, _ in self._order]

    def rule(self, name: str) -> FeedRule:
        return self._rules[name]

    def entries(self, name: str) -> Mapping[str, float | None]:
        """The feed's tokens (a live read-only view)."""
        return self._entries.get(name, {})

    def set_rule(self, rule: FeedRule) -> None:
        """Add a feed (with no entries yet) or change what an existing one does."""
        self._rules[rule.name] = rule
        self._entries.setdefault(rule.name, {})
        self._reorder()

    def drop(self, name: str) -> set[str]:
        """Forget a feed (its subscription was removed); returns the tokens it listed."""
        self._rules.pop(name, None)
        gone = self._entries.pop(name, {})
        self._reorder()
        return set(gone)

    def replace(self, name: str, entries: Mapping[str, float | None]) -> set[str]:
        """Install a feed's whole list; returns the tokens whose entry changed."""
        old = self._entries.get(name, {})
        new = dict(entries)
        changed = set(old.keys() - new.keys())
        changed.update(t for t, exp in new.items() if old.get(t, _MISSING) != exp)
        self._entries[name] = new
        self._reorder()
        return changed

    def apply(self, name: str, changes: Iterable[tuple[str, bool, float | None]]) -> set[str]:
        """Apply a delta `(token, banned, expires_at)`; returns the tokens that changed."""
        entries = self._entries.setdefault(name, {})
        changed: set[str] = set()
        for token, banned, expires_at in changes:
            if banned:
                if entries.get(token, _MISSING) != expires_at:
                    entries[token] = expires_at
                    changed.add(token)
            elif entries.pop(token, _MISSING) is not _MISSING:
                changed.add(token)
        return changed

    def decide(self, token: str, now: float, members: Mapping[str, str]) -> Decision | None:
        """What the feeds impose on `token` at `now`: the highest-priority feed listing it
        (equal priorities: the stronger action, then the name) decides. None for a member."""
        if token in members:
            return None
        for name, entries, action in self._order:
            expires_at = entries.get(token, _MISSING)
            if expires_at is not _MISSING and (expires_at is None or expires_at > now):
                return Decision(action, "feed " + name)
        return None

    def holdings(self, token: str, now: float) -> list[tuple[str, str, float | None, bool]]:
        """(feed, action, expires_at, in force) for every feed listing `token`, in order."""
        out = []
        for name, entries, action in self._order:
            if token in entries:
                expires_at = entries[token]
                out.append((name, action, expires_at, expires_at is None or expires_at > now))
        return out

    def conflicts(self, members: Mapping[str, str], now: float) -> list[Conflict]:
        """Every (feed, member) pair where a feed in force lists a token `[members]` names."""
        found = []
        for token, role in sorted(members.items()):
            for name, action, _, live in self.holdings(token, now):
                if live:
                    found.append(Conflict(name, token, role, action))
        return found

    def _reorder(self) -> None:
        rules = sorted(
            self._rules.values(), key=lambda r: (-r.priority, -SEVERITY[r.action], r.name)
        )
        self._order = [(r.name, self._entries.setdefault(r.name, {}), r.action) for r in rules]


def decide(
    token: str, now: float, local: BanList, feeds: FeedBans, members: Mapping[str, str]
) -> Decision | None:
    """The action in force on `token`: a local ban always wins; otherwise the feeds decide
    (never for a token `[members]` names). None: nothing holds it."""
    if local.is_banned(token, now):
        return Decision("ban", "local")
    return feeds.decide(token, now, members)


def sources_of(
    token: str, now: float, local: BanList, feeds: FeedBans, members: Mapping[str, str]
) -> list[Holding]:
    """Every source that lists `token`, the deciding one marked (the operator's view)."""
    winner = decide(token, now, local, feeds, members)
    out = []
    if local.is_banned(token, now):
        out.append(Holding("local", "ban", local.expires_at(token), True))
    for name, action, expires_at, live in feeds.holdings(token, now):
        source = "feed " + name
        deciding = live and winner is not None and winner.source == source
        out.append(Holding(source, action, expires_at, deciding))
    return out

