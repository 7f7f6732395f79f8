"""Subscribed ban feeds (contract §7): what each feed's last good copy imposes, applied only
once it is committed, and carried out on the avatars it names (refused at hello, kicked,
denied rez, or pointed out to moderators). Fetching lives in `feedfetch`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from entities.errors import Banned
from permissions import FeedBans, FeedConfig, FeedDocument, FeedRule, decide, sources_of

from ..store import feeds as feed_rows
from .credentials import regrant
from .domain import Domain
from .entities import forget_owned
from .moderation import kick
from .sessions import Session

__all__ = [
    "FeedStatus",
    "load_feeds",
    "check_admission",
    "announce_entry",
    "accept",
    "note_failure",
    "drop",
    "act_on",
    "subscriptions",
    "sources",
]

log = logging.getLogger(__name__)
_MISSING = object()
BANNED_HERE = "banned here (by a ban list this domain follows)"


@attrs.define
class FeedStatus:
    """A subscription's state as the operator sees it; persisted with its last good copy."""

    name: str
    url: str
    key: str
    domain: str | None = None
    serial: int | None = None
    etag: str | None = None
    fetched_at: float | None = None
    ok_at: float | None = None
    errors: int = 0
    last_error: str | None = None
    entries: int = 0

    @classmethod
    def from_row(cls, row: feed_rows.StateRow) -> FeedStatus:
        return cls(*row)

    def to_row(self) -> feed_rows.StateRow:
        return attrs.astuple(self)  # type: ignore[return-value]

    def to_wire(self) -> dict[str, Any]:
        wire = attrs.asdict(self)
        del wire["etag"]
        return wire


def rule_of(config: FeedConfig) -> FeedRule:
    return FeedRule(config.name, config.action, config.priority)


def load_feeds(domain: Domain) -> dict[str, int]:
    """At start-up, before any hello: each configured feed's last good copy from the store.
    Copies of feeds no longer configured (or now read from another source) are left for the
    subscriber loop to drop with a commit."""
    feeds = domain.policy.feeds
    loaded = 0
    for row in domain.store.read(feed_rows.load_states):
        status = FeedStatus.from_row(row)
        config = feeds.get(status.name)
        if config is None or (config.url, config.key) != (status.url, status.key):
            continue
        name = status.name
        entries = dict(domain.store.read(lambda c, n=name: list(feed_rows.load_entries(c, n))))
        domain.feeds.set_rule(rule_of(config))
        domain.feeds.replace(status.name, entries)
        status.entries = len(entries)
        domain.feed_status[status.name] = status
        loaded += len(entries)
    return {"feeds": len(domain.feed_status), "feed_entries": loaded}


def check_admission(domain: Domain, token: str) -> None:
    """Refuse a hello with `banned` when a local ban or a feed with `action = "ban"` holds
    `token` (one set lookup, then one per subscribed feed)."""
    decision = decide(token, domain.clock(), domain.bans, domain.feeds, domain.policy.members)
    if decision is not None and decision.action == "ban":
        raise Banned(f"token {token} is banned here")


def announce_entry(domain: Domain, session: Session) -> None:
    """When a token a feed flags as advisory enters, tell the moderators who are here."""
    decision = domain.feeds.decide(session.token, domain.clock(), domain.policy.members)
    if decision is not None and decision.action == "advisory":
        _tell_moderators(domain, session.token, session.name, decision.source)


def _tell_moderators(domain: Domain, token: str, name: str | None, source: str) -> None:
    moderators = [s for s in domain.sessions if s.grant.has("ban") and s.token != token]
    fields = {"token": token, "name": name, "source": source}
    domain.sessions.push(moderators, "advisory", fields)
    domain.roomlog.record("advisory", None, token, {"source": source})


def act_on(domain: Domain, tokens: Iterable[str], why: str) -> None:
    """Carry out, on connected avatars, what the sources now say about `tokens`: a ban kicks
    (4003), a rez-deny (or its end) changes the grant, an advisory tells the moderators.
    Entities go too where the deciding feed says `remove_entities = true`."""
    now, members = domain.clock(), domain.policy.members
    configs = domain.policy.feeds
    for token in tokens:
        decision = decide(token, now, domain.bans, domain.feeds, members)
        feed = None if decision is None else decision.feed
        sessions = [s for s in domain.sessions.of_token(token) if not s.closing]
        if decision is not None and decision.action == "ban" and feed is not None:
            if sessions:
                kick(domain, token, BANNED_HERE, code=4003)
            config = configs.get(feed)
            if config is not None and config.remove_entities and domain.world.count_owned(token):
                record = domain.roomlog.entry("feed_ban_removal", None, token, {"feed": feed})
                forget_owned(domain, token, "banned", record)
            continue
        for session in sessions:
            granted = domain.grant_for(session.token, session.credential_groups)
            if (granted.may_rez, granted.may_script) != (
                session.grant.may_rez, session.grant.may_script,
            ):  # fmt: skip
                regrant(domain, session, why)
        if sessions and decision is not None and decision.action == "advisory":
            _tell_moderators(domain, token, sessions[0].name, decision.source)


def _plan(
    old: Mapping[str, float | None], doc: FeedDocument
) -> tuple[list[tuple[str, float | None]], list[str], int]:
    """(entries to write, tokens to delete, entries after) for a verified document."""
    if doc.is_delta:
        puts = [(t, exp) for t, banned, exp in doc.entries if banned]
        dels = [t for t, banned, _ in doc.entries if not banned and t in old]
        count = len(old) + sum(1 for t, _ in puts if t not in old) - len(dels)
        return puts, dels, count
    new = {t: exp for t, _, exp in doc.entries}
    puts = [(t, exp) for t, exp in new.items() if old.get(t, _MISSING) != exp]
    dels = [t for t in old if t not in new]
    return puts, dels, len(new)


async def accept(
    domain: Domain, config: FeedConfig, doc: FeedDocument, etag: str | None, now: float
) -> set[str]:
    """Make a verified document the feed's last good copy: written with its state in one
    unit, then applied in memory and carried out. Returns the tokens whose entry changed."""
    name, feeds = config.name, domain.feeds
    status = domain.feed_status[name]
    puts, dels, count = _plan(feeds.entries(name), doc)
    after = attrs.evolve(status, domain=doc.domain, serial=doc.serial, etag=etag,
                         fetched_at=now, ok_at=now, entries=count)  # fmt: skip
    row = after.to_row()
    changed: set[str] = set()

    def write(conn: Any) -> None:
        feed_rows.put_entries(conn, name, puts)
        feed_rows.delete_entries(conn, name, dels)
        feed_rows.save_state(conn, row)

    def apply() -> None:
        if name not in feeds:  # removed while this fetch was in flight; the drop follows
            return
        if doc.is_delta:
            changed.update(feeds.apply(name, doc.entries))
        else:
            changed.update(feeds.replace(name, {t: exp for t, _, exp in doc.entries}))
        domain.feed_status[name] = after

    extra = []
    if puts or dels:
        body = {"serial": doc.serial, "listed": len(puts), "lifted": len(dels), "entries": count}
        extra.append(domain.roomlog.entry("feed_update", None, name, body))
    await domain.writes.commit(write, *extra, apply=apply)
    act_on(domain, changed, f"feed {name}")
    return changed


async def note_failure(
    domain: Domain, config: FeedConfig, reason: str, now: float, *, refused: bool
) -> None:
    """A fetch that failed or a document refused: counted, logged (a refusal in the room log
    every time, an unreachable publisher once per streak), the last good copy kept."""
    status = domain.feed_status.get(config.name)
    if status is None:
        return
    first = status.last_error is None or (status.ok_at or 0) >= (status.fetched_at or 0)
    after = attrs.evolve(status, fetched_at=now, errors=status.errors + 1, last_error=reason)
    row = after.to_row()
    extra = []
    if refused or first:
        kind = "feed_refused" if refused else "feed_unreachable"
        extra.append(domain.roomlog.entry(kind, None, config.name, {"reason": reason}))
    log.warning("feed %s: %s; keeping the last good copy (serial %s)", config.name, reason,
                status.serial, extra={"event": "feed_refused" if refused else "feed_failed",
                                      "feed": config.name})  # fmt: skip

    def apply() -> None:
        if config.name in domain.feed_status:
            domain.feed_status[config.name] = after

    await domain.writes.commit(lambda c: feed_rows.save_state(c, row), *extra, apply=apply)


async def drop(domain: Domain, name: str) -> None:
    """A subscription removed (or now pointing elsewhere): its copy deleted, then what it
    imposed lifted, unless another source still holds the token."""
    held = set(domain.feeds.entries(name))

    def apply() -> None:
        domain.feeds.drop(name)
        domain.feed_status.pop(name, None)

    await domain.writes.commit(
        lambda c: feed_rows.drop(c, name),
        domain.roomlog.entry("feed_removed", None, name, {"entries": len(held)}),
        apply=apply,
    )
    act_on(domain, held & set(domain.sessions.tokens()), f"feed {name} removed")


def configure(domain: Domain, feeds: FeedBans, configs: Mapping[str, FeedConfig]) -> None:
    """Install the rules (action, priority) of the configured feeds; a new one starts with an
    empty copy. Rules are the operator's file, not the database: they apply at once."""
    for config in configs.values():
        feeds.set_rule(rule_of(config))
        if config.name not in domain.feed_status:
            domain.feed_status[config.name] = FeedStatus(config.name, config.url, config.key)


def subscriptions(domain: Domain) -> dict[str, Any]:
    """Each subscription's settings and state, the conflicts with `[members]`, and what this
    domain publishes (the operator's view)."""
    configs = domain.policy.feeds
    listed = []
    for name in sorted(configs):
        config = configs[name]
        status = domain.feed_status.get(name) or FeedStatus(name, config.url, config.key)
        listed.append({**status.to_wire(), "action": config.action, "priority": config.priority,
                       "refresh": config.refresh, "remove_entities": config.remove_entities})
    conflicts = domain.feeds.conflicts(domain.policy.members, domain.clock())
    return {
        "feeds": listed,
        "conflicts": [c.to_wire() for c in conflicts],
        "publish": domain.policy.publish,
    }


def sources(domain: Domain, token: str) -> dict[str, Any]:
    """Which sources hold `token` (local, or feed NAME), which one decides, and whether it is a
    conflict (a member a feed lists)."""
    now, members = domain.clock(), domain.policy.members
    decision = decide(token, now, domain.bans, domain.feeds, members)
    held = sources_of(token, now, domain.bans, domain.feeds, members)
    return {
        "token": token,
        "decision": None if decision is None else attrs.asdict(decision),
        "sources": [h.to_wire() for h in held],
        "member": members.get(token),
    }
