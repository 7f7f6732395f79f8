"""The Reports panel: the queue, each report with the room-log evidence captured with it, and
its resolution (warn, kick, ban, dismiss). Who reported is in no answer the service gives,
so it is on no page either."""

from __future__ import annotations

from aiohttp import web

from entities.errors import BadRequest

from ..appkeys import DOMAIN
from ..services import reports
from ..services.commits import settle
from . import fields
from .guard import form, redirect, require
from .render import flash, render_page
from .state import CONSOLE_STATE

__all__ = ["reports_page", "resolve", "PAGE"]

PAGE = 20
STATES = {"open": "open", "closed": "closed", "all": None}


def _cursor(raw: str) -> tuple[float, str] | None:
    if not raw:
        return None
    at, _, rid = raw.partition(":")
    if not rid.isalnum() or len(rid) > 64:
        raise BadRequest("not a page of the queue")
    return fields.number(at, "after"), rid


async def reports_page(request: web.Request) -> web.Response:
    who = require(request, "reports:read")
    shown = fields.text(request.query, "state") or "open"
    if shown not in STATES:
        raise BadRequest("state must be open, closed or all")
    after = _cursor(fields.text(request.query, "after"))
    found, last = await reports.page(request.app[DOMAIN], STATES[shown], after, PAGE)
    return await render_page(request, "reports.html", {
        "reports": found,
        "shown": shown,
        "next": None if last is None else f"?state={shown}&after={last[0]!r}:{last[1]}",
        "may_resolve": who.may("reports:write"),
        "actions": reports.ACTIONS,
        "durations": fields.DURATIONS,
    }, panel="reports")  # fmt: skip


async def resolve(request: web.Request) -> web.Response:
    who, data = await form(request, "reports:write")
    rid = fields.text(data, "report")
    action = fields.text(data, "action")
    reason = fields.reason(data, required=False) or None
    duration = fields.duration(data) if action == "ban" else None
    await settle(reports.resolve(request.app[DOMAIN], who.actor, rid, action, reason, duration,
                                 rank=None))  # fmt: skip
    flash(request, f"Report {rid} resolved: {action}.")
    return redirect(request.app[CONSOLE_STATE].prefix + "/console/reports")
