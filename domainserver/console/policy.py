"""The Policy panel: the permissions file in force, the last reload's result with its
FILE:LINE errors, and a reload button (logged with the key's name as actor)."""

from __future__ import annotations

from aiohttp import web

from permissions import summary

from ..appkeys import DOMAIN
from ..services.reload import last_reload, policy_source, reload_policy
from .guard import form, redirect, require
from .render import flash, render_page
from .state import CONSOLE_STATE

__all__ = ["policy_page", "reload"]


async def policy_page(request: web.Request) -> web.Response:
    who = require(request, "policy:read")
    domain = request.app[DOMAIN]
    path, text = policy_source(domain)
    return await render_page(request, "policy.html", {
        "path": path,
        "text": text,
        "summary": summary(domain.policy),
        "last": await last_reload(domain),
        "may_reload": who.may("policy:write") and path is not None,
    }, panel="policy")  # fmt: skip


async def reload(request: web.Request) -> web.Response:
    who, _ = await form(request, "policy:write")
    domain = request.app[DOMAIN]
    ok = reload_policy(domain, f"console ({who.actor})", actor=who.actor)
    await domain.writes.commit()  # writes land in order: the reload's record is in the log now
    flash(request, "Reloaded the permissions file." if ok else
          "The permissions file was refused; the last good policy stays (see below).")
    return redirect(request.app[CONSOLE_STATE].prefix + "/console/policy")
