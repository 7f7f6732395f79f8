"""Ops about the visitor themselves and their voice: whoami, move, say, entity_say."""

from __future__ import annotations

from typing import Any

from entities import fields as check
from entities.errors import NotAllowed, NotOwner
from entities.rules import may_edit

from ..protocol.codec import Request
from ..services.domain import Domain
from ..services.evidence import record_hot
from ..services.sessions import Session
from .entities import entity_arg

__all__ = ["whoami", "move", "say", "entity_say", "MAX_CHAT"]

MAX_CHAT = 1000


def whoami(domain: Domain, session: Session, request: Request) -> dict[str, Any]:
    grant = session.grant
    return {"token": session.token, "role": grant.role.name, "caps": sorted(grant.role.caps)}


def move(domain: Domain, session: Session, request: Request) -> dict[str, Any]:
    domain.sessions.move(session, check.vec3(request.arg("position"), "position"), domain.world)
    return {}


def say(domain: Domain, session: Session, request: Request) -> dict[str, Any]:
    text = check.text(request.arg("text"), "text", MAX_CHAT)
    domain.take_chat_budget(session.token, session.grant.role.chat_per_second)
    domain.sessions.avatar_chat(session, text)
    record_hot(domain, "say", session.token, None, {"text": text, "name": session.name})
    return {}


def entity_say(domain: Domain, session: Session, request: Request) -> dict[str, Any]:
    """An object speaks, always under its owner's token, and only for whom may edit it."""
    entity = entity_arg(domain, request)
    text = check.text(request.arg("text"), "text", MAX_CHAT)
    if entity.script is None:
        raise NotAllowed("only a scripted entity can speak")
    if not may_edit(entity, session.actor):
        raise NotOwner("only the owner (or whom the owner admits) may make this entity speak")
    # Charged to the owner whose name the words carry, so copies cannot outtalk the limit.
    payer = entity.owner or session.token
    rate = domain.grant_for(payer).role.chat_per_second if entity.owner else None
    domain.take_chat_budget(payer, rate if rate is not None else session.grant.role.chat_per_second)
    domain.sessions.entity_chat(entity, text)
    # The words carry the owner's name (actor); `by` is who made the entity speak.
    record_hot(domain, "entity_say", entity.owner, entity.id,
               {"text": text, "entity": entity.id, "owner": entity.owner, "by": session.token})
    return {}
