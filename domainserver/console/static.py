"""The console's script and style sheet, served from the package (no build step, no CDN)."""

from __future__ import annotations

from importlib import resources

from aiohttp import web

from entities.errors import NotFound

__all__ = ["static_file", "FILES"]

FILES = {
    "console.css": "text/css",
    "console.js": "text/javascript",
}


async def static_file(request: web.Request) -> web.Response:
    """GET /console/static/{name}: one of FILES, nothing else."""
    name = request.match_info["name"]
    if name not in FILES:
        raise NotFound("no such file")
    body = resources.files(__package__ or "domainserver.console").joinpath(
        "static", name).read_bytes()  # fmt: skip
    return web.Response(body=body, content_type=FILES[name], charset="utf-8",
                        headers={"Cache-Control": "no-cache"})  # fmt: skip
