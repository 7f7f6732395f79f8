"""Operator HTTP handlers for what is in the world: entities (find, remove) and avatars
(locate, kick). The same powers as the WebSocket ops of contract §2.4, carried out by
`moderation`, so the room log records each action with the key's name as actor."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from entities import fields
from entities.errors import BadRequest

from ..appkeys import DOMAIN
from ..services import moderation
from ..services.commits import settle
from ..services.moderation import FindQuery
from ..services.paging import LISTS, decode_cursor, encode_cursor
from .auth import authorize
from .params import json_reply, query_args, query_limit, read_body

__all__ = ["find_entities", "remove_entities", "locate_avatars", "kick_avatar"]

_FIND_PARAMS = frozenset({"owner", "creator", "invisible", "area", "limit", "cursor"})


def _find_args(query: dict[str, str]) -> dict[str, Any]:
    """Query-string criteria as the argument map `FindQuery.from_args` checks."""
    args: dict[str, Any] = {}
    for name in ("owner", "creator"):
        if name in query:
            args[name] = query[name]
    if "invisible" in query:
        flag = query["invisible"]
        if flag not in ("true", "false"):
            raise BadRequest("invisible must be true or false")
        args["invisible"] = flag == "true"
    if "area" in query:
        parts = query["area"].split(",")
        try:
            x, y, z, r = (float(p) for p in parts)
        except ValueError:
            raise BadRequest("area must be x,y,z,radius (four numbers)") from None
        args["area"] = {"center": [x, y, z], "radius": r}
    return args


async def find_entities(request: web.Request) -> web.Response:
    """GET entities matching every given criterion, ordered by id, keyset-paged."""
    authorize(request, "entities:read")
    query = dict(query_args(request, _FIND_PARAMS))
    limit = query_limit(query, LISTS)
    criteria = FindQuery.from_args(_find_args(query))
    after = decode_cursor(query.get("cursor") or None, (str,))
    domain = request.app[DOMAIN]
    page, last = moderation.find(domain, criteria, limit, after[0] if after else None)
    return json_reply(
        {
            "entities": [e.to_wire() for e in page],
            "next": None if last is None else encode_cursor([last]),
        }
    )


def _entity_ids(value: Any) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(i, str) for i in value):
        raise BadRequest("entities must be a list of entity ids (strings)")
    return value


async def remove_entities(request: web.Request) -> web.Response:
    """POST: remove entities by id list, or all of an owner's, or all of a creator's."""
    actor = authorize(request, "entities:write")
    body = await read_body(
        request, frozenset(), frozenset({"entities", "owner", "creator", "reason"})
    )
    given = [name for name in ("entities", "owner", "creator") if body.get(name) is not None]
    if len(given) != 1:
        raise BadRequest("give exactly one of entities, owner, creator")
    ids = None if body.get("entities") is None else _entity_ids(body["entities"])
    owner, creator = body.get("owner"), body.get("creator")
    outcome = moderation.remove(
        request.app[DOMAIN],
        actor,
        ids=ids,
        owner=None if owner is None else fields.token(owner, "owner"),
        creator=None if creator is None else fields.token(creator, "creator"),
        reason=fields.reason(body.get("reason"), required=False),
        rank=None,  # an API key is the permissions file's own holder
    )
    return json_reply(await settle(outcome))


async def locate_avatars(request: web.Request) -> web.Response:
    """GET every connected avatar, invisible ones included."""
    authorize(request, "avatars:read")
    query_args(request, frozenset())
    return json_reply({"avatars": moderation.locate(request.app[DOMAIN])})


async def kick_avatar(request: web.Request) -> web.Response:
    """POST: push `kicked` to every session of the avatar and close them (4002); 404 when
    none is connected."""
    actor = authorize(request, "avatars:write")
    body = await read_body(request, frozenset({"avatar"}), frozenset({"reason"}))
    token = fields.token(body["avatar"], "avatar")
    reason = fields.reason(body.get("reason"), required=False)
    domain = request.app[DOMAIN]
    # Counted as `moderation.kick` counts: a session already closing is not connected.
    sessions = sum(not s.closing for s in domain.sessions.of_token(token))
    await settle(moderation.kick_logged(domain, actor, token, reason, rank=None))
    return json_reply({"avatar": token, "sessions": sessions})
