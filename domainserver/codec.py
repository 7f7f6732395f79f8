"""The wire codec (contract §2), sans I/O: bytes in, typed requests out, and back.

The WebSocket handler only moves bytes; everything about what a frame means is here and
is tested without a socket.
"""

from __future__ import annotations

from typing import Any

import attrs
import msgpack

from entities.errors import BadFrame, BadRequest, DomainError, TooLarge

__all__ = [
    "Request",
    "decode_request",
    "encode_reply",
    "encode_error_reply",
    "encode_event",
    "encode_error_event",
    "DEFAULT_MAX_FRAME",
]

DEFAULT_MAX_FRAME = 64 * 1024
_packb = msgpack.Packer(use_bin_type=True, datetime=False).pack


@attrs.frozen
class Request:
    """One request: its op, its id, and every other key of the map as arguments."""

    op: str
    id: int
    args: dict[str, Any]

    def arg(self, name: str, default: Any = None) -> Any:
        return self.args.get(name, default)


def decode_request(data: bytes, max_size: int = DEFAULT_MAX_FRAME) -> Request:
    """Decode one binary frame; raises TooLarge, BadFrame or BadRequest (none get a reply)."""
    if len(data) > max_size:
        raise TooLarge(f"frame of {len(data)} bytes is over the {max_size}-byte limit")
    try:
        message = msgpack.unpackb(data, raw=False, strict_map_key=False)
    except Exception as exc:  # msgpack raises many types for bad input
        raise BadFrame(f"not a msgpack map: {type(exc).__name__}") from None
    if not isinstance(message, dict):
        raise BadFrame("not a msgpack map")
    op, rid = message.get("op"), message.get("id")
    if not isinstance(op, str) or not isinstance(rid, int) or isinstance(rid, bool):
        raise BadRequest("a request needs a str op and an integer id")
    args = {k: v for k, v in message.items() if k not in ("op", "id")}
    return Request(op=op, id=rid, args=args)


def encode_reply(request_id: int, fields: dict[str, Any] | None = None) -> bytes:
    reply: dict[str, Any] = {"re": request_id, "ok": True}
    if fields:
        reply.update(fields)
    return _packb(reply)


def encode_error_reply(request_id: int, error: DomainError) -> bytes:
    return _packb({"re": request_id, "ok": False, "error": error.to_wire()})


def encode_event(ev: str, fields: dict[str, Any]) -> bytes:
    event = {"ev": ev}
    event.update(fields)
    return _packb(event)


def encode_error_event(error: DomainError) -> bytes:
    return _packb({"ev": "error", "error": error.to_wire()})
