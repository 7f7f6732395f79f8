"""Request parameters shared by the HTTP APIs: strict JSON bodies and query strings, limits,
tokens and cursors, and JSON replies that survive binary entity props."""

from __future__ import annotations

import base64
import json
import math
from collections.abc import Mapping
from typing import Any

from aiohttp import web

from entities import fields
from entities.errors import BadRequest, TooLarge
from entities.tokens import is_token

from ..services.paging import PageLimits

__all__ = [
    "MAX_BODY",
    "read_body",
    "query_args",
    "query_limit",
    "query_token_cursor",
    "path_token",
    "json_reply",
]

MAX_BODY = 64 * 1024
"""Largest request body accepted, in bytes (a remove by id list of ~3000 ids fits)."""


def _no_constants(name: str) -> Any:
    raise BadRequest(f"body is not valid JSON: {name} is not a JSON number")


async def read_body(
    request: web.Request, required: frozenset[str], optional: frozenset[str] = frozenset()
) -> dict[str, Any]:
    """The request's JSON object, with every `required` field and nothing outside
    `required | optional`, and no query string (strict, as every query is); 400 for
    anything else, 413 over MAX_BODY bytes."""
    query_args(request, frozenset())
    if request.content_type != "application/json":
        raise BadRequest("send a JSON object with Content-Type: application/json")
    if request.content_length is not None and request.content_length > MAX_BODY:
        raise TooLarge(f"body over {MAX_BODY} bytes")
    data = bytearray()
    while len(data) <= MAX_BODY:
        chunk = await request.content.read(MAX_BODY + 1 - len(data))
        if not chunk:
            break
        data += chunk
    if len(data) > MAX_BODY:
        raise TooLarge(f"body over {MAX_BODY} bytes")
    try:
        body = json.loads(bytes(data).decode("utf-8"), parse_constant=_no_constants)
    except UnicodeDecodeError:
        raise BadRequest("body is not UTF-8") from None
    except json.JSONDecodeError as exc:
        raise BadRequest(f"body is not valid JSON: {exc}") from None
    if not isinstance(body, dict):
        raise BadRequest("body must be a JSON object")
    unknown = sorted(set(body) - required - optional)
    if unknown:
        raise BadRequest(f"unknown field(s): {', '.join(unknown)}")
    missing = sorted(required - set(body))
    if missing:
        raise BadRequest(f"missing field(s): {', '.join(missing)}")
    return body


def query_args(request: web.Request, allowed: frozenset[str]) -> Mapping[str, str]:
    """The query string as a plain mapping; 400 for an unknown or repeated parameter."""
    query = request.query
    unknown = sorted(set(query) - allowed)
    if unknown:
        raise BadRequest(f"unknown query parameter(s): {', '.join(unknown)}")
    for name in query:
        if len(query.getall(name)) > 1:
            raise BadRequest(f"give {name} at most once")
    return dict(query)


def query_limit(query: Mapping[str, str], limits: PageLimits) -> int:
    """The `limit` parameter: the default when absent, else an integer from 1 to the
    maximum (over it is a 400, not clamped: a script should learn its page is smaller)."""
    raw = query.get("limit")
    maximum = limits.maximum
    if raw is None:
        return limits.default
    # isascii: str.isdigit admits characters such as "²" that int() refuses.
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= maximum:
        raise BadRequest(f"limit must be an integer from 1 to {maximum}")
    return int(raw)


def path_token(request: web.Request) -> str:
    """The `{token}` of the path; 400 unless it has a token's shape."""
    return fields.token(request.match_info["token"], "token")


def query_token_cursor(query: Mapping[str, str]) -> str | None:
    """A cursor that is the last token of the previous page: stable under concurrent changes."""
    cursor = query.get("cursor")
    if cursor is None or cursor == "":
        return None
    if not is_token(cursor):
        raise BadRequest("cursor must be the `next` value of a previous page")
    return cursor


# Deeper than this, stored data (from before props were bounded) is shown as a marker: an
# operator's query never fails because of what a client stored.
MAX_JSON_DEPTH = 64
TOO_DEEP = "(nested too deep to show)"


def _plain(value: Any, depth: int = 0) -> Any:
    """`value` with what JSON cannot hold made into text: bytes as base64, map keys as
    strings, non-finite floats as "nan"/"inf"/"-inf", nesting past MAX_JSON_DEPTH cut."""
    if isinstance(value, dict | list | tuple) and depth >= MAX_JSON_DEPTH:
        return TOO_DEEP
    if isinstance(value, dict):
        return {_key(k): _plain(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v, depth + 1) for v in value]
    if isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return value


def _key(key: Any) -> str:
    if isinstance(key, str):
        return key
    if isinstance(key, bytes | bytearray | memoryview):
        return base64.b64encode(bytes(key)).decode("ascii")
    return json.dumps(_plain(key))


def _dumps(data: Any) -> str:
    # Entity props and log bodies are msgpack maps and may hold what JSON cannot: the fast
    # path fails on those, and only then is the whole reply converted.
    try:
        return json.dumps(data, allow_nan=False)
    except (TypeError, ValueError, RecursionError):
        return json.dumps(_plain(data), allow_nan=False)


def json_reply(data: Mapping[str, Any], status: int = 200) -> web.Response:
    """A JSON response; bytes inside become base64 strings (see `_plain`)."""
    return web.json_response(dict(data), status=status, dumps=_dumps)
