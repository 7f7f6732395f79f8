"""The blacklist API for domain scripts (contract §3.2): tokens only, keyset-paged."""

from __future__ import annotations

from aiohttp import web

from entities.errors import BadRequest
from entities.tokens import is_token

from .http_auth import json_errors, require_scope
from .http_params import query_limit
from .keys import DOMAIN
from .store import bans as ban_rows

__all__ = ["add_blacklist_routes", "query_token_cursor"]

DEFAULT_LIMIT, MAX_LIMIT = 1000, 10_000


def query_token_cursor(request: web.Request) -> str | None:
    """The cursor is the last token of the previous page: stable under concurrent changes."""
    cursor = request.query.get("cursor")
    if cursor is None or cursor == "":
        return None
    if not is_token(cursor):
        raise BadRequest("cursor must be the `next` value of a previous page")
    return cursor


@json_errors
async def blacklist_page(request: web.Request) -> web.Response:
    require_scope(request, "blacklist:read")
    limit = query_limit(request.query, DEFAULT_LIMIT, MAX_LIMIT)
    after = query_token_cursor(request)
    domain = request.app[DOMAIN]
    now = domain.clock()
    tokens = await domain.store.read_async(lambda c: ban_rows.page_tokens(c, after, limit, now))
    return web.json_response(
        {"tokens": tokens, "next": tokens[-1] if len(tokens) == limit else None}
    )


@json_errors
async def blacklist_token(request: web.Request) -> web.Response:
    require_scope(request, "blacklist:read")
    token = request.match_info["token"]
    if not is_token(token):
        raise BadRequest("not a token (32 characters of a-z and 2-7)")
    domain = request.app[DOMAIN]
    return web.json_response(
        {"token": token, "banned": domain.bans.is_banned(token, domain.clock())}
    )


def add_blacklist_routes(app: web.Application, prefix: str = "") -> None:
    app.router.add_get(prefix + "/api/v1/blacklist", blacklist_page)
    app.router.add_get(prefix + "/api/v1/blacklist/{token}", blacklist_token)
