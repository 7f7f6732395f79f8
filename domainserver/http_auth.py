"""API keys for HTTP callers: a Bearer key, looked up by its SHA-256 in the policy, with scopes.

One error renderer for HTTP: every DomainError becomes `{"error": {code, message}}` with its
status; anything else is logged and answered 500 without a traceback.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from entities.errors import AuthFailed, DomainError, NotAllowed, NotAuthenticated
from permissions import ApiKey

from .keys import DOMAIN

__all__ = ["require_scope", "require_key", "error_response", "json_errors"]

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def error_response(exc: DomainError) -> web.Response:
    return web.json_response({"error": exc.to_wire()}, status=exc.status)


def require_scope(request: web.Request, scope: str) -> None:
    """401 without a known key, 403 when the key lacks `scope`."""
    header = request.headers.get("Authorization", "")
    scheme, _, key = header.partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        raise NotAuthenticated("send Authorization: Bearer <key>")
    scopes = request.app[DOMAIN].policy.scopes_for_key(key.strip())
    if scopes is None:
        raise AuthFailed("unknown API key")
    if scope not in scopes:
        raise NotAllowed(f"this key lacks the {scope} scope")


def require_key(request: web.Request, scope: str) -> ApiKey:
    """Like `require_scope` (same refusals), and returns the key's `[api_keys.NAME]` entry,
    whose name the room log records as the actor."""
    require_scope(request, scope)
    key = request.headers["Authorization"].partition(" ")[2].strip()
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()
    # require_scope found this hash in the same policy (nothing awaited since), so it is here.
    return next(k for k in request.app[DOMAIN].policy.api_keys.values() if k.sha256 == digest)


def json_errors(handler: Handler) -> Handler:
    """Render refusals as JSON errors with their status."""

    async def wrapped(request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)
        except DomainError as exc:
            return error_response(exc)
        except web.HTTPException:
            raise
        except Exception:
            log.exception("HTTP %s %s failed", request.method, request.path)
            return web.json_response(
                {"error": {"code": "internal", "message": "internal error; logged"}}, status=500
            )

    wrapped.__name__ = handler.__name__
    wrapped.__doc__ = handler.__doc__
    return wrapped
