"""The single owner of the SQLite file: one writer thread with group commit, one reader.

Every write in the server goes through `Store.write`, so there is exactly one
writer, transactions are batched (one fsync for many writes) and an awaited
write is durable. Reads use their own connection; WAL lets them run meanwhile.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import os
import queue
import sqlite3
import threading
import types
from collections.abc import Callable
from typing import Final, TypeVar

import attrs

from .errors import SchemaError, StoreClosed
from .schema import migrate

__all__ = ["Store", "StoreStats", "MAX_BATCH"]

T = TypeVar("T")

log = logging.getLogger(__name__)

MAX_BATCH: Final = 1000
"""Most write functions committed by one transaction."""

_SYNCHRONOUS: Final = frozenset({"OFF", "NORMAL", "FULL", "EXTRA"})
_BUSY_TIMEOUT_MS: Final = 10_000


@attrs.define
class StoreStats:
    """Counters kept by the writer thread, for benchmarks and health checks."""

    transactions: int = 0
    """Transactions committed (one per batch)."""
    writes: int = 0
    """Write functions that returned normally and were committed."""
    failed_writes: int = 0
    """Write functions that raised (rolled back alone) or whose batch failed."""
    largest_batch: int = 0


@attrs.frozen
class _Job:
    fn: Callable[[sqlite3.Connection], object]
    future: concurrent.futures.Future[object] | None
    # Set by `submit`, with `future` None (a thread-safe future costs more than the
    # write): resolved on its loop together with the rest of its batch.
    loop_future: asyncio.Future[object] | None = None


def _settle(outcomes: list[tuple[asyncio.Future[object], bool, object]]) -> None:
    for future, ok, value in outcomes:
        if future.done():
            continue
        if ok:
            future.set_result(value)
        else:
            assert isinstance(value, BaseException)
            future.set_exception(value)


_STOP: Final = object()


def _check_still_open(conn: sqlite3.Connection) -> None:
    if not conn.in_transaction:
        # The batch is no longer atomic; fail all of it rather than guess.
        raise RuntimeError("a write function ended the store's transaction")


def _connect(path: str | os.PathLike[str]) -> sqlite3.Connection:
    # Autocommit mode: the store issues BEGIN/COMMIT itself, so Python's
    # implicit transaction handling never surprises a write function.
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.execute(f"PRAGMA busy_timeout = {_BUSY_TIMEOUT_MS:d}")
    return conn


class Store:
    """One owner for SQLite: a single writer thread batches queued write functions
    into one transaction (group commit); readers use their own connection and never
    block it.

    Write functions receive the writer connection inside an open transaction and
    must not BEGIN, COMMIT or ROLLBACK themselves (SAVEPOINTs are fine). Read
    functions must finish with the connection before returning (return lists,
    not cursors or generators).
    """

    def __init__(self, writer: sqlite3.Connection, reader: sqlite3.Connection, path: str) -> None:
        """Use `Store.open`; this constructor only wires already-prepared connections."""
        self.path = path
        self.stats = StoreStats()
        self._writer = writer
        self._reader = reader
        self._read_lock = threading.Lock()
        self._reader_closed = False
        self._queue: queue.SimpleQueue[_Job | object] = queue.SimpleQueue()
        self._state_lock = threading.Lock()
        self._closed = False
        self._thread = threading.Thread(
            target=self._run, name=f"store-writer:{os.path.basename(path)}", daemon=True
        )
        self._thread.start()

    # -- lifecycle ---------------------------------------------------------

    @classmethod
    def open(cls, path: str | os.PathLike[str], *, synchronous: str = "FULL") -> Store:
        """Open (creating if needed) the database at `path`, migrate it, start the writer.

        `synchronous="FULL"` (the default) makes every acknowledged write survive
        a kill -9 or a power loss; "NORMAL" survives a process crash only.
        Raises `SchemaError` if the file is from a newer server or cannot use WAL.
        """
        level = synchronous.upper()
        if level not in _SYNCHRONOUS:
            raise ValueError(
                f"synchronous must be one of {sorted(_SYNCHRONOUS)}, not {synchronous!r}"
            )
        path_str = os.fspath(path)
        writer = _connect(path_str)
        reader: sqlite3.Connection | None = None
        try:
            mode = writer.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if str(mode).lower() != "wal":
                raise SchemaError(
                    f"{path_str}: cannot use WAL journal mode (got {mode!r}); "
                    "the store needs a real file on a local filesystem"
                )
            writer.execute(f"PRAGMA synchronous = {level}")
            # 64 MiB of page cache: a mass delete touches four indexes' worth of pages.
            writer.execute("PRAGMA cache_size = -65536")
            migrate(writer)
            reader = _connect(path_str)
            # A read function must never write behind the writer's back.
            reader.execute("PRAGMA query_only = ON")
        except BaseException:
            writer.close()
            if reader is not None:
                reader.close()
            raise
        return cls(writer, reader, path_str)

    def close(self) -> None:
        """Run every write already queued, commit, stop the writer and close the file.

        Idempotent. Writes queued after `close` raise `StoreClosed`.
        """
        if threading.current_thread() is self._thread:
            raise RuntimeError("Store.close() called from inside a write function")
        with self._state_lock:
            if self._closed:
                return
            self._closed = True
            self._queue.put(_STOP)
        self._thread.join()
        self._writer.close()
        with self._read_lock:
            self._reader_closed = True
            self._reader.close()

    @property
    def closed(self) -> bool:
        """True once `close` has been called."""
        return self._closed

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- writes ------------------------------------------------------------

    def _submit(self, fn: Callable[[sqlite3.Connection], T]) -> concurrent.futures.Future[T]:
        future: concurrent.futures.Future[T] = concurrent.futures.Future()
        self._enqueue(_Job(fn, future))  # type: ignore[arg-type]
        return future

    def _enqueue(self, job: _Job) -> None:
        with self._state_lock:
            # Checked under the lock that close() takes, so nothing is queued
            # behind the stop marker and left unresolved.
            if self._closed:
                raise StoreClosed(f"store {self.path} is closed")
            self._queue.put(job)

    def submit(self, fn: Callable[[sqlite3.Connection], T]) -> asyncio.Future[T]:
        """Queue `fn` now, in call order, and return a future of the running loop that
        resolves once it is committed. Every future of one committed batch is resolved
        with a single wake-up of the loop, which is what makes group commit cheap for
        thousands of small writes. Call from the event loop's thread.
        """
        loop_future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._enqueue(_Job(fn, None, loop_future))  # type: ignore[arg-type]
        return loop_future

    async def write(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run `fn(conn)` on the writer and return its result once it is committed.

        `fn` runs inside a SAVEPOINT of a transaction shared with other queued
        writes: if it raises, only its own changes are rolled back and the
        exception is raised here. Returning means the COMMIT (with fsync at
        synchronous=FULL) has completed. Cancelling the await before `fn` starts
        stops it from running; after that it still commits.
        """
        future = self._submit(fn)
        return await asyncio.wrap_future(future, loop=asyncio.get_running_loop())

    def write_sync(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Like `write`, blocking the calling thread (for CLI tools and tests).

        Must not be called from inside a write function (it would wait forever).
        """
        if threading.current_thread() is self._thread:
            raise RuntimeError("write_sync() called from inside a write function")
        return self._submit(fn).result()

    # -- reads -------------------------------------------------------------

    def read(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run `fn(conn)` on the read connection in one read transaction (a consistent
        snapshot of committed data) and return its result. Blocks the caller; never
        blocks the writer. One read at a time; use `read_async` from the event loop.
        """
        with self._read_lock:
            if self._reader_closed:
                raise StoreClosed(f"store {self.path} is closed")
            self._reader.execute("BEGIN")
            try:
                result = fn(self._reader)
            finally:
                self._reader.execute("COMMIT")
        if isinstance(result, (sqlite3.Cursor, types.GeneratorType)):
            # It would run outside the lock and the snapshot: a silent race.
            raise TypeError("a read function must return materialised data, not a cursor/generator")
        return result

    async def read_async(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """`read` in a worker thread, so the event loop keeps running."""
        return await asyncio.to_thread(self.read, fn)

    # -- the writer thread -------------------------------------------------

    def _run(self) -> None:
        stopping = False
        while not stopping:
            first = self._queue.get()
            batch: list[_Job] = []
            item: object = first
            while True:
                if item is _STOP:
                    stopping = True
                    break
                assert isinstance(item, _Job)
                batch.append(item)
                if len(batch) >= MAX_BATCH:
                    break
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
            if batch:
                self._run_batch(batch)

    def _run_batch(self, batch: list[_Job]) -> None:
        conn = self._writer
        outcomes: list[tuple[_Job, bool, object]] = []
        try:
            conn.execute("BEGIN IMMEDIATE")
            for job in batch:
                # A caller that was cancelled before its turn does not run.
                if job.future is not None and not job.future.set_running_or_notify_cancel():
                    continue
                conn.execute("SAVEPOINT write_fn")
                try:
                    result = job.fn(conn)
                except BaseException as exc:  # noqa: B036 - handed to the caller
                    _check_still_open(conn)
                    conn.execute("ROLLBACK TO write_fn")
                    conn.execute("RELEASE write_fn")
                    outcomes.append((job, False, exc))
                else:
                    _check_still_open(conn)
                    conn.execute("RELEASE write_fn")
                    outcomes.append((job, True, result))
            conn.execute("COMMIT")
        except Exception as exc:
            # Unexpected (disk full, I/O error, a misbehaving fn): nothing of this
            # batch is committed, so every caller in it gets the error.
            log.exception("store writer: batch of %d failed", len(batch))
            if conn.in_transaction:
                try:
                    conn.execute("ROLLBACK")
                except sqlite3.Error:
                    log.exception("store writer: rollback failed")
            self.stats.failed_writes += len(batch)
            for job in batch:
                future = job.future
                if future is None or future.done():
                    continue
                if future.running() or future.set_running_or_notify_cancel():
                    future.set_exception(exc)
            self._settle_on_loops([(job, False, exc) for job in batch])
            return
        self.stats.transactions += 1
        self.stats.largest_batch = max(self.stats.largest_batch, len(batch))
        # Resolved only after COMMIT: acknowledged == committed.
        for job, ok, value in outcomes:
            if ok:
                self.stats.writes += 1
                if job.future is not None:
                    job.future.set_result(value)
            else:
                self.stats.failed_writes += 1
                assert isinstance(value, BaseException)
                if job.future is not None:
                    job.future.set_exception(value)
        self._settle_on_loops(outcomes)

    @staticmethod
    def _settle_on_loops(outcomes: list[tuple[_Job, bool, object]]) -> None:
        by_loop: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[object], bool, object]]]
        by_loop = {}
        for job, ok, value in outcomes:
            if job.loop_future is not None:
                by_loop.setdefault(job.loop_future.get_loop(), []).append(
                    (job.loop_future, ok, value)
                )
        for loop, settled in by_loop.items():
            try:
                loop.call_soon_threadsafe(_settle, settled)
            except RuntimeError:  # the loop is closed: nobody is waiting any more
                pass
