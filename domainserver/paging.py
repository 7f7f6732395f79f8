"""Paging shared by every list the server returns over the WebSocket and HTTP: the `limit`
argument and opaque cursors (msgpack of the last key, base64url)."""

from __future__ import annotations

import base64
from typing import Any

import msgpack

from entities.errors import BadRequest

__all__ = ["DEFAULT_LIMIT", "MAX_LIMIT", "page_limit", "encode_cursor", "decode_cursor"]

DEFAULT_LIMIT, MAX_LIMIT = 100, 1000


def page_limit(value: Any) -> int:
    """A list op's `limit`: 100 when absent, at most 1000; anything but a positive int is
    `bad_request`."""
    if value is None:
        return DEFAULT_LIMIT
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise BadRequest("limit must be a positive integer")
    return min(value, MAX_LIMIT)


def encode_cursor(parts: list[Any]) -> str:
    """An opaque cursor holding `parts` (the sort key of the last item returned)."""
    return base64.urlsafe_b64encode(msgpack.packb(parts)).decode().rstrip("=")


def decode_cursor(cursor: Any, shape: tuple[type, ...]) -> list[Any] | None:
    """Decode an opaque cursor made by `encode_cursor`; None for no cursor."""
    if cursor is None:
        return None
    try:
        if not isinstance(cursor, str):
            raise ValueError
        parts = msgpack.unpackb(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(parts, list) or len(parts) != len(shape):
            raise ValueError
        if not all(isinstance(p, t) for p, t in zip(parts, shape, strict=True)):
            raise ValueError
        return parts
    except Exception:
        raise BadRequest("cursor is not one this server made") from None
