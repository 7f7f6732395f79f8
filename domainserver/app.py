"""The composition root: the one place the server is assembled, standalone or mounted."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
import time
import weakref
from collections.abc import AsyncIterator

from aiohttp import web

from permissions import Policy, default_policy, load_policy

from .appkeys import CONFIG, DOMAIN, SOCKETS
from .config import ServerConfig
from .console import add_console_routes
from .http import add_http_routes
from .services.domain import Domain
from .services.evidence import run_checkpoints, run_retention, seal
from .services.expiry import run_expiry
from .services.feedfetch import run_feeds
from .services.loading import load
from .services.reload import reload_policy, watch_policy_file
from .services.snapshots import save as save_snapshot
from .store import Store
from .wire import websocket_handler

__all__ = ["setup", "create_app", "load_configured_policy"]

log = logging.getLogger(__name__)


def load_configured_policy(config: ServerConfig) -> Policy:
    """The operator's file, or the embedded default when none is given."""
    if config.permissions_path is None:
        return default_policy()
    return load_policy(config.permissions_path)


def setup(app: web.Application, config: ServerConfig, prefix: str = "") -> None:
    """Mount the domain server into `app`: routes under `prefix`, and its start-up/clean-up.

    Raises PolicyError now (not at start-up) when the permissions file is bad.
    """
    policy = load_configured_policy(config)
    app[CONFIG] = config
    app[SOCKETS] = weakref.WeakSet()
    app.router.add_get(prefix + "/ws", websocket_handler)
    add_http_routes(app, prefix)
    app.cleanup_ctx.append(lambda app: _domain_lifecycle(app, config, policy))
    add_console_routes(app, prefix)  # after the domain's context: its sampler needs the domain
    # on_shutdown runs before aiohttp waits for open requests (a WebSocket is one that never
    # ends by itself): viewers are told 1001 first, so that wait is short.
    app.on_shutdown.append(_going_away)


def create_app(config: ServerConfig) -> web.Application:
    """A standalone application serving only the domain server."""
    app = web.Application(client_max_size=1 << 20)
    setup(app, config)
    return app


async def _domain_lifecycle(
    app: web.Application, config: ServerConfig, policy: Policy
) -> AsyncIterator[None]:
    store = await asyncio.to_thread(Store.open, config.db_path, synchronous=config.synchronous)
    domain = Domain(config, policy, store)
    # On this thread: nothing is served until start-up ends, and a million entities built
    # on a worker thread leave ~20 MB more resident (glibc keeps that thread's arena).
    loaded = load(domain)
    # Only after loading: the loader's reader thread works best at the default interval.
    if config.gil_switch_interval is not None:
        sys.setswitchinterval(config.gil_switch_interval)
    log.info("domain %s loaded: %s", policy.domain.id, loaded)
    app[DOMAIN] = domain
    tasks = [
        asyncio.create_task(run_expiry(domain)),
        asyncio.create_task(watch_policy_file(domain)),
        asyncio.create_task(run_checkpoints(domain)),
        asyncio.create_task(run_retention(domain)),
        asyncio.create_task(run_feeds(domain)),
    ]
    loop = asyncio.get_running_loop()
    hup = False
    if config.handle_signals:  # on the embedded default too: there it is a logged no-op
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(signal.SIGHUP, reload_policy, domain, "SIGHUP")
            hup = True
    try:
        yield
    finally:
        if hup:
            loop.remove_signal_handler(signal.SIGHUP)
        for session in domain.sessions:
            session.close(1001, "server shutting down")
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        try:  # a clean shutdown leaves every record under a signed checkpoint
            await seal(domain)
        except Exception:
            log.exception("could not sign the last room-log checkpoint")
        try:  # the last write: the next start reads the world from it, not every row
            await save_snapshot(domain)
        except Exception:
            log.exception("could not write the world snapshot; the next start reads every row")
        await asyncio.to_thread(store.close)


async def _going_away(app: web.Application) -> None:
    """Close every viewer socket with 1001, and wait (at most `shutdown_timeout`) until the
    sessions have ended, so that aiohttp's own shutdown wait finds nothing left to wait for."""
    config = app[CONFIG]
    domain = app.get(DOMAIN)
    sessions = list(domain.sessions) if domain is not None else []
    for session in sessions:
        session.close(1001, "server shutting down")
    in_session = {session.ws for session in sessions}
    handshaking = [ws for ws in app[SOCKETS] if ws not in in_session and not ws.closed]
    closing = [
        asyncio.ensure_future(ws.close(code=1001, message=b"server shutting down"))
        for ws in handshaking
    ]
    deadline = time.monotonic() + config.shutdown_timeout
    while time.monotonic() < deadline and (
        (domain is not None and len(domain.sessions)) or not all(c.done() for c in closing)
    ):
        await asyncio.sleep(0.02)
    for c in closing:
        c.cancel()
    await asyncio.gather(*closing, return_exceptions=True)
    if sessions:
        log.info("shutdown: %d viewer(s) told 1001", len(sessions))
