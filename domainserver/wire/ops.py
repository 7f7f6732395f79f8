"""The op table: every WebSocket op, its handler, and the capability it needs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..protocol.codec import Request
from ..services.commits import Committing
from ..services.domain import Domain
from ..services.sessions import Session
from . import avatars, entities, moderation, mutes

__all__ = ["OPS", "Handler"]

# A handler answers at once (a dict) or, when it changed state, with a Committing whose
# reply waits for the commit. Never a coroutine: effects must happen in request order.
Handler = Callable[[Domain, Session, Request], dict[str, Any] | Committing]

# op -> (handler, capability or None)
OPS: dict[str, tuple[Handler, str | None]] = {
    "whoami": (avatars.whoami, None),
    "move": (avatars.move, None),
    "say": (avatars.say, None),
    "entity_say": (avatars.entity_say, None),
    "rez": (entities.rez, None),
    "get": (entities.get, None),
    "edit": (entities.edit, None),
    "delete": (entities.delete, None),
    "set_override": (entities.set_override, None),
    "look": (entities.look, None),
    "mute": (mutes.mute, None),
    "unmute": (mutes.unmute, None),
    "mutes": (mutes.listed, None),
    "find": (moderation.find, "find"),
    "remove": (moderation.remove, "remove"),
    "kick": (moderation.kick, "kick"),
    "ban": (moderation.ban, "ban"),
    "unban": (moderation.unban, "ban"),
    "locate": (moderation.locate, "locate"),
}
