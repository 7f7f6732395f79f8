"""Operator HTTP handlers for bans: list them with reasons, look one up, ban and unban.

Unlike the blacklist API for scripts (contract §3.2) these show reasons, actors and times.
Bans and unbans go through `moderation`, so they kick, remove and log exactly as the
WebSocket `ban` op does.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from entities import fields
from entities.errors import BadRequest, NotFound

from . import moderation
from .domain import settle
from .http_auth import json_errors
from .http_blacklist import query_token_cursor
from .http_params import (
    authorize,
    json_reply,
    path_token,
    query_args,
    query_limit,
    read_body,
)
from .keys import DOMAIN
from .moderation import token_arg
from .store import bans as ban_rows

__all__ = ["list_bans", "get_ban", "add_ban", "lift_ban", "ban_wire"]

BANS_DEFAULT_LIMIT, BANS_MAX_LIMIT = 100, 1000


def ban_wire(row: ban_rows.BanRow) -> dict[str, Any]:
    """A stored ban as the API shows it."""
    token, reason, actor, created_at, expires_at = row
    return {
        "token": token,
        "reason": reason,
        "actor": actor,
        "created_at": created_at,
        "expires_at": expires_at,
    }


@json_errors
async def list_bans(request: web.Request) -> web.Response:
    """GET active bans ordered by token; `next` is the last token when the page is full."""
    authorize(request, "bans:read")
    query = query_args(request, frozenset({"limit", "cursor"}))
    limit = query_limit(query, BANS_DEFAULT_LIMIT, BANS_MAX_LIMIT)
    after = query_token_cursor(request)
    domain = request.app[DOMAIN]
    now = domain.clock()
    rows = await domain.store.read_async(lambda c: ban_rows.page_bans(c, after, limit, now))
    return json_reply(
        {"bans": [ban_wire(r) for r in rows], "next": rows[-1][0] if len(rows) == limit else None}
    )


@json_errors
async def get_ban(request: web.Request) -> web.Response:
    """GET the active ban of one token; 404 when it is not banned."""
    authorize(request, "bans:read")
    query_args(request, frozenset())
    token = path_token(request)
    domain = request.app[DOMAIN]
    now = domain.clock()
    row = await domain.store.read_async(lambda c: ban_rows.get(c, token, now))
    if row is None:
        raise NotFound(f"{token} is not banned")
    return json_reply(ban_wire(row))


def _reason(value: Any) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > 1000:
        raise BadRequest("reason must be a non-empty string of at most 1000 characters")
    return value


@json_errors
async def add_ban(request: web.Request) -> web.Response:
    """POST: ban a token (kick it with 4003, refuse its hellos, remove its entities unless
    `keep_entities`); answers once the ban is committed."""
    actor = authorize(request, "bans:write")
    body = await read_body(
        request, frozenset({"token", "reason"}), frozenset({"duration", "keep_entities"})
    )
    token = token_arg(body["token"], "token")
    reason = _reason(body["reason"])
    duration = fields.lifetime(body.get("duration"))
    keep = fields.boolean(body.get("keep_entities", False), "keep_entities")
    domain = request.app[DOMAIN]
    outcome = moderation.ban(domain, actor, token, reason, duration=duration, keep_entities=keep)
    expires_at = domain.bans.expires_at(token)
    reply = await settle(outcome)
    return json_reply({"token": token, "removed": reply["removed"], "expires_at": expires_at})


@json_errors
async def lift_ban(request: web.Request) -> web.Response:
    """DELETE: lift a ban; lifting one that is not there is fine (`was_banned` false)."""
    actor = authorize(request, "bans:write")
    query_args(request, frozenset())
    token = path_token(request)
    domain = request.app[DOMAIN]
    was_banned = domain.bans.is_banned(token, domain.clock())
    await settle(moderation.unban(domain, actor, token))
    return json_reply({"token": token, "was_banned": was_banned})
