"""Every console route, registered in one place, with the templates, the middleware and the
health sampler the console needs; the composition root calls `add_console_routes`."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from aiohttp import web

from ..appkeys import DOMAIN
from ..services.history import History, run_history
from . import bans, health, log, now, policy, reports, signin, world
from .guard import console_middleware
from .live import Live, live_handler
from .render import setup_templates
from .state import CONSOLE_STATE, HISTORY, ConsoleState
from .static import static_file

__all__ = ["add_console_routes"]

REGIONS = {
    "now": Live("avatars:read", now.now_live, 1.0),
    "log": Live("log:read", log.log_live, 1.0),
    "health": Live("metrics:read", health.health_live, 2.0),
}


def add_console_routes(app: web.Application, prefix: str = "") -> None:
    """Serve the operator console under `prefix`/console."""
    app[CONSOLE_STATE] = ConsoleState(prefix=prefix)
    app[HISTORY] = History()
    setup_templates(app)
    if console_middleware not in app.middlewares:
        app.middlewares.append(console_middleware)
    base = prefix + "/console"
    r = app.router
    r.add_get(base, signin.home)
    r.add_get(base + "/signin", signin.signin_page)
    r.add_post(base + "/signin", signin.signin)
    r.add_post(base + "/signout", signin.signout)
    r.add_get(base + "/static/{name}", static_file)
    r.add_get(base + "/live/{region}", live_handler(REGIONS))
    r.add_get(base + "/now", now.now_page)
    r.add_post(base + "/now/kick", now.kick)
    r.add_post(base + "/now/ban", now.ban)
    r.add_get(base + "/world", world.world_page)
    r.add_post(base + "/world/remove", world.remove)
    r.add_get(base + "/bans", bans.bans_page)
    r.add_post(base + "/bans/add", now.ban)
    r.add_post(base + "/bans/lift", bans.lift)
    r.add_get(base + "/reports", reports.reports_page)
    r.add_post(base + "/reports/resolve", reports.resolve)
    r.add_get(base + "/log", log.log_page)
    r.add_get(base + "/policy", policy.policy_page)
    r.add_post(base + "/policy/reload", policy.reload)
    r.add_get(base + "/health", health.health_page)
    app.cleanup_ctx.append(_sampler)
    app.on_shutdown.append(_end_streams)


async def _sampler(app: web.Application) -> AsyncIterator[None]:
    """Sample the health figures while the domain runs (it is there once the composition
    root's own context has started, which comes first)."""
    task = asyncio.create_task(run_history(app[HISTORY], app[DOMAIN]))
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def _end_streams(app: web.Application) -> None:
    app[CONSOLE_STATE].closing.set()
