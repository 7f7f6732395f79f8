"""Durable changes: writes queued in request order, grouped per loop turn into one store job,
and the `Committing` answer of an op whose reply waits for its commit."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from functools import partial
from typing import Any

import attrs

from ..protocol.codec import PackedField
from ..store import Store
from ..store import entities as entity_rows

__all__ = ["Committing", "Writes", "settle"]

WriteFn = Callable[[Any], Any]


@attrs.frozen
class Committing:
    """A change already applied in memory whose reply waits for its durable commit.

    Handlers apply changes and queue their write synchronously, so a connection's
    requests take effect, commit and get replies in the order they were sent.
    """

    done: asyncio.Future[Any]  # from Writes.commit: one future per group of writes
    then: Callable[[], dict[str, Any] | PackedField]


async def settle(outcome: dict[str, Any] | Committing) -> dict[str, Any]:
    """The reply of an op, once whatever it changed is committed."""
    if isinstance(outcome, Committing):
        await outcome.done
        reply = outcome.then()
        return reply.as_dict() if isinstance(reply, PackedField) else reply
    return outcome


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


class Writes:
    """The one way services write: queued now (keeping request order), durable later."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._group: tuple[list[WriteFn], asyncio.Future[Any]] | None = None

    def commit(self, fn: WriteFn) -> asyncio.Future[Any]:
        """Queue a write now (keeping request order); the future resolves once committed.

        Every write queued during one turn of the event loop goes to the store as a single
        job, in the order queued, sharing one future: a burst of pipelined requests costs
        one hand-over to the writer thread, not one each.
        """
        group = self._group
        if group is None:
            group = self._group = ([], asyncio.get_running_loop().create_future())
            group[1].get_loop().call_soon(self._flush)
        group[0].append(fn)
        return group[1]

    def _flush(self) -> None:
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

    def save_rows(self, rows: list[Any]) -> asyncio.Future[Any]:
        """Insert or replace entity rows."""
        return self._merge(_SaveRows, rows)

    def delete_rows(self, ids: list[str]) -> asyncio.Future[Any]:
        """Delete entity rows by id."""
        return self._merge(_DeleteRows, ids)

    def _merge(self, kind: type[_RowBatch], items: list[Any]) -> asyncio.Future[Any]:
        """Queue entity writes; consecutive ones of a kind share one statement (order kept)."""
        group = self._group
        if group is not None and group[0] and type(group[0][-1]) is kind:
            group[0][-1].items.extend(items)  # type: ignore[attr-defined]
            return group[1]
        return self.commit(kind(items))
