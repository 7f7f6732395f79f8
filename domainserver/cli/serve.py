"""`domainserver serve`: run the server standalone until SIGTERM or SIGINT, with its
settings from flags, environment variables and a settings file (docs/CONFIGURATION.md)."""

from __future__ import annotations

import argparse
import logging
import sys
from typing import Any

from ..settings import LOG_FORMATS, LOG_LEVELS, SETTINGS, describe

__all__ = ["register", "settings_from"]

log = logging.getLogger("domainserver")

# flag -> [server] key
FLAGS = {
    "--host": "host",
    "--port": "port",
    "--db": "database",
    "--permissions": "permissions",
    "--log-level": "log_level",
    "--log-format": "log_format",
}


def register(sub: Any) -> None:
    serve = sub.add_parser(
        "serve",
        help="run the server",
        description="Run the domain server until SIGTERM or SIGINT. Each setting comes from, "
        "in rising precedence: its default, the [server] table of the settings file, its "
        "environment variable, the flag.",
    )
    by_key = {s.key: s for s in SETTINGS}
    serve.add_argument(
        "--config", metavar="FILE", help="settings file with a [server] table (default: none; "
        "env DOMAINSERVER_CONFIG)"
    )
    for flag, key in FLAGS.items():
        setting = by_key[key]
        kw: dict[str, Any] = {"default": None, "help": describe(setting)}
        if setting.kind == "int":
            kw["type"] = int
        if key == "log_level":
            kw["choices"] = LOG_LEVELS
        if key == "log_format":
            kw["choices"] = LOG_FORMATS
        if setting.kind == "path":
            kw["metavar"] = "FILE"
        serve.add_argument(flag, **kw)
    serve.set_defaults(run=_serve)


def settings_from(args: argparse.Namespace) -> Any:
    """The Settings for `args` (flags over environment over file); SettingsError if not."""
    from ..settings import load_settings

    flags = {key: getattr(args, flag[2:].replace("-", "_"), None) for flag, key in FLAGS.items()}
    return load_settings(flags, config_file=getattr(args, "config", None))


def _serve(args: argparse.Namespace) -> int:
    import sqlite3

    from aiohttp import web

    from permissions import PolicyError

    from .. import logs
    from ..app import create_app
    from ..settings import SettingsError
    from ..store import StoreError

    try:
        settings = settings_from(args)
    except SettingsError as exc:
        print(exc, file=sys.stderr)
        return 2
    logs.configure(settings.log_level, settings.log_format, settings.access_log)
    config = settings.config
    try:
        app = create_app(config)
    except PolicyError as exc:
        print(exc, file=sys.stderr)
        return 2
    _announce(settings)
    # run_app turns SIGTERM and SIGINT into a clean shutdown: sessions closed, store flushed.
    try:
        web.run_app(
            app,
            host=settings.host,
            port=settings.port,
            print=None,
            access_log=logging.getLogger("aiohttp.access"),
            # Viewers were already told 1001 (app.on_shutdown); this bounds what is left.
            shutdown_timeout=config.shutdown_timeout,
        )
    except (sqlite3.Error, StoreError) as exc:
        print(f"domainserver: cannot use the database {config.db_path}: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        where = f"{settings.host}:{settings.port}"
        print(f"domainserver: cannot listen on {where}: {exc}", file=sys.stderr)
        return 2
    log.info("stopped", extra={"event": "stopped"})
    return 0


def _announce(settings: Any) -> None:
    config = settings.config
    url = f"ws://{settings.host}:{settings.port}/ws"
    log.info(
        "serving %s (database %s, permissions %s)",
        url,
        config.db_path,
        config.permissions_path or "embedded default",
        extra={"event": "serving", "url": url, "sources": dict(settings.sources)},
    )
    # The console is where an operator acts; say where it is (its address on this machine).
    host = "127.0.0.1" if settings.host in ("0.0.0.0", "::", "") else settings.host
    console = f"http://{'[' + host + ']' if ':' in host else host}:{settings.port}/console"
    keys = "sign in with an API key" if config.permissions_path else (
        "the embedded default has no API keys: make a domain with `domainserver init`")
    log.info("console: %s (%s)", console, keys, extra={"event": "console", "url": console})
    if not settings.remote_visitors:
        log.info(
            "listening on %s only: viewers on other machines cannot connect; use --host "
            "0.0.0.0 or a reverse proxy (docs/DEPLOYMENT.md)",
            settings.host,
        )
