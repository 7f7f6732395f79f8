"""Operator ops over the WebSocket (contract §2.4); the op table checks each capability."""

from __future__ import annotations

from typing import Any

from entities import fields
from entities.errors import BadRequest

from ..protocol.codec import Request
from ..services import bans, moderation
from ..services.commits import Committing
from ..services.domain import Domain
from ..services.moderation import FindQuery
from ..services.paging import decode_cursor, encode_cursor, page_limit
from ..services.sessions import Session

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
        owner=None if owner is None else fields.token(owner, "owner"),
        creator=None if creator is None else fields.token(creator, "creator"),
        reason=fields.reason(request.arg("reason"), required=False),
        rank=session.grant.role.rank,
    )


def kick(domain: Domain, session: Session, request: Request) -> Committing:
    token = fields.token(request.arg("avatar"), "avatar")
    reason = fields.reason(request.arg("reason"), required=False)
    return moderation.kick_logged(
        domain, session.token, token, reason, rank=session.grant.role.rank
    )


def ban(domain: Domain, session: Session, request: Request) -> Committing:
    token = fields.token(request.arg("token"), "token")
    reason = fields.reason(request.arg("reason"), required=True)
    duration = request.arg("duration")
    if duration is not None:
        duration = fields.lifetime(duration)
    keep = fields.boolean(request.arg("keep_entities", False), "keep_entities")
    shared = fields.boolean(request.arg("shared", False), "shared")
    return bans.ban(
        domain,
        session.token,
        token,
        reason,
        duration=duration,
        keep_entities=keep,
        rank=session.grant.role.rank,
        shared=shared,
    )


def unban(domain: Domain, session: Session, request: Request) -> Committing:
    return bans.unban(domain, session.token, fields.token(request.arg("token"), "token"))


def locate(domain: Domain, session: Session, request: Request) -> dict[str, Any]:
    return {"avatars": moderation.locate(domain)}
