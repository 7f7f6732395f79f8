"""Operator HTTP handlers for bans: list them with reasons, look one up, ban and unban.

Unlike the blacklist API for scripts (contract §3.2) these show reasons, actors and times.
Bans and unbans go through `services.bans`, so they kick, remove and log exactly as the
WebSocket `ban` op does.
"""

from __future__ import annotations

from aiohttp import web

from entities import fields
from entities.errors import NotFound

from ..appkeys import DOMAIN
from ..services import bans
from ..services.commits import settle
from ..services.paging import LISTS
from .auth import authorize
from .params import json_reply, path_token, query_args, query_limit, query_token_cursor, read_body

__all__ = ["list_bans", "get_ban", "add_ban", "lift_ban"]


async def list_bans(request: web.Request) -> web.Response:
    """GET active bans ordered by token; `next` is the last token when the page is full."""
    authorize(request, "bans:read")
    query = query_args(request, frozenset({"limit", "cursor"}))
    limit = query_limit(query, LISTS)
    entries = await bans.entries_page(request.app[DOMAIN], query_token_cursor(query), limit)
    return json_reply(
        {
            "bans": [e.to_wire() for e in entries],
            "next": entries[-1].token if len(entries) == limit else None,
        }
    )


async def get_ban(request: web.Request) -> web.Response:
    """GET the active ban of one token; 404 when it is not banned."""
    authorize(request, "bans:read")
    query_args(request, frozenset())
    token = path_token(request)
    entry = await bans.entry(request.app[DOMAIN], token)
    if entry is None:
        raise NotFound(f"{token} is not banned")
    return json_reply(entry.to_wire())


async def add_ban(request: web.Request) -> web.Response:
    """POST: ban a token (kick it with 4003, refuse its hellos, remove its entities unless
    `keep_entities`); answers once the ban is committed."""
    actor = authorize(request, "bans:write")
    body = await read_body(
        request, frozenset({"token", "reason"}), frozenset({"duration", "keep_entities", "shared"})
    )
    token = fields.token(body["token"], "token")
    reason = fields.reason(body["reason"], required=True)
    duration = fields.lifetime(body.get("duration"))
    keep = fields.boolean(body.get("keep_entities", False), "keep_entities")
    shared = fields.boolean(body.get("shared", False), "shared")
    domain = request.app[DOMAIN]
    # An API key is the permissions file's own holder: no member outranks it.
    outcome = bans.ban(
        domain, actor, token, reason, duration=duration, keep_entities=keep, rank=None,
        shared=shared,
    )  # fmt: skip
    reply = await settle(outcome)
    expires_at = domain.bans.expires_at(token)
    return json_reply({"token": token, "removed": reply["removed"], "expires_at": expires_at})


async def lift_ban(request: web.Request) -> web.Response:
    """DELETE: lift a ban; lifting one that is not there is fine (`was_banned` false)."""
    actor = authorize(request, "bans:write")
    query_args(request, frozenset())
    token = path_token(request)
    domain = request.app[DOMAIN]
    was_banned = domain.bans.is_banned(token, domain.clock())
    await settle(bans.unban(domain, actor, token))
    return json_reply({"token": token, "was_banned": was_banned})
