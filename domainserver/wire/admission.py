"""Admission on `/ws`: the challenge answered by a hello, proven, and turned into a session,
or refused with its reason (close 4001 or 4003); and the reading of frames it shares with
the endpoint."""

from __future__ import annotations

import logging
import secrets
from typing import Any

from aiohttp import WSMsgType, web

from entities.errors import (
    AuthFailed,
    BadFrame,
    BadRequest,
    Banned,
    DomainError,
    NotAllowed,
    NotAuthenticated,
)
from permissions import check_credentials

from ..protocol.codec import (
    Request,
    decode_request,
    encode_error_event,
    encode_error_reply,
    encode_reply,
)
from ..services.credentials import follow_credentials
from ..services.domain import Domain
from ..services.feeds import announce_entry, check_admission
from ..services.sessions import FEATURES, Session
from .handshake import Hello

__all__ = ["Abuse", "read_frame", "handshake", "CLOSE_CODES"]

log = logging.getLogger("domainserver.wire.endpoint")  # one logger for the endpoint's story

CLOSE_CODES = {"auth_failed": 4001, "banned": 4003, "not_allowed": 4003}


class Abuse:
    """Counts malformed frames so a flood of garbage ends in a 1008 close, not a stall."""

    def __init__(self, limit: int) -> None:
        self.left = limit

    def spend(self) -> bool:
        self.left -= 1
        return self.left > 0


def read_frame(msg: Any, max_frame: int) -> Request | DomainError | None:
    """A request, an error to push as an event, or None when the socket is done."""
    if msg.type == WSMsgType.BINARY:
        try:
            return decode_request(msg.data, max_frame)
        except DomainError as exc:
            return exc
    if msg.type == WSMsgType.TEXT:
        return BadFrame("text frames are not accepted; send binary msgpack")
    return None


async def handshake(
    domain: Domain,
    ws: web.WebSocketResponse,
    transport: Any,
    abuse: Abuse,
    nonce: bytes,
    domain_id: str,
) -> Session | None:
    async for msg in ws:
        item = read_frame(msg, domain.config.max_frame)
        if item is None:
            break
        if isinstance(item, DomainError):
            await ws.send_bytes(encode_error_event(item))
            if not abuse.spend():
                await ws.close(code=1008, message=b"too many bad frames")
                return None
            continue
        if item.op != "hello":
            await ws.send_bytes(encode_error_reply(item.id, NotAuthenticated("send hello first")))
            continue
        try:
            return _admit(domain, ws, transport, item, nonce, domain_id)
        except BadRequest as exc:
            _log_refused(transport, exc)
            await ws.send_bytes(encode_error_reply(item.id, exc))
        except (AuthFailed, Banned, NotAllowed) as exc:
            _log_refused(transport, exc)
            await ws.send_bytes(encode_error_reply(item.id, exc))
            await ws.close(code=CLOSE_CODES[exc.code], message=exc.code.encode())
            return None
    return None


def _admit(
    domain: Domain,
    ws: web.WebSocketResponse,
    transport: Any,
    request: Request,
    nonce: bytes,
    domain_id: str,
) -> Session:
    hello = Hello.verify(request.args, domain_id, nonce)
    # Refusals name the token: only its owner (who signed this hello) reads them.
    check_admission(domain, hello.token)  # a local ban, or a feed's
    check = check_credentials(domain.policy, hello.credentials, hello.token, domain.clock())
    if check.refused:
        raise BadRequest(f"token {hello.token}: " + "; ".join(check.refused))
    groups = check.groups
    if hello.interest is not None and not hello.interest <= domain.config.max_look_radius:
        raise BadRequest(f"interest_radius may be at most {domain.config.max_look_radius:g}")
    features = hello.accepted(FEATURES)
    grant = domain.grant_for(hello.token, groups)
    if not grant.may_connect:
        raise NotAllowed(f"this domain does not admit token {hello.token}")
    session = Session(
        session_id=secrets.token_hex(8),
        token=hello.token,
        name=hello.name,
        invisible=hello.invisible,
        grant=grant,
        credentials=hello.credentials,
        credential_groups=groups,
        mutes=domain.mutes_of(hello.token),
        ws=ws,
        transport=transport,
        max_pending=domain.config.max_pending_bytes,
        features=features,
        interest=hello.interest,
    )
    welcome = {
        "token": hello.token,
        "session": session.id,
        "role": grant.role.name,
        "caps": sorted(grant.role.caps),
    }
    if hello.features:  # a v1 viewer's reply stays exactly the contract's
        welcome["features"] = sorted(features)
    session.send(encode_reply(request.id, welcome))
    follow_credentials(domain, session, check.expires_at)
    announce_entry(domain, session)
    return session


def _log_refused(transport: Any, exc: DomainError) -> None:
    peer = transport.get_extra_info("peername") if transport is not None else None
    address = peer[0] if isinstance(peer, tuple) else "?"
    log.info(
        "hello refused from %s: %s: %s",
        address,
        exc.code,
        exc.message,
        extra={"event": "refused", "code": exc.code, "peer": address},
    )


