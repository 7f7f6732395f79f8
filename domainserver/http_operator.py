"""The operator HTTP API under `/api/v1/operator/`, and its OpenAPI document.

Each route needs one API-key scope; the handlers live in `http_operator_world` (entities,
avatars), `http_operator_bans` and `http_operator_log`. `docs/OPERATOR_API.md` describes
them for operators; `openapi.yaml` (served at `/api/v1/openapi.yaml`) is the exact contract.
"""

from __future__ import annotations

from importlib import resources

from aiohttp import web

from .http_operator_bans import add_ban, get_ban, lift_ban, list_bans
from .http_operator_log import log_page, log_verify
from .http_operator_world import find_entities, kick_avatar, locate_avatars, remove_entities

__all__ = ["add_operator_routes", "openapi_document"]

OPERATOR = "/api/v1/operator"


def openapi_document() -> bytes:
    """The OpenAPI 3.1 document of every HTTP route, as shipped in the package."""
    return resources.files("domainserver").joinpath("openapi.yaml").read_bytes()


def add_operator_routes(app: web.Application, prefix: str = "") -> None:
    """Register the operator API and `GET /api/v1/openapi.yaml` (no auth) under `prefix`."""
    spec = openapi_document()

    async def openapi_yaml(request: web.Request) -> web.Response:
        return web.Response(body=spec, content_type="application/yaml", charset="utf-8")

    base = prefix + OPERATOR
    router = app.router
    router.add_get(prefix + "/api/v1/openapi.yaml", openapi_yaml)
    router.add_get(base + "/entities", find_entities)
    router.add_post(base + "/entities/remove", remove_entities)
    router.add_get(base + "/avatars", locate_avatars)
    router.add_post(base + "/avatars/kick", kick_avatar)
    router.add_get(base + "/bans", list_bans)
    router.add_post(base + "/bans", add_ban)
    router.add_get(base + "/bans/{token}", get_ban)
    router.add_delete(base + "/bans/{token}", lift_ban)
    router.add_get(base + "/log", log_page)
    router.add_get(base + "/log/verify", log_verify)
