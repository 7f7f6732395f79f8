"""`GET /healthz` (contract §3.1): 200 once the server accepts connections, to anyone; the
counts only to a key with `metrics:read` (how busy a domain is is not everyone's business)."""

from __future__ import annotations

from aiohttp import web

from ..appkeys import DOMAIN
from .auth import require_key

__all__ = ["healthz"]


async def healthz(request: web.Request) -> web.Response:
    if "Authorization" not in request.headers:
        return web.json_response({"ok": True})
    require_key(request, "metrics:read")
    domain = request.app[DOMAIN]
    return web.json_response(
        {"ok": True, "entities": len(domain.world), "sessions": len(domain.sessions)}
    )
