"""The op table: every WebSocket op, its handler, and the capability it needs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs

from ..protocol.codec import Request
from ..services.commits import Committing
from ..services.domain import Domain
from ..services.sessions import Session
from . import avatars, entities, moderation, mutes, reports

__all__ = ["OPS", "Op", "Handler"]

# A handler answers at once (a dict) or, when it changes state, with a Committing whose
# reply waits for the commit. Never a coroutine: effects must happen in request order.
Handler = Callable[[Domain, Session, Request], dict[str, Any] | Committing]


@attrs.frozen
class Op:
    handler: Handler
    cap: str | None = None
    """The capability the op needs, if any."""
    writes: bool = False
    """Whether it may change durable state. Other ops (reads, chat, moving) wait for the
    connection's earlier writes to commit, so they see them and answer after them."""


OPS: dict[str, Op] = {
    "whoami": Op(avatars.whoami),
    "move": Op(avatars.move),
    "say": Op(avatars.say),
    "entity_say": Op(avatars.entity_say),
    "rez": Op(entities.rez, writes=True),
    "get": Op(entities.get),
    "edit": Op(entities.edit, writes=True),
    "delete": Op(entities.delete, writes=True),
    "set_override": Op(entities.set_override, writes=True),
    "look": Op(entities.look),
    "mute": Op(mutes.mute, writes=True),
    "unmute": Op(mutes.unmute, writes=True),
    "mutes": Op(mutes.listed),
    "find": Op(moderation.find, "find"),
    "remove": Op(moderation.remove, "remove", writes=True),
    "kick": Op(moderation.kick, "kick", writes=True),
    "ban": Op(moderation.ban, "ban", writes=True),
    "unban": Op(moderation.unban, "ban", writes=True),
    "locate": Op(moderation.locate, "locate"),
    "report": Op(reports.report, writes=True),
    "reports": Op(reports.reports_page, "reports"),
    "resolve": Op(reports.resolve, "reports", writes=True),
    "log": Op(reports.log_page, "audit"),
}
