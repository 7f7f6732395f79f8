"""The op table: every WebSocket op, its handler, and the capability it needs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import ops_avatar, ops_entities, ops_moderation, ops_mutes
from .codec import Request
from .domain import Committing, Domain
from .sessions import Session

__all__ = ["OPS", "Handler"]

# A handler answers at once (a dict) or, when it changed state, with a Committing whose
# reply waits for the commit. Never a coroutine: effects must happen in request order.
Handler = Callable[[Domain, Session, Request], dict[str, Any] | Committing]

# op -> (handler, capability or None)
OPS: dict[str, tuple[Handler, str | None]] = {
    "whoami": (ops_avatar.whoami, None),
    "move": (ops_avatar.move, None),
    "say": (ops_avatar.say, None),
    "entity_say": (ops_avatar.entity_say, None),
    "rez": (ops_entities.rez, None),
    "get": (ops_entities.get, None),
    "edit": (ops_entities.edit, None),
    "delete": (ops_entities.delete, None),
    "set_override": (ops_entities.set_override, None),
    "look": (ops_entities.look, None),
    "mute": (ops_mutes.mute, None),
    "unmute": (ops_mutes.unmute, None),
    "mutes": (ops_mutes.mutes, None),
    "find": (ops_moderation.find, "find"),
    "remove": (ops_moderation.remove, "remove"),
    "kick": (ops_moderation.kick, "kick"),
    "ban": (ops_moderation.ban, "ban"),
    "unban": (ops_moderation.unban, "ban"),
    "locate": (ops_moderation.locate, "locate"),
}
