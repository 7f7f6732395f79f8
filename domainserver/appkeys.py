"""Typed keys under which the composition root stores its services on the aiohttp app."""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING

from aiohttp import web

if TYPE_CHECKING:
    from .config import ServerConfig
    from .services.domain import Domain

__all__ = ["DOMAIN", "CONFIG", "SOCKETS"]

DOMAIN: web.AppKey[Domain] = web.AppKey("domainserver.domain")
CONFIG: web.AppKey[ServerConfig] = web.AppKey("domainserver.config")
# Every open /ws socket, said hello or not: shutdown tells each one 1001 before aiohttp waits.
SOCKETS: web.AppKey[weakref.WeakSet[web.WebSocketResponse]] = web.AppKey("domainserver.sockets")
