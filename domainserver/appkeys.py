"""Typed keys under which the composition root stores its services on the aiohttp app."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

if TYPE_CHECKING:
    from .config import ServerConfig
    from .services.domain import Domain

__all__ = ["DOMAIN", "CONFIG"]

DOMAIN: web.AppKey[Domain] = web.AppKey("domainserver.domain")
CONFIG: web.AppKey[ServerConfig] = web.AppKey("domainserver.config")
