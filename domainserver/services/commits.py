"""Durable changes: each request's writes are one unit, committed atomically under its own
savepoint; the units queued in one loop turn share one store job. Memory changes run only
once their unit has committed, so memory never runs ahead of the database."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

import attrs

from ..protocol.codec import PackedField
from ..store import entities as entity_rows
from ..store.log import Appends, Entry

__all__ = ["Committing", "Writes", "settle"]

log = logging.getLogger(__name__)

WriteFn = Callable[[Any], Any]


@attrs.frozen
class Committing:
    """A change whose memory effect and reply wait for its durable commit.

    `done` resolves once the unit committed and its memory change was applied (or fails with
    the reason it did not); `then` renders the reply (and tells the viewers) after that.
    """

    done: asyncio.Future[Any]
    then: Callable[[], dict[str, Any] | PackedField]


async def settle(outcome: dict[str, Any] | Committing) -> dict[str, Any]:
    """The reply of an op, once whatever it changed is committed."""
    if isinstance(outcome, Committing):
        await outcome.done
        reply = outcome.then()
        return reply.as_dict() if isinstance(reply, PackedField) else reply
    return outcome


class _Rows:
    """Entity rows saved (or ids deleted) by one statement, merged across units."""

    __slots__ = ("delete", "items")

    def __init__(self, delete: bool, items: list[Any]) -> None:
        self.delete = delete
        self.items = items

    def __call__(self, conn: Any) -> None:
        if self.delete:
            entity_rows.delete(conn, self.items)
        else:
            entity_rows.save(conn, self.items)


@attrs.define
class _Unit:
    ops: list[WriteFn | _Rows | Appends]
    apply: Callable[[], None] | None
    after: Callable[[bool], None] | None
    future: asyncio.Future[Any]


def _run_ops(conn: Any, ops: Sequence[WriteFn | _Rows | Appends]) -> None:
    for op in ops:
        op(conn)


def _merged(units: list[_Unit]) -> list[WriteFn | _Rows | Appends]:
    """Every op of every unit, in order, but gathered across each run of entity-row writes and
    room-log appends (they touch different tables, so they commute): in a run, consecutive
    row writes of a kind become one statement and all its log records one more. Any other
    op ends the run, since it may read either table (a checkpoint reads the log)."""
    ops: list[WriteFn | _Rows | Appends] = []
    rows: list[_Rows] = []
    logged: list[Entry] = []
    for unit in units:
        for op in unit.ops:
            if type(op) is _Rows:
                last = rows[-1] if rows else None
                if last is not None and last.delete == op.delete:
                    last.items.extend(op.items)
                else:  # a copy: a unit's own ops run again, alone, if the group fails
                    rows.append(_Rows(op.delete, list(op.items)))
            elif type(op) is Appends:
                logged.extend(op.entries)
            else:
                ops.extend(rows)
                if logged:
                    ops.append(Appends(logged))
                rows, logged = [], []
                ops.append(op)
    ops.extend(rows)
    if logged:
        ops.append(Appends(logged))
    return ops


class _GroupJob:
    """Runs in the writer thread: all units at once when nothing fails (the fast path, with
    merged statements); otherwise each unit under its own savepoint, so a unit that raises
    fails alone. Returns, per unit, None or the exception that failed it."""

    def __init__(self, units: list[_Unit]) -> None:
        self.units = units

    def __call__(self, conn: Any) -> list[BaseException | None]:
        conn.execute("SAVEPOINT unit_group")
        try:
            _run_ops(conn, _merged(self.units))
        except Exception:
            conn.execute("ROLLBACK TO unit_group")
        else:
            conn.execute("RELEASE unit_group")
            return [None] * len(self.units)
        conn.execute("RELEASE unit_group")
        results: list[BaseException | None] = []
        for unit in self.units:
            conn.execute("SAVEPOINT unit")
            try:
                _run_ops(conn, unit.ops)
            except Exception as exc:
                conn.execute("ROLLBACK TO unit")
                results.append(exc)
            else:
                results.append(None)
            conn.execute("RELEASE unit")
        return results


def _finish(unit: _Unit, error: BaseException | None) -> None:
    if error is None and unit.apply is not None:
        try:
            unit.apply()
        except Exception as exc:  # committed, but memory could not follow: a bug, said loudly
            log.exception("a committed change could not be applied in memory")
            error = exc
    if unit.after is not None:
        unit.after(error is None)
    if unit.future.done():
        return
    if error is None:
        unit.future.set_result(None)
    else:
        unit.future.set_exception(error)


def _settle_units(units: list[_Unit], job: asyncio.Future[Any]) -> None:
    """In commit order: apply each committed unit's memory change, then resolve it."""
    if job.cancelled():
        errors: list[BaseException | None] = [asyncio.CancelledError()] * len(units)
    elif job.exception() is not None:
        errors = [job.exception()] * len(units)
    else:
        errors = job.result()
    for unit, error in zip(units, errors, strict=True):
        _finish(unit, error)


def _timed(observe: Callable[[float], None], started: float, _: asyncio.Future[Any]) -> None:
    observe(time.perf_counter() - started)


class Writes:
    """The one way services write: queued now (keeping request order), applied to memory and
    answered once durable."""

    def __init__(self, store: Any) -> None:
        self.store = store
        self._queued: list[_Unit] | None = None
        self.observe_commit: Callable[[float], None] | None = None  # seconds per store job

    def commit(
        self,
        *fns: WriteFn,
        save: list[Any] | None = None,
        delete: list[str] | None = None,
        apply: Callable[[], None] | None = None,
        after: Callable[[bool], None] | None = None,
    ) -> asyncio.Future[Any]:
        """Queue one unit: entity rows to `save`, entity ids to `delete`, then `fns`, all or
        nothing. Once it commits, `apply` changes memory; then `after(committed)` runs
        whatever happened, and the returned future resolves (or fails with the reason).

        The units queued during one turn of the event loop go to the store as one job, in
        order: a burst of pipelined requests costs one hand-over to the writer thread.
        """
        ops: list[WriteFn | _Rows | Appends] = []
        if save:
            ops.append(_Rows(False, save))
        if delete:
            ops.append(_Rows(True, delete))
        ops.extend(fns)
        loop = asyncio.get_running_loop()
        unit = _Unit(ops, apply, after, loop.create_future())
        if self._queued is None:
            self._queued = []
            loop.call_soon(self._flush)
        self._queued.append(unit)
        return unit.future

    def _flush(self) -> None:
        units, self._queued = self._queued, None
        if not units:
            return
        try:
            job = self.store.submit(_GroupJob(units))
        except Exception as exc:  # the store is closed: nothing of the group is durable
            for unit in units:
                _finish(unit, exc)
            return
        if self.observe_commit is not None:
            job.add_done_callback(partial(_timed, self.observe_commit, time.perf_counter()))
        job.add_done_callback(partial(_settle_units, units))
