"""What every console request passes: who is signed in (the session cookie, checked against
the live policy), the scope an action needs, the CSRF token and origin of every form, the
security headers (CSP and friends), and refusals rendered as pages, never tracebacks."""

from __future__ import annotations

import hmac
import logging
import secrets
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web
from multidict import MultiDictProxy

from entities.errors import DomainError, NotAllowed, NotAuthenticated

from ..appkeys import DOMAIN
from ..services.limits import client_address
from .state import CONSOLE_STATE, Operator

__all__ = [
    "COOKIE",
    "CSP",
    "console_middleware",
    "operator",
    "require",
    "form",
    "redirect",
    "address",
    "is_secure",
]

log = logging.getLogger(__name__)

COOKIE = "domainserver_console"
# No inline script or style anywhere: every script and sheet is a file of the package.
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",  # no-referrer would make browsers send Origin: null
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cache-Control": "no-store",
}

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def address(request: web.Request) -> str:
    """The client's address (behind a trusted proxy, the one it names)."""
    config = request.app[DOMAIN].config
    return client_address(request.remote, request.headers.get("X-Forwarded-For"),
                          config.trusted_proxies)  # fmt: skip


def is_secure(request: web.Request) -> bool:
    """HTTPS, directly or as a trusted reverse proxy says (X-Forwarded-Proto)."""
    if request.secure:
        return True
    trusted = request.app[DOMAIN].config.trusted_proxies
    proto = request.headers.get("X-Forwarded-Proto", "")
    return request.remote in trusted and proto.split(",")[0].strip().lower() == "https"


def operator(request: web.Request) -> Operator:
    """The signed-in operator; NotAuthenticated (a redirect to sign-in for a page) if none."""
    state = request.app[CONSOLE_STATE]
    found = state.sessions.operator(request.app[DOMAIN].policy, request.cookies.get(COOKIE))
    if found is None:
        raise NotAuthenticated("sign in with an API key")
    return found


def require(request: web.Request, scope: str) -> Operator:
    """The signed-in operator, once the key holds `scope` (403 otherwise)."""
    who = operator(request)
    if not who.may(scope):
        raise NotAllowed(f"this key lacks the {scope} scope")
    return who


def _same_origin(request: web.Request) -> bool:
    origin = request.headers.get("Origin")
    if origin is None or origin == "null":
        # Browsers send Origin with every form POST; its absence is a non-browser client,
        # which the CSRF token alone then has to satisfy.
        return origin is None
    return urlsplit(origin).netloc == request.host


async def form(request: web.Request, scope: str | None) -> tuple[Operator, MultiDictProxy[Any]]:
    """A POSTed form from a signed-in operator with `scope`, its CSRF token and origin
    checked; the fields."""
    who = operator(request) if scope is None else require(request, scope)
    fields = await request.post()
    sent = fields.get("csrf")
    if not (_same_origin(request) and isinstance(sent, str)
            and hmac.compare_digest(sent.encode(), who.csrf.encode())):  # fmt: skip
        raise NotAllowed("this form is stale or not from the console; reload the page")
    return who, fields


def redirect(location: str) -> web.Response:
    """303 See Other: after a form, the browser GETs the page again."""
    return web.Response(status=303, headers={"Location": location})


def _ours(request: web.Request) -> bool:
    handler = request.match_info.handler
    return getattr(handler, "__module__", "").startswith(__package__ or "domainserver.console")


@web.middleware
async def console_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Security headers on every console response, and refusals as pages: not signed in is
    the sign-in page (for a GET) and scope or CSRF refusals are their status with a reason."""
    if not _ours(request):
        return await handler(request)
    try:
        response = await handler(request)
    except NotAuthenticated as exc:
        prefix = request.app[CONSOLE_STATE].prefix
        if request.method == "GET" and request.headers.get("Accept") != "text/event-stream":
            response = redirect(prefix + "/console/signin")
        else:
            response = await _refusal(request, exc)
    except DomainError as exc:
        response = await _refusal(request, exc)
    except web.HTTPException as exc:
        exc.headers.update(HEADERS)
        raise
    except Exception:
        fault = secrets.token_hex(6)
        log.exception("console %s %s failed (fault %s)", request.method, request.path, fault)
        response = await _refusal(request, None, fault)
    if not response.prepared:
        response.headers.update(HEADERS)
    return response


async def _refusal(request: web.Request, exc: DomainError | None,
                   fault: str | None = None) -> web.Response:  # fmt: skip
    from .render import render_page  # render needs the guard for its navigation

    if exc is None:
        title, message, status = "Server fault", f"Something failed on the server (fault "\
            f"{fault}); the server's log has the details.", 500
    else:
        title, message, status = exc.code.replace("_", " ").capitalize(), str(exc), exc.status
    return await render_page(request, "error.html", {"title": title, "message": message},
                             status=status)  # fmt: skip
