"""Signing in to the console with an API key, and out: the key is checked against the policy
and forgotten; the browser keeps only a random session id in an HttpOnly, SameSite=Strict
cookie (Secure over HTTPS)."""

from __future__ import annotations

import logging
import math

from aiohttp import web

from entities.errors import NotAuthenticated

from ..appkeys import DOMAIN
from .guard import COOKIE, address, form, is_secure, operator, redirect
from .render import render_page, visible_panels
from .state import CONSOLE_STATE

__all__ = ["home", "signin_page", "signin", "signout", "MAX_KEY"]

log = logging.getLogger(__name__)

MAX_KEY = 512
"""Longest key text accepted; keys `domainserver apikey` makes are 43 characters."""


def _base(request: web.Request) -> str:
    return request.app[CONSOLE_STATE].prefix + "/console"


async def home(request: web.Request) -> web.Response:
    """GET /console: the first panel the key may open."""
    who = operator(request)
    panels = visible_panels(who)
    if not panels:
        return await render_page(request, "empty.html", {})
    return redirect(f"{_base(request)}/{panels[0].slug}")


async def signin_page(request: web.Request) -> web.Response:
    try:
        operator(request)
        return redirect(_base(request))
    except NotAuthenticated:
        return await render_page(request, "signin.html", {"error": None})


async def signin(request: web.Request) -> web.Response:
    """POST the key: a session cookie and the console, or the page again with why not."""
    state = request.app[CONSOLE_STATE]
    where = address(request)
    wait = state.limiter.blocked(where)
    if wait:
        return await render_page(request, "signin.html", {
            "error": f"Too many failed sign-ins from your address; try again in "
                     f"{math.ceil(wait)} seconds."}, status=429)  # fmt: skip
    fields = await request.post()
    key = fields.get("key")
    if not isinstance(key, str) or not key.strip() or len(key) > MAX_KEY:
        sid = None
    else:
        sid = state.sessions.sign_in(request.app[DOMAIN].policy, key)
    if sid is None:
        state.limiter.failed(where)
        log.info("console: a sign-in from %s with an unknown key was refused", where)
        return await render_page(request, "signin.html", {
            "error": "That key is not one of this domain's API keys."}, status=401)  # fmt: skip
    who = state.sessions.operator(request.app[DOMAIN].policy, sid)
    assert who is not None
    log.info("console: api:%s signed in from %s", who.name, where)
    response = redirect(_base(request))
    response.set_cookie(COOKIE, sid, path=_base(request), httponly=True, samesite="Strict",
                        secure=is_secure(request))  # fmt: skip
    return response


async def signout(request: web.Request) -> web.Response:
    who, _ = await form(request, None)
    request.app[CONSOLE_STATE].sessions.sign_out(who.sid)
    log.info("console: api:%s signed out", who.name)
    response = redirect(_base(request) + "/signin")
    response.del_cookie(COOKIE, path=_base(request))
    return response
