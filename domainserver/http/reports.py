"""The report queue over HTTP, for an operator's tools: list, read, resolve, and a report's
evidence as a bundle (scopes `reports:read` / `reports:write`). The same service as the
WebSocket `reports` and `resolve` ops; who reported is never in an answer."""

from __future__ import annotations

from aiohttp import web

from entities.errors import BadRequest

from ..appkeys import DOMAIN
from ..services import reports
from ..services.commits import settle
from ..services.paging import LISTS, decode_cursor, encode_cursor
from .auth import authorize
from .params import json_reply, query_args, query_limit, read_body

__all__ = ["list_reports", "get_report", "resolve_report", "report_bundle"]


def _report_id(request: web.Request) -> str:
    rid = request.match_info["id"]
    if not rid or len(rid) > 64 or not rid.isalnum():
        raise BadRequest("not a report id")
    return rid


async def list_reports(request: web.Request) -> web.Response:
    """GET the queue oldest first, optionally only `open` or `closed` ones."""
    authorize(request, "reports:read")
    query = query_args(request, frozenset({"state", "limit", "cursor"}))
    state = query.get("state")
    if state is not None and state not in ("open", "closed"):
        raise BadRequest('state must be "open" or "closed"')
    limit = query_limit(query, LISTS)
    after = decode_cursor(query.get("cursor") or None, (float, str))
    found, last = await reports.page(request.app[DOMAIN], state,
                                     None if after is None else (after[0], after[1]), limit)
    return json_reply({"reports": found,
                       "next": None if last is None else encode_cursor(list(last))})


async def get_report(request: web.Request) -> web.Response:
    """GET one report with its evidence."""
    authorize(request, "reports:read")
    query_args(request, frozenset())
    row = await reports.get(request.app[DOMAIN], _report_id(request))
    return json_reply(reports.report_wire(row))


async def report_bundle(request: web.Request) -> web.Response:
    """GET a report's evidence as a bundle that verifies with the domain's public key alone."""
    authorize(request, "reports:read")
    query_args(request, frozenset())
    domain = request.app[DOMAIN]
    row = await reports.get(domain, _report_id(request))
    return json_reply(reports.bundle_of(domain, reports.report_wire(row)))


async def resolve_report(request: web.Request) -> web.Response:
    """POST {action, reason?, duration?}: close the report and carry out its action."""
    actor = authorize(request, "reports:write")
    body = await read_body(request, frozenset({"action"}), frozenset({"reason", "duration"}))
    outcome = reports.resolve(request.app[DOMAIN], actor, _report_id(request), body["action"],
                              body.get("reason"), body.get("duration"))  # fmt: skip
    return json_reply(await settle(outcome))
