"""Every HTTP route the server offers, registered in one place, and its OpenAPI document.

`docs/OPERATOR_API.md` describes the operator API for operators; `openapi.yaml` (served at
`/api/v1/openapi.yaml`) is the exact contract of every route.
"""

from __future__ import annotations

from importlib import resources

from aiohttp import web

from .banfeed import banfeed
from .bans import add_ban, get_ban, lift_ban, list_bans
from .blacklist import blacklist_page, blacklist_token
from .domain import domain_identity
from .errors import error_middleware
from .feeds import list_feeds, token_sources
from .health import healthz
from .log import log_page, log_verify
from .metrics import metrics
from .reports import get_report, list_reports, report_bundle, resolve_report
from .world import find_entities, kick_avatar, locate_avatars, remove_entities

__all__ = ["add_http_routes", "openapi_document", "OPERATOR"]

OPERATOR = "/api/v1/operator"


def openapi_document() -> bytes:
    """The OpenAPI 3.1 document of every HTTP route, as shipped in the package."""
    return resources.files(__package__ or "domainserver.http").joinpath("openapi.yaml").read_bytes()


def add_http_routes(app: web.Application, prefix: str = "") -> None:
    """Register `/healthz`, the blacklist API, the operator API and `/api/v1/openapi.yaml`
    under `prefix`, with the error middleware that renders their refusals."""
    spec = openapi_document()

    async def openapi_yaml(request: web.Request) -> web.Response:
        return web.Response(body=spec, content_type="application/yaml", charset="utf-8")

    if error_middleware not in app.middlewares:
        app.middlewares.append(error_middleware)
    router = app.router
    router.add_get(prefix + "/healthz", healthz)
    router.add_get(prefix + "/metrics", metrics)
    router.add_get(prefix + "/api/v1/blacklist", blacklist_page)
    router.add_get(prefix + "/api/v1/blacklist/{token}", blacklist_token)
    router.add_get(prefix + "/api/v1/banfeed", banfeed)
    router.add_get(prefix + "/api/v1/openapi.yaml", openapi_yaml)
    router.add_get(prefix + "/api/v1/domain", domain_identity)
    base = prefix + OPERATOR
    router.add_get(base + "/entities", find_entities)
    router.add_post(base + "/entities/remove", remove_entities)
    router.add_get(base + "/avatars", locate_avatars)
    router.add_post(base + "/avatars/kick", kick_avatar)
    router.add_get(base + "/bans", list_bans)
    router.add_post(base + "/bans", add_ban)
    router.add_get(base + "/bans/{token}", get_ban)
    router.add_delete(base + "/bans/{token}", lift_ban)
    router.add_get(base + "/bans/{token}/sources", token_sources)
    router.add_get(base + "/feeds", list_feeds)
    router.add_get(base + "/log", log_page)
    router.add_get(base + "/log/verify", log_verify)
    router.add_get(base + "/reports", list_reports)
    router.add_get(base + "/reports/{id}", get_report)
    router.add_get(base + "/reports/{id}/bundle", report_bundle)
    router.add_post(base + "/reports/{id}/resolve", resolve_report)
