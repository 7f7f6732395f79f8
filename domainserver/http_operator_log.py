"""Operator HTTP handlers for the room log: read it newest first, and verify its hash chain."""

from __future__ import annotations

import sqlite3

from aiohttp import web

from entities.errors import BadRequest

from .http_auth import json_errors
from .http_params import authorize, json_reply, query_args, query_limit
from .keys import DOMAIN
from .store import log as roomlog

__all__ = ["log_page", "log_verify"]

LOG_DEFAULT_LIMIT, LOG_MAX_LIMIT = 100, 1000


def _seq_cursor(raw: str | None) -> int | None:
    if raw is None or raw == "":
        return None
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 18:
        raise BadRequest("cursor must be the `next` value of a previous page")
    return int(raw)


@json_errors
async def log_page(request: web.Request) -> web.Response:
    """GET room-log entries newest first; `next` pages back to older ones."""
    authorize(request, "log:read")
    query = query_args(request, frozenset({"limit", "cursor"}))
    limit = query_limit(query, LOG_DEFAULT_LIMIT, LOG_MAX_LIMIT)
    before = _seq_cursor(query.get("cursor"))
    domain = request.app[DOMAIN]
    records = await domain.store.read_async(lambda c: roomlog.recent(c, limit, before))
    more = len(records) == limit and records[-1].seq > 1
    return json_reply(
        {
            "entries": [r.to_wire() for r in records],
            "next": str(records[-1].seq) if more else None,
        }
    )


@json_errors
async def log_verify(request: web.Request) -> web.Response:
    """GET whether the hash chain is intact, and else the first record that breaks it."""
    authorize(request, "log:read")
    query_args(request, frozenset())
    domain = request.app[DOMAIN]

    def check(conn: sqlite3.Connection) -> tuple[int | None, int]:
        return roomlog.verify(conn), roomlog.last_seq(conn)

    first_bad, last = await domain.store.read_async(check)
    return json_reply({"intact": first_bad is None, "first_bad_seq": first_bad, "last_seq": last})
