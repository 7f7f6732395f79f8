"""The `/ws` endpoint: moves frames between the socket and the codec, the handshake and the
op table. Malformed input is answered and counted, never raised out of the handler."""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import time
from typing import Any

from aiohttp import web

from entities.errors import (
    BadRequest,
    DomainError,
    NotAllowed,
    QuotaExceeded,
    RateLimited,
    ServerFault,
)

from ..appkeys import DOMAIN, SOCKETS
from ..protocol.codec import (
    PackedField,
    Request,
    encode_error_event,
    encode_error_reply,
    encode_event,
    encode_reply,
    encode_reply_packed,
)
from ..services.commits import Committing
from ..services.credentials import forget_credentials
from ..services.domain import Domain
from ..services.evidence import record_presence
from ..services.limits import client_address
from ..services.sessions import Session
from .admission import Abuse, handshake, read_frame
from .ops import OPS
from .pipeline import Pipeline

__all__ = ["websocket_handler"]

log = logging.getLogger(__name__)

# Frames one socket may have handled before it lets the other connections run.
FAIR_SHARE = 32
# Seconds a socket is left unread after a request refused as rate_limited or
# quota_exceeded, doubling up to
# the maximum while refusals follow each other.
THROTTLE_PAUSE = 0.002
MAX_THROTTLE_PAUSE = 0.064


class _Throttled(bytes):
    """An error reply for a request refused by a rate limit or a quota."""


async def websocket_handler(request: web.Request) -> web.StreamResponse:
    domain: Domain = request.app[DOMAIN]
    config = domain.config
    peer = request.transport.get_extra_info("peername") if request.transport else None
    address = client_address(
        peer[0] if isinstance(peer, tuple) else None,
        request.headers.get("X-Forwarded-For"),
        config.trusted_proxies,
    )
    refused = domain.limits.admit(address)
    if refused is not None:
        status = 503 if refused == "server full" else 429
        return web.json_response(
            {"error": {"code": "rate_limited", "message": refused}},
            status=status,
            headers={"Retry-After": "1"},
        )
    try:
        return await _connection(request, domain)
    finally:
        domain.limits.release(address)


async def _connection(request: web.Request, domain: Domain) -> web.StreamResponse:
    config = domain.config
    # aiohttp itself closes with 1009 far above our limit; between the two we answer too_large.
    # Compression off: sessions write pre-framed batches straight to the transport.
    ws = web.WebSocketResponse(
        max_msg_size=max(config.max_frame * 16, 1 << 20), heartbeat=30, compress=False
    )
    await ws.prepare(request)
    request.app[SOCKETS].add(ws)
    transport = request.transport
    if transport is None:
        return ws
    abuse = Abuse(config.abuse_limit)
    nonce = os.urandom(32)
    domain_id = domain.policy.domain.id
    await ws.send_bytes(encode_event("challenge", {"nonce": nonce, "domain": domain_id}))
    try:
        session = await asyncio.wait_for(
            handshake(domain, ws, transport, abuse, nonce, domain_id), config.hello_timeout
        )
    except TimeoutError:
        await ws.close(code=1008, message=b"no hello")
        return ws
    if session is None:
        return ws
    domain.sessions.add(session)
    record_presence(domain, "enter", session)
    joined = time.monotonic()
    _log_session("join", session, f"name={session.name!r} invisible={session.invisible}")
    pump = asyncio.create_task(session.pump())
    try:
        await _serve(domain, session, ws, abuse)
    finally:
        domain.sessions.remove(session)
        record_presence(domain, "exit", session)
        forget_credentials(session)
        refused = ", ".join(f"{code} {n}" for code, n in session.refused.most_common())
        _log_session(
            "leave",
            session,
            f"after {time.monotonic() - joined:.0f} s" + (f", refused: {refused}" * bool(refused)),
            refused=dict(session.refused),
        )
        if not session.closing:
            session.close(1000, "bye")
        try:
            await asyncio.wait_for(pump, 5)
        except (TimeoutError, asyncio.CancelledError):
            pump.cancel()
    return ws


def _log_session(event: str, session: Session, more: str, **fields: Any) -> None:
    role = session.grant.role.name
    log.info(
        "%s %s role=%s session=%s %s",
        event,
        session.token,
        role,
        session.id,
        more,
        extra={
            "event": event,
            "token": session.token,
            "role": role,
            "session": session.id,
            **fields,
        },
    )


async def _serve(
    domain: Domain, session: Session, ws: web.WebSocketResponse, abuse: Abuse
) -> None:
    # Requests received and not yet answered, bounded: a counter and a future to wait on
    # (an asyncio.Semaphore costs a coroutine and a generator per request).
    max_inflight, inflight = domain.config.max_inflight, 0
    room: asyncio.Future[None] | None = None
    loop = asyncio.get_running_loop()
    throttled = False

    def dispatch(request: Request) -> bytes | Committing:
        nonlocal throttled
        outcome = _dispatch(domain, session, request)
        if isinstance(outcome, _Throttled):
            throttled = True
        return outcome

    def send(reply: bytes) -> None:
        nonlocal inflight
        inflight -= 1
        if room is not None and not room.done():
            room.set_result(None)
        session.send(reply)

    metrics = domain.metrics

    def committed(
        request: Request, outcome: Committing, done: asyncio.Future[Any], started: float
    ) -> bytes:
        reply, result = _committed(request, outcome, done)
        metrics.answered(request.op, result, started)
        if result != "ok":
            session.refused[result] += 1
        return reply

    pipeline = Pipeline(dispatch, committed, send)
    handled = 0
    pause = THROTTLE_PAUSE
    # Frames a second: a token bucket of one second's worth; over it, the socket is read
    # later, so TCP pushes back on the sender.
    rate = domain.config.max_frames_per_second
    allowance, last = rate, time.monotonic()
    async for msg in ws:
        now = time.monotonic()
        allowance = min(rate, allowance + (now - last) * rate) - 1.0
        last = now
        if allowance < 0:
            await asyncio.sleep(-allowance / rate)
        item = read_frame(msg, domain.config.max_frame)
        if item is None:
            break
        if isinstance(item, DomainError):
            session.send(encode_error_event(item))
            if not abuse.spend():
                session.close(1008, "too many bad frames")
                break
            continue
        if session.closing:
            break
        while inflight >= max_inflight:
            room = loop.create_future()
            await room
            room = None
        inflight += 1
        op = OPS.get(item.op)
        pipeline.submit(item, op is not None and op.writes)
        handled += 1
        if throttled:
            # Over its rate or quota: read this socket more slowly, doubling the pause while the
            # refusals go on, so a flood costs the loop almost nothing and TCP pushes back
            # on the sender. One accepted request resets it.
            throttled = False
            await asyncio.sleep(pause)
            pause = min(pause * 2, MAX_THROTTLE_PAUSE)
            continue
        pause = THROTTLE_PAUSE
        if handled % FAIR_SHARE == 0:
            await asyncio.sleep(0)  # a busy socket never holds the loop for long
    # Let received work finish: its commits are already queued, and replies keep their order.
    await pipeline.idle()


def _fault(request: Request) -> bytes:
    """A server fault: logged under an id that the reply names, never blamed on the client."""
    fault_id = secrets.token_hex(6)
    log.exception("op %s failed (fault %s)", request.op, fault_id)
    return encode_error_reply(request.id, ServerFault.logged_as(fault_id))


def _dispatch(domain: Domain, session: Session, request: Request) -> bytes | Committing:
    """Run the op; returns the reply bytes, or the Committing of an op that changes state."""
    started = time.perf_counter()
    op = OPS.get(request.op)
    name = request.op if op is not None else "unknown"  # label values stay a fixed set
    try:
        if op is None:
            raise BadRequest(f"unknown op {request.op!r}")
        if op.cap is not None and not session.grant.has(op.cap):
            raise NotAllowed(f"{request.op} needs the {op.cap} capability")
        result = op.handler(domain, session, request)
    except (RateLimited, QuotaExceeded) as exc:
        session.refused[exc.code] += 1
        domain.metrics.answered(name, exc.code, started)
        return _Throttled(encode_error_reply(request.id, exc))
    except DomainError as exc:
        session.refused[exc.code] += 1
        domain.metrics.answered(name, exc.code, started)
        return encode_error_reply(request.id, exc)
    except Exception:
        domain.metrics.answered(name, ServerFault.code, started)
        return _fault(request)
    if isinstance(result, Committing):
        return result
    domain.metrics.answered(name, "ok", started)
    return encode_reply(request.id, result)


def _committed(
    request: Request, outcome: Committing, done: asyncio.Future[Any]
) -> tuple[bytes, str]:
    """The reply of an op whose change has committed (or failed to), and its result."""
    try:
        if done.cancelled():
            raise asyncio.CancelledError
        exc = done.exception()
        if exc is not None:
            raise exc
        result = outcome.then()
        if isinstance(result, PackedField):
            return encode_reply_packed(request.id, result.name, result.packed), "ok"
        return encode_reply(request.id, result), "ok"
    except DomainError as exc:
        return encode_error_reply(request.id, exc), exc.code
    except BaseException:  # the store failed it, or rendering did: the server's fault
        return _fault(request), ServerFault.code
