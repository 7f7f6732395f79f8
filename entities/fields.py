"""Checks for the values a client sends inside entity maps; each refusal names the field."""

from __future__ import annotations

from typing import Any

import msgpack

from .errors import BadRequest
from .model import Vec3, is_finite_number
from .tokens import TOKEN_SHAPE, is_token

__all__ = [
    "vec3",
    "positive_vec3",
    "lifetime",
    "radius",
    "text",
    "optional_text",
    "boolean",
    "token",
    "entity_id",
    "reason",
    "MAX_REASON_LEN",
    "props",
    "MAX_PROPS_DEPTH",
    "MAX_PROPS_ITEMS",
    "MAX_PROPS_BYTES",
    "MAX_TYPE_LEN",
    "MAX_SCRIPT_LEN",
]

MAX_TYPE_LEN = 64
MAX_REASON_LEN = 1000
# An entity's props: what a viewer shows, not a database. Bounded so that nothing stored can
# make the server or an operator's tooling choke on it (docs/RELIABILITY.md).
MAX_PROPS_DEPTH = 8
MAX_PROPS_ITEMS = 512
MAX_PROPS_BYTES = 16 * 1024
MAX_SCRIPT_LEN = 2048
# Worlds are large but finite; coordinates beyond this are a typo or an attack on the grid.
MAX_COORD = 1e7


_PLAIN_NUMBERS = (float, int)  # exact types: bool is an int subclass and is refused


def vec3(value: Any, name: str) -> Vec3:
    # Fast path for the common case (three plain numbers); NaN fails the comparisons.
    if type(value) is list and len(value) == 3:
        x, y, z = value
        if (
            type(x) in _PLAIN_NUMBERS
            and type(y) in _PLAIN_NUMBERS
            and type(z) in _PLAIN_NUMBERS
            and -MAX_COORD <= x <= MAX_COORD
            and -MAX_COORD <= y <= MAX_COORD
            and -MAX_COORD <= z <= MAX_COORD
        ):
            return (float(x), float(y), float(z))
    if (
        not isinstance(value, list | tuple)
        or len(value) != 3
        or not all(is_finite_number(v) and abs(v) <= MAX_COORD for v in value)
    ):
        raise BadRequest(f"{name} must be [x, y, z] of finite numbers")
    return (float(value[0]), float(value[1]), float(value[2]))


def positive_vec3(value: Any, name: str) -> Vec3:
    v = vec3(value, name)
    if min(v) <= 0:
        raise BadRequest(f"{name} must be positive in every axis")
    return v


def lifetime(value: Any) -> float | None:
    if value is None:
        return None
    if not is_finite_number(value) or value <= 0:
        raise BadRequest("lifetime must be a positive number of seconds or null")
    return float(value)


def radius(value: Any, name: str = "radius") -> float:
    if not is_finite_number(value) or value < 0 or value > MAX_COORD:
        raise BadRequest(f"{name} must be a non-negative number")
    return float(value)


def text(value: Any, name: str, max_len: int) -> str:
    if not isinstance(value, str) or not value or len(value) > max_len:
        raise BadRequest(f"{name} must be a non-empty string of at most {max_len} characters")
    return value


def optional_text(value: Any, name: str, max_len: int) -> str | None:
    return None if value is None else text(value, name, max_len)


def boolean(value: Any, name: str) -> bool:
    if not isinstance(value, bool):
        raise BadRequest(f"{name} must be true or false")
    return value


def token(value: Any, name: str) -> str:
    """An owner token's shape (it may still be unknown); the one check every caller uses."""
    if not is_token(value):
        raise BadRequest(f"{name} must be an owner token ({TOKEN_SHAPE})")
    return value


def entity_id(value: Any, name: str = "entity") -> str:
    if not isinstance(value, str) or not value:
        raise BadRequest(f"{name} must be an entity id")
    return value


def reason(value: Any, required: bool) -> str:
    """An operator's reason, recorded in the room log and shown to whom it concerns.

    A ban needs one; a kick or a removal may go without (then it is "")."""
    if value is None and not required:
        return ""
    too_long = not isinstance(value, str) or len(value) > MAX_REASON_LEN
    if too_long or (required and not value.strip()):
        need = "a non-empty string" if required else "a string"
        raise BadRequest(f"reason must be {need} of at most {MAX_REASON_LEN} characters")
    return value


def props(value: Any) -> dict[Any, Any]:
    """An entity's props: a map at most MAX_PROPS_DEPTH deep (the map itself is depth 1),
    with at most MAX_PROPS_ITEMS keys and elements in all, MAX_PROPS_BYTES encoded."""
    if not isinstance(value, dict):
        raise BadRequest("props must be a map")
    items = 0
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:  # iterative: a hostile nesting never reaches Python's recursion limit
        node, depth = stack.pop()
        if depth > MAX_PROPS_DEPTH:
            raise BadRequest(f"props may nest at most {MAX_PROPS_DEPTH} deep")
        children = node.values() if isinstance(node, dict) else node
        items += len(node)
        if items > MAX_PROPS_ITEMS:
            raise BadRequest(f"props may hold at most {MAX_PROPS_ITEMS} keys and elements")
        stack.extend((c, depth + 1) for c in children if isinstance(c, dict | list))
    size = len(msgpack.packb(value, use_bin_type=True))
    if size > MAX_PROPS_BYTES:
        raise BadRequest(f"props are {size} bytes encoded; at most {MAX_PROPS_BYTES}")
    return value
