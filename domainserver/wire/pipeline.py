"""One connection's requests in the order they were sent. Writes are dispatched at once and
commit in order; any other op waits until the writes sent before it have committed, so it
sees them; every reply leaves in request order. Sans I/O: bytes in, bytes out."""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from ..protocol.codec import Request
from ..services.commits import Committing

__all__ = ["Pipeline"]

Dispatch = Callable[[Request], "bytes | Committing"]
Render = Callable[[Request, Committing, "asyncio.Future[Any]", float], bytes]


class _Slot:
    """One request until its reply leaves; called back (itself, no partial per request) when
    the change it is committing lands."""

    __slots__ = ("pipeline", "request", "writes", "reply", "started", "outcome")

    def __init__(self, pipeline: Pipeline, request: Request, writes: bool) -> None:
        self.pipeline = pipeline
        self.request = request
        self.writes = writes
        self.reply: bytes | None = None
        self.started = 0.0
        self.outcome: Committing | None = None

    def __call__(self, done: asyncio.Future[Any]) -> None:
        self.pipeline._landed(self, done)


class Pipeline:
    def __init__(self, dispatch: Dispatch, render: Render, send: Callable[[bytes], None]) -> None:
        self._dispatch = dispatch
        self._render = render
        self._send = send
        self._slots: deque[_Slot] = deque()  # dispatched, in request order, until replied
        self._waiting: deque[_Slot] = deque()  # not yet dispatched
        self._committing = 0
        self._idle: asyncio.Future[None] | None = None

    def __len__(self) -> int:
        """Requests received and not yet answered."""
        return len(self._slots) + len(self._waiting)

    def submit(self, request: Request, writes: bool) -> None:
        self._waiting.append(_Slot(self, request, writes))
        self._advance()

    async def idle(self) -> None:
        """Wait until every request received has been answered."""
        if len(self):
            self._idle = asyncio.get_running_loop().create_future()
            await self._idle

    def _advance(self) -> None:
        waiting = self._waiting
        while waiting and (waiting[0].writes or not self._committing):
            slot = waiting.popleft()
            self._slots.append(slot)
            slot.started = time.perf_counter()
            outcome = self._dispatch(slot.request)
            if isinstance(outcome, Committing):
                self._committing += 1
                slot.outcome = outcome
                outcome.done.add_done_callback(slot)
            else:
                slot.reply = outcome
        slots = self._slots
        while slots and slots[0].reply is not None:
            self._send(slots.popleft().reply)  # type: ignore[arg-type]
        if self._idle is not None and not len(self) and not self._idle.done():
            self._idle.set_result(None)

    def _landed(self, slot: _Slot, done: asyncio.Future[Any]) -> None:
        self._committing -= 1
        assert slot.outcome is not None
        slot.reply = self._render(slot.request, slot.outcome, done, slot.started)
        self._advance()
