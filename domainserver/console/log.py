"""The Room log panel: records filtered by kind, token and time, a live tail of the newest,
and whether the whole log verifies against its last signed checkpoint."""

from __future__ import annotations

import calendar
import re
import time
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from entities.errors import BadRequest

from ..appkeys import DOMAIN
from ..services.evidence import log_filters, read_log
from . import fields
from .guard import require
from .render import render_fragment, render_page
from .state import CONSOLE_STATE

__all__ = ["log_page", "log_live", "KINDS", "PAGE", "TAIL"]

PAGE = 100
TAIL = 50
VERIFY_EVERY = 30.0
"""Seconds a verification result is shown before the page verifies again by itself."""
KINDS = ("say", "entity_say", "enter", "exit", "rez", "removal", "ban", "unban",
         "ban_expired", "kick", "remove", "refused", "policy_reload", "policy_refused",
         "report", "resolve", "purge", "advisory")  # fmt: skip
_KIND = re.compile(r"[a-z_]{1,32}")
_SHOWN = ("text", "name", "reason", "removed", "by", "action", "changes", "problems",
          "expires_at", "report", "session", "invisible", "entity", "owner", "tokens")  # fmt: skip


def _utc(raw: str, name: str) -> float | None:
    """A datetime-local field (read as UTC), or unix seconds."""
    if not raw:
        return None
    for shape in ("%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"):
        try:
            return float(calendar.timegm(time.strptime(raw, shape)))
        except ValueError:
            continue
    return fields.number(raw, name)


def _filters(query: Any) -> tuple[dict[str, str], dict[str, Any]]:
    given = {k: fields.text(query, k) for k in ("kind", "token", "since", "until")}
    kinds = [k for k in given["kind"].replace(" ", "").split(",") if k]
    if any(not _KIND.fullmatch(k) for k in kinds):
        raise BadRequest(f"kind must be record kinds, such as {', '.join(KINDS[:6])}")
    filters = log_filters(_utc(given["since"], "since"), _utc(given["until"], "until"),
                          given["token"] or None, kinds)  # fmt: skip
    return given, filters


def details(record: dict[str, Any]) -> list[tuple[str, Any]]:
    """The fields of a record worth a column, in a fixed order."""
    return [(k, record[k]) for k in _SHOWN if record.get(k) not in (None, "", [])]


async def _records(request: web.Request, limit: int, before: int | None) -> list[dict[str, Any]]:
    _, filters = _filters(request.query)
    return await read_log(request.app[DOMAIN], limit=limit, before=before, **filters)


async def _verdict(request: web.Request, force: bool) -> tuple[Any, float]:
    state = request.app[CONSOLE_STATE]
    now = time.time()
    if force or state.verdict is None or now - state.verdict[1] > VERIFY_EVERY:
        domain = request.app[DOMAIN]
        state.verdict = (await domain.roomlog.verify_signed(domain.key.public), now)
    return state.verdict


async def log_page(request: web.Request) -> web.Response:
    require(request, "log:read")
    given, _ = _filters(request.query)
    raw_before = fields.text(request.query, "before")
    if raw_before and not raw_before.isdigit():
        raise BadRequest("before must be a record's seq")
    before = int(raw_before) if raw_before else None
    records = await _records(request, PAGE, before)
    verdict, checked = await _verdict(request, fields.text(request.query, "verify") == "1")
    older = records[-1]["seq"] if len(records) == PAGE and records[-1]["seq"] > 1 else None
    filters = {k: v for k, v in given.items() if v}
    return await render_page(request, "log.html", {
        "given": given,
        "kinds": KINDS,
        "records": records,
        "details": details,
        "tailing": before is None and not given["until"],
        "live_query": urlencode(filters),
        "older": None if older is None else "?" + urlencode({**filters, "before": older}),
        "verdict": verdict,
        "checked": checked,
        "key": request.app[DOMAIN].key.text,
    }, panel="log")  # fmt: skip


async def log_live(request: web.Request) -> str:
    """The newest records under the page's filters, for the live tail."""
    records = await _records(request, TAIL, None)
    return render_fragment(request, "_log_rows.html", {"records": records, "details": details})
