"""The Health panel: connected viewers, requests a second, refusals by code and commit
latency over the last minutes, as small inline SVG charts that redraw live."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from ..appkeys import DOMAIN
from .guard import require
from .render import render_fragment, render_page
from .state import HISTORY

__all__ = ["health_page", "health_live", "chart", "WIDTH", "HEIGHT"]

WIDTH, HEIGHT = 300, 80


def chart(values: list[float], title: str, unit: str) -> dict[str, Any]:
    """A line chart's points in a WIDTHxHEIGHT box, its scale and its last value."""
    top = max(values, default=0.0) or 1.0
    n = len(values)
    step = WIDTH / max(n - 1, 1)
    points = " ".join(f"{i * step:.1f},{HEIGHT - (v / top) * (HEIGHT - 4) - 2:.1f}"
                      for i, v in enumerate(values))  # fmt: skip
    last = values[-1] if values else 0.0
    return {"title": title, "unit": unit, "points": points, "top": top, "last": last,
            "count": n, "width": WIDTH, "height": HEIGHT}  # fmt: skip


def _charts(request: web.Request) -> dict[str, Any]:
    series = request.app[HISTORY].series(request.app[DOMAIN])
    return {
        "charts": [
            chart([float(v) for v in series["viewers"]], "Connected viewers", "viewers"),
            chart(series["rps"], "Requests a second", "req/s"),
            chart(series["refusals"], "Refusals a second", "refusals/s"),
            chart(series["commit_ms"], "Commit latency (mean)", "ms"),
        ],
        "by_code": series["by_code"],
        "window": series["window"],
    }


async def health_page(request: web.Request) -> web.Response:
    require(request, "metrics:read")
    return await render_page(request, "health.html", _charts(request), panel="health")


def health_live(request: web.Request) -> str:
    return render_fragment(request, "_charts.html", _charts(request))
