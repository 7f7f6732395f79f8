"""Operator HTTP handlers for the room log: read it newest first (filtered), and check every
record against its leaf hash."""

from __future__ import annotations

from aiohttp import web

from entities.errors import BadRequest

from ..appkeys import DOMAIN
from ..services.evidence import log_filters, read_log
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


def _number(query: dict[str, str], name: str) -> float | None:
    raw = query.get(name)
    if raw is None or raw == "":
        return None
    try:
        return float(raw)
    except ValueError:
        raise BadRequest(f"{name} must be unix seconds") from None


async def log_page(request: web.Request) -> web.Response:
    """GET room-log records newest first, filtered by time range, token and kind; `next`
    pages back to older ones."""
    authorize(request, "log:read")
    query = dict(query_args(request, frozenset(
        {"limit", "cursor", "since", "until", "token", "kind"})))  # fmt: skip
    limit = query_limit(query, LISTS)
    before = _seq_cursor(query.get("cursor"))
    kind = query.get("kind")
    filters = log_filters(_number(query, "since"), _number(query, "until"),
                          query.get("token") or None,
                          None if not kind else kind.split(","))  # fmt: skip
    records = await read_log(request.app[DOMAIN], limit=limit, before=before, **filters)
    more = len(records) == limit and records[-1]["seq"] > 1
    return json_reply({"entries": records, "next": str(records[-1]["seq"]) if more else None})


async def log_verify(request: web.Request) -> web.Response:
    """GET whether the hash chain is intact, and else the first record that breaks it."""
    authorize(request, "log:read")
    query_args(request, frozenset())
    first_bad, last = await request.app[DOMAIN].roomlog.verify()
    return json_reply({"intact": first_bad is None, "first_bad_seq": first_bad, "last_seq": last})
