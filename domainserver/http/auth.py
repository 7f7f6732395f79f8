"""API keys for HTTP callers: a Bearer key, looked up by its SHA-256 in the policy, with
scopes. 401 without a known key, 403 without the scope."""

from __future__ import annotations

from aiohttp import web

from entities.errors import AuthFailed, NotAllowed, NotAuthenticated
from permissions import ApiKey

from ..appkeys import DOMAIN

__all__ = ["require_key", "authorize"]


def require_key(request: web.Request, scope: str) -> ApiKey:
    """The key's `[api_keys.NAME]` entry, once it is known and holds `scope`."""
    header = request.headers.get("Authorization", "")
    scheme, _, key = header.partition(" ")
    key = key.strip()
    if scheme.lower() != "bearer" or not key:
        raise NotAuthenticated("send Authorization: Bearer <key>")
    found = request.app[DOMAIN].policy.api_key(key)
    if found is None:
        raise AuthFailed("unknown API key")
    if scope not in found.scopes:
        raise NotAllowed(f"this key lacks the {scope} scope")
    return found


def authorize(request: web.Request, scope: str) -> str:
    """Check the Bearer key has `scope` (401/403 otherwise); the actor the room log records."""
    return "api:" + require_key(request, scope).name
