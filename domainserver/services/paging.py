"""Paging shared by every list the server returns over the WebSocket and HTTP: the `limit`
argument and opaque cursors (msgpack of the last key, base64url)."""

from __future__ import annotations

import base64
from typing import Any

import attrs
import msgpack

from entities.errors import BadRequest

__all__ = [
    "PageLimits",
    "LISTS",
    "LOOK",
    "BLACKLIST",
    "page_limit",
    "encode_cursor",
    "decode_cursor",
]


@attrs.frozen
class PageLimits:
    """How many items a page holds when the caller does not say, and at most."""

    default: int
    maximum: int


LISTS = PageLimits(100, 1000)
"""Every list: find, look, the operator's bans and room log (contract §2.4 for find)."""
LOOK = PageLimits(100, 200)
"""`look`: a viewer's frequent question, so a page is small enough never to hold the loop."""
BLACKLIST = PageLimits(1000, 10_000)
"""The blacklist API for domain scripts (contract §3.2)."""


def page_limit(value: Any, limits: PageLimits = LISTS) -> int:
    """A WebSocket list op's `limit`: the default when absent, clamped to the maximum;
    anything but a positive int is `bad_request`."""
    if value is None:
        return limits.default
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise BadRequest("limit must be a positive integer")
    return min(value, limits.maximum)


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
