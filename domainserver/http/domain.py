"""`GET /api/v1/domain` (contract §3.3): the domain's id and public key, to anyone, so that
its signatures (room-log checkpoints, evidence bundles) can be checked elsewhere."""

from __future__ import annotations

from aiohttp import web

from ..appkeys import DOMAIN
from ..services.evidence import identity
from .params import json_reply, query_args

__all__ = ["domain_identity"]


async def domain_identity(request: web.Request) -> web.Response:
    query_args(request, frozenset())
    return json_reply(identity(request.app[DOMAIN]))
