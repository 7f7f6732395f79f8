"""Operator ops over the WebSocket (contract §2.4); each needs its capability."""

from __future__ import annotations

from typing import Any

from entities import fields
from entities.errors import BadRequest

from . import moderation
from .codec import Request
from .domain import Committing, Domain
from .moderation import FindQuery, reason_arg, token_arg
from .paging import decode_cursor, encode_cursor, page_limit
from .sessions import Session

__all__ = ["find", "remove", "kick", "ban", "unban", "locate"]


def find(domain: Domain, session: Session, request: Request) -> dict[str, Any]:
    query = FindQuery.from_args(request.args)
    after = decode_cursor(request.arg("cursor"), (str,))
    page, last = moderation.find(
        domain, query, page_limit(request.arg("limit")), after[0] if after else None
    )
    return {
        "entities": [e.to_wire() for e in page],
        "next": None if last is None else encode_cursor([last]),
    }


def remove(domain: Domain, session: Session, request: Request) -> Committing:
    ids, owner, creator = request.arg("entities"), request.arg("owner"), request.arg("creator")
    if sum(x is not None for x in (ids, owner, creator)) != 1:
        raise BadRequest("remove takes exactly one of entities, owner, creator")
    if ids is not None and (not isinstance(ids, list) or not all(isinstance(i, str) for i in ids)):
        raise BadRequest("entities must be a list of entity ids")
    return moderation.remove(
        domain,
        session.token,
        ids=ids,
        owner=None if owner is None else token_arg(owner, "owner"),
        creator=None if creator is None else token_arg(creator, "creator"),
        reason=reason_arg(request.arg("reason")),
    )


def kick(domain: Domain, session: Session, request: Request) -> Committing:
    token = token_arg(request.arg("avatar"), "avatar")
    return moderation.kick_logged(domain, session.token, token, reason_arg(request.arg("reason")))


def ban(domain: Domain, session: Session, request: Request) -> Committing:
    token = token_arg(request.arg("token"), "token")
    duration = request.arg("duration")
    if duration is not None:
        duration = fields.lifetime(duration)
    keep = request.arg("keep_entities", False)
    return moderation.ban(
        domain,
        session.token,
        token,
        reason_arg(request.arg("reason")),
        duration=duration,
        keep_entities=fields.boolean(keep, "keep_entities"),
    )


def unban(domain: Domain, session: Session, request: Request) -> Committing:
    return moderation.unban(domain, session.token, token_arg(request.arg("token"), "token"))


def locate(domain: Domain, session: Session, request: Request) -> dict[str, Any]:
    return {"avatars": moderation.locate(domain)}
