"""Reports and the room log over the WebSocket: `report` (every visitor), `reports` and
`resolve` (the `reports` capability), `log` (the `audit` capability; docs/PROTOCOL_NOTES.md)."""

from __future__ import annotations

import asyncio
from typing import Any

from entities.errors import BadRequest

from ..protocol.codec import Request
from ..services import evidence, reports
from ..services.commits import Committing
from ..services.domain import Domain
from ..services.paging import decode_cursor, encode_cursor, page_limit
from ..services.sessions import Session

__all__ = ["report", "reports_page", "resolve", "log_page"]

STATES = ("open", "closed")


def report(domain: Domain, session: Session, request: Request) -> Committing:
    return reports.report(domain, session, request.arg("target"), request.arg("reason"))


def _later(coro: Any, render: Any) -> Committing:
    """A read answered off the event loop: the reply waits for it like a commit."""
    box: list[Any] = []

    async def run() -> None:
        box.append(await coro)

    return Committing(asyncio.ensure_future(run()), lambda: render(box[0]))


def reports_page(domain: Domain, session: Session, request: Request) -> Committing:
    state = request.arg("state")
    if state is not None and state not in STATES:
        raise BadRequest('state must be "open" or "closed"')
    after = decode_cursor(request.arg("cursor"), (float, str))
    limit = page_limit(request.arg("limit"))
    found = reports.page(domain, state, None if after is None else (after[0], after[1]), limit)
    return _later(found, lambda got: {
        "reports": got[0], "next": None if got[1] is None else encode_cursor(list(got[1]))})


def resolve(domain: Domain, session: Session, request: Request) -> Committing:
    return reports.resolve(domain, session.token, request.arg("report"), request.arg("action"),
                           request.arg("reason"), request.arg("duration"),
                           rank=session.grant.role.rank)  # fmt: skip


def log_page(domain: Domain, session: Session, request: Request) -> Committing:
    """Room-log records newest first, filtered; `next` pages back to older ones."""
    filters = evidence.log_filters(request.arg("since"), request.arg("until"), request.arg("token"),
                          request.arg("kind"))  # fmt: skip
    before = decode_cursor(request.arg("cursor"), (int,))
    limit = page_limit(request.arg("limit"))
    found = evidence.read_log(domain, limit=limit, before=None if before is None else before[0],
                              **filters)  # fmt: skip

    def render(records: list[dict[str, Any]]) -> dict[str, Any]:
        more = len(records) == limit and records[-1]["seq"] > 1
        return {"records": records,
                "next": encode_cursor([records[-1]["seq"]]) if more else None}  # fmt: skip

    return _later(found, render)
