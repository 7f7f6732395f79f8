"""Visitor mutes over the WebSocket (contract §2.3): `mute`, `unmute`, `mutes`."""

from __future__ import annotations

from typing import Any

from entities import MuteTarget

from ..protocol.codec import Request
from ..services import mutes
from ..services.commits import Committing
from ..services.domain import Domain
from ..services.sessions import Session

__all__ = ["mute", "unmute", "listed"]


def mute(domain: Domain, session: Session, request: Request) -> Committing | dict[str, Any]:
    return mutes.mute(domain, session.token, MuteTarget.from_wire(request.arg("target")))


def unmute(domain: Domain, session: Session, request: Request) -> Committing | dict[str, Any]:
    return mutes.unmute(domain, session.token, MuteTarget.from_wire(request.arg("target")))


def listed(domain: Domain, session: Session, request: Request) -> dict[str, Any]:
    return {"mutes": mutes.listed(domain, session.token)}
