"""The one renderer of HTTP errors: a middleware that turns every DomainError raised by one
of our handlers into `{"error": {code, message}}` with its status, and anything else into
a logged 500 without a traceback. A host application's own routes are left alone."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Awaitable, Callable

from aiohttp import web

from entities.errors import DomainError, ServerFault

__all__ = ["error_response", "error_middleware"]

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def error_response(exc: DomainError) -> web.Response:
    response = web.json_response({"error": exc.to_wire()}, status=exc.status)
    if exc.status == 401:  # RFC 9110 §11.6.1: a 401 names the scheme that would work
        response.headers["WWW-Authenticate"] = 'Bearer realm="domainserver"'
    return response


def _ours(request: web.Request) -> bool:
    handler = request.match_info.handler
    return getattr(handler, "__module__", "").startswith(__package__ or "domainserver.http")


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    if not _ours(request):
        return await handler(request)
    try:
        return await handler(request)
    except DomainError as exc:
        return error_response(exc)
    except web.HTTPException:
        raise
    except Exception:
        fault_id = secrets.token_hex(6)
        log.exception("HTTP %s %s failed (fault %s)", request.method, request.path, fault_id)
        return error_response(ServerFault.logged_as(fault_id))
