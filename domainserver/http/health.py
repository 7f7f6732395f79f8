"""`GET /healthz` (contract §3.1): 200 once the server accepts connections."""

from __future__ import annotations

from aiohttp import web

from ..appkeys import DOMAIN

__all__ = ["healthz"]


async def healthz(request: web.Request) -> web.Response:
    domain = request.app[DOMAIN]
    return web.json_response(
        {"ok": True, "entities": len(domain.world), "sessions": len(domain.sessions)}
    )
