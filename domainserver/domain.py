"""The domain: the one object that holds live state (world, policy, bans, mutes, sessions)
and carries out the core's decisions against the store and the connected viewers."""

from __future__ import annotations

import asyncio
import gc
import logging
import queue
import secrets
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from functools import partial
from typing import Any

import attrs

from entities import Entity, LifetimeRule, MuteSet, MuteTarget, RateBuckets, World
from entities.errors import RateLimited, ScriptNotAllowed
from permissions import BanList, Grant, Policy

from .codec import PackedField
from .config import ServerConfig
from .sessions import SessionRegistry
from .store import Store
from .store import bans as ban_rows
from .store import entities as entity_rows
from .store import log as roomlog
from .store import mutes as mute_rows

__all__ = ["Domain", "Committing", "settle"]

log = logging.getLogger(__name__)


@attrs.frozen
class Committing:
    """A change already applied in memory whose reply waits for its durable commit.

    Handlers apply changes and queue their write synchronously, so a connection's
    requests take effect, commit and get replies in the order they were sent.
    """

    done: asyncio.Future[Any]  # from Domain.commit: one future per group of writes
    then: Callable[[], dict[str, Any] | PackedField]


class _RowBatch:
    """Entity rows written by one statement; merged while queued in the same loop turn."""

    def __init__(self, items: list[Any]) -> None:
        self.items = items


class _SaveRows(_RowBatch):
    def __call__(self, conn: Any) -> None:
        entity_rows.save(conn, self.items)


class _DeleteRows(_RowBatch):
    def __call__(self, conn: Any) -> None:
        entity_rows.delete(conn, self.items)


def _copy_outcome(shared: asyncio.Future[Any], done: asyncio.Future[Any]) -> None:
    if shared.done():
        return
    if done.cancelled():
        shared.cancel()
    elif done.exception() is not None:
        shared.set_exception(done.exception())  # type: ignore[arg-type]
    else:
        shared.set_result(None)


async def settle(outcome: dict[str, Any] | Committing) -> dict[str, Any]:
    """The reply of an op, once whatever it changed is committed."""
    if isinstance(outcome, Committing):
        await outcome.done
        reply = outcome.then()
        return reply.as_dict() if isinstance(reply, PackedField) else reply
    return outcome


def _rows_in_background(store: Store, batch: int = 10_000) -> Iterator[list[Any]]:
    """Every entity row, fetched by a reader thread while the caller builds entities:
    SQLite gives up the GIL while it steps, so reading and building overlap."""
    rows: queue.Queue[list[Any] | BaseException | None] = queue.Queue(maxsize=16)
    stop = threading.Event()

    def produce(conn: Any) -> None:
        cursor = entity_rows.load_all(conn)
        while not stop.is_set() and (chunk := cursor.fetchmany(batch)):
            rows.put(chunk)

    def run() -> None:
        try:
            store.read(produce)
            rows.put(None)
        except BaseException as exc:  # handed to the consumer
            rows.put(exc)

    reader = threading.Thread(target=run, name="entity-loader", daemon=True)
    reader.start()
    try:
        while (item := rows.get()) is not None:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        # If the consumer stopped early (a bad row), unblock the reader so it lets go of
        # the store's read lock instead of waiting forever on a full queue.
        stop.set()
        while reader.is_alive():
            try:
                rows.get(timeout=0.1)
            except queue.Empty:
                pass
        reader.join()


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
        self.sessions = SessionRegistry()
        self.buckets = RateBuckets()
        self.bans = BanList()
        self._mutes: dict[str, MuteSet] = {}
        self._id_prefix, self._id_counter = secrets.token_hex(5), 0
        self._group: tuple[list[Callable[[Any], Any]], asyncio.Future[Any]] | None = None

    # Start-up

    def load(self) -> dict[str, int]:
        """Bring state back from the store; what expired while we were down is deleted first."""
        now = self.clock()
        expired = self.store.write_sync(lambda c: entity_rows.delete_expired(c, now))
        shared: dict[Any, Any] = {}
        # The cyclic collector would rescan the growing heap again and again while a
        # million long-lived objects arrive; none of them form cycles, so it waits, and
        # afterwards they are frozen out of every later collection.
        gc.disable()
        try:
            self.world.load(
                Entity.from_row(row, shared)
                for batch in _rows_in_background(self.store)
                for row in batch
            )
        finally:
            gc.enable()
        gc.freeze()
        self.store.write_sync(lambda c: ban_rows.delete_expired(c, now))
        self.store.read(lambda c: self.bans.bulk_load(ban_rows.load_active(c, now)))
        for muter, _key, blob in self.store.read(lambda c: list(mute_rows.load_all(c))):
            self.mutes_of(muter).add(MuteTarget.from_blob(blob))
        return {
            "entities": len(self.world),
            "expired_while_down": len(expired),
            "bans": len(self.bans),
            "muters": len(self._mutes),
        }

    # Policy-derived answers

    def grant_for(self, token: str, credential_groups: frozenset[str] = frozenset()) -> Grant:
        return self.policy.grant_for(token, credential_groups)

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
                raise ScriptNotAllowed("you may not run scripts here")
            if not self.policy.script_source_allowed(source):
                raise ScriptNotAllowed("scripts must come from an allowed source")

        return check

    def take_chat_budget(self, token: str, rate: float) -> None:
        if not self.buckets.take("chat:" + token, rate, self.clock()):
            raise RateLimited("chat rate limit")

    def mutes_of(self, token: str) -> MuteSet:
        """The mute set of a token; every session of that token shares it."""
        mutes = self._mutes.get(token)
        if mutes is None:
            mutes = self._mutes[token] = MuteSet()
        return mutes

    def new_entity_id(self) -> str:
        """16 hex characters: a random prefix per run and a counter (no syscall per rez)."""
        while True:
            self._id_counter += 1
            if self._id_counter >= 1 << 24:
                self._id_prefix, self._id_counter = secrets.token_hex(5), 0
            entity_id = f"{self._id_prefix}{self._id_counter:06x}"
            if entity_id not in self.world:
                return entity_id

    # Carrying out changes: memory first (in request order), then one durable commit.

    def commit(self, fn: Callable[[Any], Any]) -> asyncio.Future[Any]:
        """Queue a write now (keeping request order); the future resolves once committed.

        Every write queued during one turn of the event loop goes to the store as a single
        job, in the order queued, sharing one future: a burst of pipelined requests costs
        one hand-over to the writer thread, not one each.
        """
        group = self._group
        if group is None:
            group = self._group = ([], asyncio.get_running_loop().create_future())
            group[1].get_loop().call_soon(self._flush_group)
        group[0].append(fn)
        return group[1]

    def _flush_group(self) -> None:
        group, self._group = self._group, None
        if group is None:
            return
        fns, shared = group

        def run_all(conn: Any) -> None:
            for fn in fns:
                fn(conn)

        try:
            self.store.submit(run_all).add_done_callback(partial(_copy_outcome, shared))
        except Exception as exc:  # the store is closed: nothing of the group is durable
            shared.set_exception(exc)

    def save_entities(
        self, entities: Iterable[Entity], record: dict[str, Any] | None = None
    ) -> asyncio.Future[Any]:
        """Persist new or edited entities (and optionally a room-log entry)."""
        rows = [e.to_row() for e in entities]
        done = self._merge(_SaveRows, rows)
        if record is not None:
            done = self.record(**record)
        return done

    def delete_entities(
        self, ids: list[str], reason: str, record: dict[str, Any] | None = None
    ) -> asyncio.Future[Any]:
        """Delete from the store what the world already dropped; viewers are told (with
        `reason`) when the commit lands."""
        done = self._merge(_DeleteRows, ids)
        if record is not None:
            done = self.record(**record)
        self.tell_removed_on_commit(done, ids, reason)
        return done

    def tell_removed_on_commit(
        self, done: asyncio.Future[Any], ids: list[str], reason: str
    ) -> None:
        """Frame the `entity_removed` events now, while the commit runs, and deliver them the
        moment it lands (before the reply, whose callback is added later): viewers are told
        only what is durable, and a mass removal costs them no wait beyond its commit."""
        told = self.sessions.prepare_removed(ids, reason)
        if told is not None:
            done.add_done_callback(
                lambda f: None if f.cancelled() or f.exception() else self.sessions.deliver(told)
            )

    def _merge(self, kind: type[_RowBatch], items: list[Any]) -> asyncio.Future[Any]:
        """Queue entity writes; consecutive ones of a kind share one statement (order kept)."""
        group = self._group
        if group is not None and group[0] and type(group[0][-1]) is kind:
            group[0][-1].items.extend(items)  # type: ignore[attr-defined]
            return group[1]
        return self.commit(kind(items))

    def remove_from_world(self, ids: Iterable[str]) -> list[str]:
        return [eid for eid in ids if self.world.remove(eid) is not None]

    def record(
        self, kind: str, actor: str | None, target: str | None, body: dict[str, Any]
    ) -> asyncio.Future[Any]:
        """Append one entry to the tamper-evident room log."""
        at = self.clock()
        return self.commit(
            lambda c: roomlog.append(c, at, kind=kind, actor=actor, target=target, body=body)
        )
