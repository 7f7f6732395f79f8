"""The blacklist API for domain scripts (contract §3.2): tokens only, keyset-paged."""

from __future__ import annotations

from aiohttp import web

from ..appkeys import DOMAIN
from ..services import bans
from ..services.paging import BLACKLIST
from .auth import require_key
from .params import path_token, query_limit, query_token_cursor

__all__ = ["blacklist_page", "blacklist_token"]


async def blacklist_page(request: web.Request) -> web.Response:
    require_key(request, "blacklist:read")
    limit = query_limit(request.query, BLACKLIST)
    after = query_token_cursor(request.query)
    tokens = await bans.tokens_page(request.app[DOMAIN], after, limit)
    return web.json_response(
        {"tokens": tokens, "next": tokens[-1] if len(tokens) == limit else None}
    )


async def blacklist_token(request: web.Request) -> web.Response:
    require_key(request, "blacklist:read")
    token = path_token(request)
    domain = request.app[DOMAIN]
    return web.json_response(
        {"token": token, "banned": domain.bans.is_banned(token, domain.clock())}
    )
