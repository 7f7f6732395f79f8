"""The domain: the one object that holds live state (world, policy, bans, mutes, sessions)
and the services' shared handles (writes, the room log, ids). What is done with that state
lives in the service module named for its noun."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import attrs

from entities import LifetimeRule, MuteSet, RateBuckets, World
from entities.errors import NotAllowed, RateLimited, ScriptNotAllowed
from permissions import BanList, FeedBans, Grant, Policy

from ..config import ServerConfig
from ..store import Store
from .commits import Writes
from .domainkey import DomainKey
from .ids import EntityIds
from .limits import ConnectionLimits
from .metrics import Metrics
from .pending import PendingChanges
from .roomlog import RoomLog
from .sessions import SessionRegistry

__all__ = ["Domain"]


class Domain:
    def __init__(
        self,
        config: ServerConfig,
        policy: Policy,
        store: Store,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.config = config
        self.policy = policy
        self.store = store
        self.clock = clock
        self.world = World()
        self.pending = PendingChanges(self.world)
        self.sessions = SessionRegistry(interest_cell=config.max_look_radius)
        self.buckets = RateBuckets()
        self.bans = BanList()
        self.mutes: dict[str, MuteSet] = {}
        self.ids = EntityIds()
        self.writes = Writes(store)
        self.roomlog = RoomLog(self.writes, store, clock)
        # Signs the room log's checkpoints; made beside the database on first start.
        self.key = DomainKey.load_or_create(config.db_path)
        # Ban lists across domains: each subscribed feed's last good copy (the decisions, in
        # `permissions.sources`), its fetch state (`services.feeds`), and the last whole
        # document published with the serial and choice it was made for (`services.banfeed`).
        self.feeds = FeedBans()
        self.feed_status: dict[str, Any] = {}
        self.published: Any = None
        self.published_mode: str | None = None
        self.limits = ConnectionLimits(
            config.max_connections,
            config.max_connections_per_address,
            config.hellos_per_second_per_address,
            config.limit_loopback,
        )
        self.expiry_lag = 0.0  # seconds late, at the last expiry pass that removed anything
        self.log_records = 0  # refreshed when metrics are read
        self.metrics = Metrics(self._figures)
        self.writes.observe_commit = self.metrics.commit_seconds.observe

    def _figures(self) -> dict[str, object]:
        """The live figures the metrics read at scrape time."""
        return {
            "sessions": len(self.sessions),
            "entities": len(self.world),
            "bans": len(self.bans),
            "queued_bytes": sum(s.pending_bytes for s in self.sessions),
            "expiry_lag": self.expiry_lag,
            "log_records": self.log_records,
            "connections_refused": dict(self.limits.refused),
            "feeds": {
                name: {
                    "serial": status.serial,
                    "entries": status.entries,
                    "age": None if status.ok_at is None else self.clock() - status.ok_at,
                }
                for name, status in self.feed_status.items()
            },
        }

    # Policy-derived answers

    def grant_for(self, token: str, credential_groups: frozenset[str] = frozenset()) -> Grant:
        """The policy's grant, less rez and scripts while a feed says `rez-deny`."""
        grant = self.policy.grant_for(token, credential_groups)
        if (grant.may_rez or grant.may_script) and self.feed_denies(token):
            grant = attrs.evolve(grant, may_rez=False, may_script=False)
        return grant

    def feed_denies(self, token: str) -> bool:
        """True while the deciding feed's action on `token` is `rez-deny` (and no local ban,
        which would have kept it out)."""
        decision = self.feeds.decide(token, self.clock(), self.policy.members)
        return decision is not None and decision.action == "rez-deny"

    @property
    def policy(self) -> Policy:
        return self._policy

    @policy.setter
    def policy(self, policy: Policy) -> None:
        """Install a policy (at start and on every reload) with the rules derived from it."""
        self._policy = policy
        d = policy.domain
        self._lifetime_rules = {
            temporary_only: LifetimeRule(
                temporary_only=temporary_only,
                default_temp=d.default_temp_lifetime,
                max_temp=d.max_temp_lifetime,
            )
            for temporary_only in (False, True)
        }

    def lifetime_rule(self, grant: Grant) -> LifetimeRule:
        return self._lifetime_rules[grant.role.rez == "temporary"]

    def script_checker(self, grant: Grant) -> Callable[[str], None]:
        def check(source: str) -> None:
            if not grant.may_script:
                if self.feed_denies(grant.token):
                    raise NotAllowed("a ban list this domain follows denies you rez and scripts")
                raise ScriptNotAllowed("you may not run scripts here")
            if not self.policy.script_source_allowed(source):
                raise ScriptNotAllowed("scripts must come from an allowed source")

        return check

    def take_chat_budget(self, token: str, rate: float) -> None:
        if not self.buckets.take("chat:" + token, rate, self.clock()):
            raise RateLimited("chat rate limit")

    def mutes_of(self, token: str) -> MuteSet:
        """The mute set of a token; every session of that token shares it."""
        mutes = self.mutes.get(token)
        if mutes is None:
            mutes = self.mutes[token] = MuteSet()
        return mutes
