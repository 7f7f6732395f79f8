"""The Now panel: who is here this moment (invisible avatars too) with role, position and
session, and the two things done to a griefer in the moment: kick, and ban with a duration
and a reason. Both go through the services the operator API uses, logged as `api:NAME`."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from entities.tokens import is_token

from ..appkeys import DOMAIN
from ..services import bans, moderation
from ..services.commits import settle
from ..services.domain import Domain
from . import fields
from .guard import form, redirect, require
from .render import flash, render_fragment, render_page
from .state import CONSOLE_STATE

__all__ = ["now_page", "now_live", "kick", "ban", "avatars"]


def avatars(domain: Domain) -> list[dict[str, Any]]:
    """Every connected session as the panel lists it, by name."""
    rows = [
        {
            "token": s.token,
            "name": s.name,
            "role": s.grant.role.name,
            "position": [round(c, 1) for c in s.position],
            "invisible": s.invisible,
            "session": s.id,
        }
        for s in domain.sessions
        if not s.closing
    ]
    return sorted(rows, key=lambda r: (r["name"].casefold(), r["token"], r["session"]))


async def now_page(request: web.Request) -> web.Response:
    who = require(request, "avatars:read")
    chosen = request.query.get("avatar", "")
    return await render_page(request, "now.html", {
        "avatars": avatars(request.app[DOMAIN]),
        "chosen": chosen if is_token(chosen) else "",
        "may_kick": who.may("avatars:write"),
        "may_ban": who.may("bans:write"),
        "durations": fields.DURATIONS,
    }, panel="now")  # fmt: skip


def now_live(request: web.Request) -> str:
    """The table of avatars, for the live region."""
    return render_fragment(request, "_avatars.html", {"avatars": avatars(request.app[DOMAIN])})


def _back(request: web.Request) -> web.Response:
    return redirect(request.app[CONSOLE_STATE].prefix + "/console/now")


async def kick(request: web.Request) -> web.Response:
    who, data = await form(request, "avatars:write")
    token = fields.token(data, "avatar")
    reason = fields.reason(data, required=False)
    domain = request.app[DOMAIN]
    sessions = sum(not s.closing for s in domain.sessions.of_token(token))
    await settle(moderation.kick_logged(domain, who.actor, token, reason, rank=None))
    flash(request, f"Kicked {token} ({sessions} session{'s' * (sessions != 1)}).")
    return _back(request)


async def ban(request: web.Request) -> web.Response:
    who, data = await form(request, "bans:write")
    token = fields.token(data, "avatar")
    reason = fields.reason(data, required=True)
    duration = fields.duration(data)
    keep = fields.text(data, "keep_entities") == "on"
    domain = request.app[DOMAIN]
    reply = await settle(bans.ban(domain, who.actor, token, reason, duration=duration,
                                  keep_entities=keep, rank=None))  # fmt: skip
    span = "permanently" if duration is None else f"for {fields.span(duration)}"
    flash(request, f"Banned {token} {span}; removed {reply['removed']} of its entities.")
    back = data.get("back")
    if back in ("bans", "now"):
        return redirect(f"{request.app[CONSOLE_STATE].prefix}/console/{back}")
    return _back(request)
