"""Every HTTP API route the server offers, registered in one place."""

from __future__ import annotations

from aiohttp import web

from .http_blacklist import add_blacklist_routes
from .http_operator import add_operator_routes

__all__ = ["add_api_routes"]


def add_api_routes(app: web.Application, prefix: str = "") -> None:
    add_blacklist_routes(app, prefix)
    add_operator_routes(app, prefix)
