"""Live parts of the console: server-sent events carrying a region's new HTML whenever it
changes. The session is checked again on every tick, so a key removed from the permissions
file stops its streams at once; shutdown ends them all."""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from typing import Any

import attrs
from aiohttp import web

from entities.errors import NotFound

from ..appkeys import DOMAIN
from .guard import COOKIE, HEADERS, require
from .state import CONSOLE_STATE

__all__ = ["Live", "live_handler", "HEARTBEAT"]

HEARTBEAT = 15.0
"""Seconds between comments that keep an idle stream open through proxies."""


@attrs.frozen
class Live:
    """A live region: the scope it needs, how to render it, how often to look."""

    scope: str
    render: Callable[[web.Request], str | Awaitable[str]]
    every: float


def _event(html: str) -> bytes:
    lines = html.replace("\r", "").split("\n")
    return ("".join(f"data: {line}\n" for line in lines) + "\n").encode()


def live_handler(regions: dict[str, Live]) -> Callable[[web.Request], Awaitable[Any]]:
    """GET /console/live/{region}: the region's HTML now and at each change."""

    async def live(request: web.Request) -> web.StreamResponse:
        region = regions.get(request.match_info["region"])
        if region is None:
            raise NotFound("no such live region")
        require(request, region.scope)
        state = request.app[CONSOLE_STATE]
        response = web.StreamResponse(headers={
            **HEADERS, "Content-Type": "text/event-stream", "X-Accel-Buffering": "no"})  # fmt: skip
        await response.prepare(request)
        last, beat = None, time.monotonic()
        sid = request.cookies.get(COOKIE)
        try:
            while not state.closing.is_set():
                who = state.sessions.operator(request.app[DOMAIN].policy, sid)
                if who is None or not who.may(region.scope):
                    await response.write(b"event: signedout\ndata: \n\n")
                    break
                html = region.render(request)
                if inspect.isawaitable(html):
                    html = await html
                if html != last:
                    await response.write(_event(html))
                    last, beat = html, time.monotonic()
                elif time.monotonic() - beat > HEARTBEAT:
                    await response.write(b": still here\n\n")
                    beat = time.monotonic()
                try:
                    await asyncio.wait_for(state.closing.wait(), region.every)
                except TimeoutError:
                    pass
        except ConnectionResetError:
            pass  # the browser went away
        return response

    return live
