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
    "encode_reply_packed",
    "PackedField",
    "encode_event_packed",
    "pack",
    "encode_error_reply",
    "encode_event",
    "encode_error_event",
    "DEFAULT_MAX_FRAME",
]

DEFAULT_MAX_FRAME = 64 * 1024
_packb = msgpack.Packer(use_bin_type=True, datetime=False).pack


def pack(value: Any) -> bytes:
    """msgpack exactly as every frame of this server is encoded."""
    return _packb(value)


@attrs.frozen
class Request:
    """One request: its op, its id, and its map, whose other keys are the arguments."""

    op: str
    id: int
    args: dict[str, Any]  # the whole decoded map (not copied: op and id are in it too)

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
    return Request(op=op, id=rid, args=message)


def encode_reply(request_id: int, fields: dict[str, Any] | None = None) -> bytes:
    reply: dict[str, Any] = {"re": request_id, "ok": True}
    if fields:
        reply.update(fields)
    return _packb(reply)


@attrs.frozen
class PackedField:
    """A reply of one field, `name`, already encoded (`packed`); `value` is the same, decoded."""

    name: str
    value: Any
    packed: bytes

    @classmethod
    def of(cls, name: str, value: Any) -> PackedField:
        return cls(name, value, _packb(value))

    def as_dict(self) -> dict[str, Any]:
        return {self.name: self.value}


def encode_reply_packed(request_id: int, name: str, packed: bytes) -> bytes:
    """A reply with one field whose value is already msgpack (`packed`), spliced in as is."""
    return b"\x83\xa2re" + _packb(request_id) + b"\xa2ok\xc3" + _packb(name) + packed


def encode_event_packed(ev: str, name: str, packed: bytes) -> bytes:
    """An event with one field whose value is already msgpack, spliced in as is.

    Lets a changed entity be encoded once for the broadcast and the reply alike.
    """
    return b"\x82\xa2ev" + _packb(ev) + _packb(name) + packed


def encode_error_reply(request_id: int, error: DomainError) -> bytes:
    return _packb({"re": request_id, "ok": False, "error": error.to_wire()})


def encode_event(ev: str, fields: dict[str, Any]) -> bytes:
    event = {"ev": ev}
    event.update(fields)
    return _packb(event)


def encode_error_event(error: DomainError) -> bytes:
    return _packb({"ev": "error", "error": error.to_wire()})
