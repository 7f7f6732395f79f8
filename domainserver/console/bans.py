"""The Bans panel: search the bans in force, add one with a duration and a reason, lift one;
which source imposed each (a local ban, or a subscribed feed) and, where ban feeds are
running, each subscription's state."""

from __future__ import annotations

import itertools
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from entities.errors import BadRequest
from entities.tokens import is_token
from permissions import sources_of

from ..appkeys import DOMAIN
from ..services import bans
from ..services.commits import settle
from ..services.domain import Domain
from . import fields
from .guard import form, redirect, require
from .render import flash, render_page
from .state import CONSOLE_STATE

__all__ = ["bans_page", "lift", "feed_rows", "PAGE"]

PAGE = 100


def feed_rows(domain: Domain, prefix: str, limit: int) -> list[dict[str, Any]]:
    """Tokens the subscribed feeds list (starting with `prefix`), with feed and action."""
    feeds = getattr(domain, "feeds", None)
    if feeds is None:
        return []
    rows = []
    for name in feeds.names():
        action = feeds.rule(name).action
        listed = (t for t in sorted(feeds.entries(name)) if t.startswith(prefix))
        for token in itertools.islice(listed, limit - len(rows)):
            rows.append({"token": token, "source": "feed " + name, "action": action,
                         "expires_at": feeds.entries(name)[token]})  # fmt: skip
    return rows


def feed_status(domain: Domain) -> list[dict[str, Any]]:
    """Each subscription's state as the feeds service keeps it; empty where there is none
    (ban feeds are optional, and older servers have no such state at all)."""
    status = getattr(domain, "feed_status", None) or {}
    out = []
    for name, state in sorted(status.items()):
        if hasattr(state, "to_wire"):
            state = state.to_wire()
        elif not isinstance(state, dict):
            state = {k: v for k, v in vars(state).items() if not k.startswith("_")} \
                if hasattr(state, "__dict__") else {"state": state}
        out.append({"name": name, "fields": sorted((str(k), v) for k, v in state.items()
                                                   if k != "name")})  # fmt: skip
    return out


def _subscribed(domain: Domain) -> list[str]:
    feeds = getattr(domain, "feeds", None)
    return [] if feeds is None else feeds.names()


async def bans_page(request: web.Request) -> web.Response:
    who = require(request, "bans:read")
    domain = request.app[DOMAIN]
    search = fields.text(request.query, "token").lower()
    after = fields.text(request.query, "after") or None
    if after is not None and not is_token(after):
        raise BadRequest("after must be a token")
    if len(search) > 32 or not all(c in "abcdefghijklmnopqrstuvwxyz234567" for c in search):
        raise BadRequest("search by a token or its beginning (a-z, 2-7)")
    start = after if after is not None else (search or None)
    local = []
    if is_token(search) and after is None:
        found = await bans.entry(domain, search)
        local = [found] if found else []
    else:
        page = await bans.entries_page(domain, start, PAGE)
        local = [e for e in page if e.token.startswith(search)]
        if len(page) == PAGE and len(local) == PAGE:
            after = page[-1].token
        else:
            after = None
    now = domain.clock()
    holdings = []
    if is_token(search):
        holdings = [h.to_wire() for h in sources_of(
            search, now, domain.bans, domain.feeds, domain.policy.members)]  # fmt: skip
    more = {"token": search, "after": after} if after else None
    return await render_page(request, "bans.html", {
        "search": search,
        "local": [e.to_wire() for e in local],
        "from_feeds": feed_rows(domain, search, PAGE),
        "holdings": holdings,
        "feeds": feed_status(domain),
        "subscribed": _subscribed(domain),
        "next": None if more is None else "?" + urlencode(more),
        "may_write": who.may("bans:write"),
        "durations": fields.DURATIONS,
        "banned_total": len(domain.bans),
    }, panel="bans")  # fmt: skip


async def lift(request: web.Request) -> web.Response:
    who, data = await form(request, "bans:write")
    token = fields.token(data, "token")
    domain = request.app[DOMAIN]
    was = domain.bans.is_banned(token, domain.clock())
    await settle(bans.unban(domain, who.actor, token))
    flash(request, f"Lifted the ban on {token}." if was else f"{token} was not banned locally.")
    return redirect(request.app[CONSOLE_STATE].prefix + "/console/bans")
