"""`GET /api/v1/banfeed[?since=SERIAL]` (contract §7): this domain's bans, signed over the exact
body, to anyone; `If-None-Match` with the current ETag answers 304 with no body."""

from __future__ import annotations

from aiohttp import web

from entities.errors import BadRequest
from permissions.feeddoc import SIGNATURE_HEADER

from ..appkeys import DOMAIN
from ..services.banfeed import publish
from .params import query_args

__all__ = ["banfeed"]

_MAX_SERIAL = 2**63 - 1


def _since(query: dict[str, str]) -> int | None:
    text = query.get("since")
    if text is None:
        return None
    # isascii: str.isdigit admits characters such as "²" that int() refuses (a 500).
    if not (text.isascii() and text.isdigit()) or int(text) > _MAX_SERIAL:
        raise BadRequest("since must be a serial: a whole number, 0 or more")
    return int(text)


async def banfeed(request: web.Request) -> web.Response:
    since = _since(dict(query_args(request, frozenset({"since"}))))
    doc = await publish(request.app[DOMAIN], since, request.headers.get("If-None-Match"))
    headers = {"ETag": doc.etag, "Cache-Control": "no-cache"}
    if doc.body is None:
        return web.Response(status=304, headers=headers)
    assert doc.signature is not None
    headers[SIGNATURE_HEADER] = doc.signature
    return web.Response(body=doc.body, content_type="application/json", headers=headers)
