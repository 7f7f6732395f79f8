"""Form fields as the console's forms send them (text), turned into what the services take,
with the core's own checks (`entities.fields`) so a form and the API refuse alike."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from entities import fields
from entities.errors import BadRequest

__all__ = ["text", "token", "optional_token", "reason", "duration", "DURATIONS", "number", "span"]

DURATIONS = (
    ("3600", "1 hour"),
    ("86400", "1 day"),
    ("604800", "1 week"),
    ("2592000", "30 days"),
    ("", "permanent"),
)
"""The ban durations the forms offer, in seconds ("" is permanent)."""


def text(form: Mapping[str, Any], name: str) -> str:
    value = form.get(name, "")
    if not isinstance(value, str):
        raise BadRequest(f"{name} must be text")
    return value.strip()


def token(form: Mapping[str, Any], name: str) -> str:
    return fields.token(text(form, name), name)


def optional_token(form: Mapping[str, Any], name: str) -> str | None:
    value = text(form, name)
    return fields.token(value, name) if value else None


def reason(form: Mapping[str, Any], required: bool) -> str:
    value = text(form, "reason")
    return fields.reason(value if value or required else None, required=required)


def number(raw: str, name: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise BadRequest(f"{name} must be a number") from None
    return value


def duration(form: Mapping[str, Any]) -> float | None:
    """Seconds, or None for a permanent ban."""
    raw = text(form, "duration")
    return None if raw == "" else fields.lifetime(number(raw, "duration"))


def span(seconds: float) -> str:
    """A duration as a person says it: 1 hour, 2 days, 90 seconds."""
    for unit, size in (("week", 604800), ("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size and seconds % size == 0:
            n = int(seconds // size)
            return f"{n} {unit}{'s' * (n != 1)}"
    return f"{seconds:g} seconds"
