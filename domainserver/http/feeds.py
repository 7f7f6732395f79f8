"""Operator HTTP handlers for ban feeds: every subscription's state and conflicts, and which
sources (local, or feed NAME) hold one token."""

from __future__ import annotations

from aiohttp import web

from ..appkeys import DOMAIN
from ..services import feeds
from .auth import authorize
from .params import json_reply, path_token, query_args

__all__ = ["list_feeds", "token_sources"]


async def list_feeds(request: web.Request) -> web.Response:
    """GET each subscription: settings, last fetch, serial, entries, errors; and conflicts."""
    authorize(request, "bans:read")
    query_args(request, frozenset())
    return json_reply(feeds.subscriptions(request.app[DOMAIN]))


async def token_sources(request: web.Request) -> web.Response:
    """GET which sources ban (or deny, or flag) one token, and which of them decides."""
    authorize(request, "bans:read")
    query_args(request, frozenset())
    return json_reply(feeds.sources(request.app[DOMAIN], path_token(request)))
