"""`GET /metrics` (contract §3.4): the Prometheus text format, for a key with `metrics:read`."""

from __future__ import annotations

from aiohttp import web

from ..appkeys import DOMAIN
from ..services.metrics import CONTENT_TYPE, exposition
from .auth import require_key

__all__ = ["metrics"]


async def metrics(request: web.Request) -> web.Response:
    require_key(request, "metrics:read")
    body = await exposition(request.app[DOMAIN])
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE})
