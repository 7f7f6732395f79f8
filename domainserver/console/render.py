"""Pages from the package's Jinja2 templates (autoescaped), with the navigation a key's
scopes allow: a panel the key cannot use is not shown, and its routes refuse it (403)."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from typing import Any

import aiohttp_jinja2
import attrs
import jinja2
from aiohttp import web

from entities.errors import NotAuthenticated

from .guard import operator
from .state import CONSOLE_STATE, Operator

__all__ = ["PANELS", "Panel", "JINJA", "setup_templates", "render_page", "render_fragment",
           "visible_panels", "flash"]  # fmt: skip

JINJA: web.AppKey[jinja2.Environment] = web.AppKey("domainserver.console.jinja")


@attrs.frozen
class Panel:
    slug: str
    title: str
    scope: str
    summary: str


PANELS = (
    Panel("now", "Now", "avatars:read", "who is here, invisible avatars included; kick, ban"),
    Panel("world", "World", "entities:read", "find entities, counts per owner, mass-remove"),
    Panel("bans", "Bans", "bans:read", "search, add and lift bans; their sources"),
    Panel("reports", "Reports", "reports:read", "the report queue with its evidence"),
    Panel("log", "Room log", "log:read", "filter, live tail, verification"),
    Panel("policy", "Policy", "policy:read", "the permissions file, reloads"),
    Panel("health", "Health", "metrics:read", "viewers, requests, refusals, commits"),
)


def visible_panels(who: Operator) -> list[Panel]:
    """The panels this operator's key may open."""
    return [p for p in PANELS if who.may(p.scope)]


def when(value: Any) -> str:
    """Unix seconds as UTC text (the room log's clock); a dash for none."""
    if value is None:
        return "—"
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(float(value)))


def short(token: Any) -> str:
    """A token's first 8 characters, enough to tell people apart on a screen."""
    return "—" if token is None else str(token)[:8] + "…"


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str, ensure_ascii=False)


def setup_templates(app: web.Application) -> None:
    aiohttp_jinja2.setup(
        app,
        app_key=JINJA,
        loader=jinja2.PackageLoader("domainserver.console", "templates"),
        autoescape=True,
        default_helpers=False,
        filters={"when": when, "short": short, "tojson_text": _json},
    )


def flash(request: web.Request, message: str) -> None:
    """Show `message` once on the operator's next page."""
    request.app[CONSOLE_STATE].sessions.flash(operator(request).sid, message)


async def render_page(
    request: web.Request, template: str, context: Mapping[str, Any], status: int = 200,
    panel: str | None = None,
) -> web.Response:
    """A whole page: the template in the console's frame with its navigation."""
    state = request.app[CONSOLE_STATE]
    try:
        who: Operator | None = operator(request)
    except NotAuthenticated:
        who = None
    base = {
        "prefix": state.prefix + "/console",
        "who": who,
        "csrf": who.csrf if who else "",
        "panels": visible_panels(who) if who else [],
        "current": panel,
        "messages": state.sessions.take_flash(who.sid) if who else [],
        "title": next((p.title for p in PANELS if p.slug == panel), "Console"),
    }
    response = aiohttp_jinja2.render_template(template, request, {**base, **context},
                                              app_key=JINJA, status=status)  # fmt: skip
    return response


def render_fragment(request: web.Request, template: str, context: Mapping[str, Any]) -> str:
    """A template's text alone (a live region's new content)."""
    state = request.app[CONSOLE_STATE]
    who = operator(request)
    env = request.app[JINJA]
    base = {"prefix": state.prefix + "/console", "who": who, "csrf": who.csrf}
    return env.get_template(template).render({**base, **context})
