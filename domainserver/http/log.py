"""Operator HTTP handlers for the room log: read it newest first, and verify its hash chain."""

from __future__ import annotations

from aiohttp import web

from entities.errors import BadRequest

from ..appkeys import DOMAIN
from ..services.paging import LISTS
from .auth import authorize
from .params import json_reply, query_args, query_limit

__all__ = ["log_page", "log_verify"]


def _seq_cursor(raw: str | None) -> int | None:
    if raw is None or raw == "":
        return None
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 18:
        raise BadRequest("cursor must be the `next` value of a previous page")
    return int(raw)


async def log_page(request: web.Request) -> web.Response:
    """GET room-log entries newest first; `next` pages back to older ones."""
    authorize(request, "log:read")
    query = query_args(request, frozenset({"limit", "cursor"}))
    limit = query_limit(query, LISTS)
    before = _seq_cursor(query.get("cursor"))
    records = await request.app[DOMAIN].roomlog.page(limit, before)
    more = len(records) == limit and records[-1].seq > 1
    return json_reply(
        {
            "entries": [r.to_wire() for r in records],
            "next": str(records[-1].seq) if more else None,
        }
    )


async def log_verify(request: web.Request) -> web.Response:
    """GET whether the hash chain is intact, and else the first record that breaks it."""
    authorize(request, "log:read")
    query_args(request, frozenset())
    first_bad, last = await request.app[DOMAIN].roomlog.verify()
    return json_reply({"intact": first_bad is None, "first_bad_seq": first_bad, "last_seq": last})
