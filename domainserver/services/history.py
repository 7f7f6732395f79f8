"""The last minutes of the figures `/metrics` exposes, sampled in the server: connected
viewers, requests a second, refusals by code, commit latency. An operator's screen can then
draw them without a Prometheus of its own."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable
from typing import Any

import attrs

from .domain import Domain

__all__ = ["Sample", "History", "sample", "run_history"]

log = logging.getLogger(__name__)


@attrs.frozen
class Sample:
    """Cumulative figures at one moment (counters since the server started)."""

    at: float
    sessions: int
    requests: float
    refusals: dict[str, float]
    commit_sum: float
    commit_count: float


def sample(domain: Domain, at: float) -> Sample:
    """The figures now, read from the domain's metrics registry."""
    requests, refusals = 0.0, dict[str, float]()
    for metric in domain.metrics.requests.collect():
        for s in metric.samples:
            if s.name.endswith("_total"):
                requests += s.value
                result = s.labels.get("result", "ok")
                if result != "ok":
                    refusals[result] = refusals.get(result, 0.0) + s.value
    for reason, n in domain.limits.refused.items():
        refusals[f"connection:{reason}"] = float(n)
    commit_sum = commit_count = 0.0
    for metric in domain.metrics.commit_seconds.collect():
        for s in metric.samples:
            if s.name.endswith("_sum"):
                commit_sum = s.value
            elif s.name.endswith("_count"):
                commit_count = s.value
    return Sample(at, len(domain.sessions), requests, refusals, commit_sum, commit_count)


class History:
    """Samples every `interval` seconds over the last `span` seconds, and the series a chart
    draws from them (a rate or a mean per interval)."""

    def __init__(self, interval: float = 5.0, span: float = 600.0,
                 clock: Callable[[], float] = time.time) -> None:  # fmt: skip
        self.interval = interval
        self.clock = clock
        self.samples: deque[Sample] = deque(maxlen=max(2, int(span / interval) + 1))

    def take(self, domain: Domain) -> None:
        self.samples.append(sample(domain, self.clock()))

    def series(self, domain: Domain | None = None) -> dict[str, Any]:
        """Per point: viewers, requests/s, refusals/s (all and by code), mean commit ms; and
        refusals by code over the whole window. With `domain`, a point for now is added."""
        points = list(self.samples)
        if domain is not None and (not points or self.clock() - points[-1].at > 0.5):
            points.append(sample(domain, self.clock()))
        out: dict[str, Any] = {"at": [], "viewers": [], "rps": [], "refusals": [],
                               "commit_ms": [], "by_code": {}}  # fmt: skip
        for before, after in zip(points, points[1:], strict=False):
            dt = max(after.at - before.at, 1e-6)
            out["at"].append(after.at)
            out["viewers"].append(after.sessions)
            out["rps"].append(max(0.0, after.requests - before.requests) / dt)
            refused = {code: n - before.refusals.get(code, 0.0)
                       for code, n in after.refusals.items()}  # fmt: skip
            out["refusals"].append(max(0.0, sum(refused.values())) / dt)
            commits = after.commit_count - before.commit_count
            out["commit_ms"].append(
                1000 * (after.commit_sum - before.commit_sum) / commits if commits > 0 else 0.0)
        if len(points) >= 2:
            first, last = points[0], points[-1]
            by_code = {code: n - first.refusals.get(code, 0.0)
                       for code, n in last.refusals.items()}  # fmt: skip
            out["by_code"] = {c: int(n) for c, n in sorted(by_code.items()) if n > 0}
        out["window"] = points[-1].at - points[0].at if len(points) >= 2 else 0.0
        return out


async def run_history(history: History, domain: Domain) -> None:
    """Sample until cancelled."""
    while True:
        try:
            history.take(domain)
        except Exception:  # a figure that cannot be read never stops the server
            log.exception("could not sample the health figures")
        await asyncio.sleep(history.interval)
