"""`domainserver serve`: run the server standalone until SIGTERM or SIGINT."""

from __future__ import annotations

import argparse
import logging
import sys
from typing import Any

__all__ = ["register"]


def register(sub: Any) -> None:
    serve = sub.add_parser("serve", help="run the server")
    serve.add_argument("--permissions", metavar="FILE", help="permissions file (default: embedded)")
    serve.add_argument("--db", default="domain.db", metavar="FILE", help="SQLite database")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8080)
    serve.set_defaults(run=_serve)


def _serve(args: argparse.Namespace) -> int:
    import sqlite3

    from aiohttp import web

    from permissions import PolicyError

    from ..app import create_app
    from ..config import ServerConfig
    from ..store import StoreError

    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    config = ServerConfig(db_path=args.db, permissions_path=args.permissions)
    try:
        app = create_app(config)
    except PolicyError as exc:
        print(exc, file=sys.stderr)
        return 2
    # run_app turns SIGTERM and SIGINT into a clean shutdown: sessions closed, store flushed.
    try:
        web.run_app(
            app,
            host=args.host,
            port=args.port,
            print=lambda s: print(s, flush=True),
            # Viewers were already told 1001 (app.on_shutdown); this bounds what is left.
            shutdown_timeout=config.shutdown_timeout,
        )
    except (sqlite3.Error, StoreError) as exc:
        print(f"domainserver: cannot use the database {args.db}: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"domainserver: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 2
    return 0
