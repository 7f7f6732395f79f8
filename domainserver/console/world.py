"""The World panel: find entities by owner, creator, area and invisibility, see who owns how
much, select and mass-remove, after a confirmation that says how many will go."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from entities.errors import BadRequest

from ..appkeys import DOMAIN
from ..services import moderation
from ..services.commits import settle
from ..services.moderation import FindQuery
from . import fields
from .guard import form, redirect, require
from .render import flash, render_page
from .state import CONSOLE_STATE

__all__ = ["world_page", "remove", "PAGE", "TOP_OWNERS"]

PAGE = 100
TOP_OWNERS = 20
MAX_IDS = 1000
"""Entities one selection may remove (a page is 100; the rest goes by owner or creator)."""


def _criteria(query: Any) -> tuple[dict[str, str], FindQuery]:
    """The search form's fields as given, and the query they make."""
    given = {k: fields.text(query, k) for k in ("owner", "creator", "area", "invisible")}
    args: dict[str, Any] = {}
    for name in ("owner", "creator"):
        if given[name]:
            args[name] = given[name]
    if given["area"]:
        parts = given["area"].replace(" ", "").split(",")
        if len(parts) != 4:
            raise BadRequest("area must be x,y,z,radius (four numbers)")
        x, y, z, r = (fields.number(p, "area") for p in parts)
        args["area"] = {"center": [x, y, z], "radius": r}
    if given["invisible"] in ("true", "false"):
        args["invisible"] = given["invisible"] == "true"
    return given, FindQuery.from_args(args)


async def world_page(request: web.Request) -> web.Response:
    who = require(request, "entities:read")
    domain = request.app[DOMAIN]
    given, query = _criteria(request.query)
    after = fields.text(request.query, "after") or None
    page, last = moderation.find(domain, query, PAGE, after)
    searched = any(given.values()) or after is not None
    counts = moderation.owner_counts(domain, TOP_OWNERS)
    more = {**{k: v for k, v in given.items() if v}, "after": last} if last else None
    return await render_page(request, "world.html", {
        "given": given,
        "searched": searched,
        "entities": [e.to_wire() for e in page],
        "next": None if more is None else "?" + urlencode(more),
        "counts": counts,
        "total": len(domain.world),
        "owner_total": domain.world.count_owned(query.owner) if query.owner else None,
        "creator_total": len(domain.world.created_by(query.creator)) if query.creator else None,
        "may_remove": who.may("entities:write"),
        "back": "?" + urlencode({k: v for k, v in given.items() if v}) if searched else "",
    }, panel="world")  # fmt: skip


def _target(data: Any, domain: Any) -> tuple[dict[str, Any], int, str]:
    """(what to remove as moderation.remove takes it, how many that is now, in words)."""
    ids = [i for i in data.getall("id", []) if isinstance(i, str) and i]
    owner = fields.optional_token(data, "owner")
    creator = fields.optional_token(data, "creator")
    if sum(map(bool, (ids, owner, creator))) != 1:
        raise BadRequest("select entities, or remove all of one owner or of one creator")
    if ids:
        if len(ids) > MAX_IDS:
            raise BadRequest(f"select at most {MAX_IDS} entities at once")
        ids = list(dict.fromkeys(ids))
        return {"ids": ids}, sum(i in domain.world for i in ids), "the selected entities"
    if owner:
        return {"owner": owner}, domain.world.count_owned(owner), f"everything owner {owner} owns"
    assert creator is not None
    return ({"creator": creator}, len(domain.world.created_by(creator)),
            f"everything creator {creator} made")  # fmt: skip


async def remove(request: web.Request) -> web.Response:
    """POST: without `confirmed`, a page saying how many would go; with it, remove them."""
    who, data = await form(request, "entities:write")
    domain = request.app[DOMAIN]
    target, count, what = _target(data, domain)
    reason = fields.reason(data, required=False)
    back = fields.text(data, "back")
    back = back if back.startswith("?") or back == "" else ""
    if fields.text(data, "confirmed") != "yes":
        return await render_page(request, "confirm.html", {
            "target": target, "count": count, "what": what, "reason": reason, "back": back,
        }, panel="world")  # fmt: skip
    reply = await settle(moderation.remove(domain, who.actor, reason=reason, rank=None, **target))
    n = reply["removed"]
    flash(request, f"Removed {n} entit{'y' if n == 1 else 'ies'} ({what}).")
    return redirect(f"{request.app[CONSOLE_STATE].prefix}/console/world{back}")
