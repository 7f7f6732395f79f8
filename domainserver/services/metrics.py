"""What an operator watches (contract §3.4): connected viewers, requests by op and result,
op and commit latency, bytes queued to viewers, refusals, expiry lag, log size, feeds. One
registry per server, so several servers in one process never mix their figures."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from ..store import log as log_rows

__all__ = ["Metrics", "CONTENT_TYPE", "exposition"]

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
# Latency buckets in seconds: from the sub-millisecond reads to a slow fsync.
_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)


class _Live(Collector):
    """Gauges read from the live domain at scrape time: nothing is kept up to date."""

    def __init__(self, read: Callable[[], dict[str, Any]]) -> None:
        self._read = read

    def collect(self) -> Iterator[Metric]:
        now = self._read()
        yield GaugeMetricFamily(
            "domainserver_sessions", "Connected viewers.", value=now["sessions"]
        )
        yield GaugeMetricFamily("domainserver_entities", "Entities in the world.",
                                value=now["entities"])  # fmt: skip
        yield GaugeMetricFamily(
            "domainserver_bans", "Tokens banned (local and from feeds).", value=now["bans"]
        )
        yield GaugeMetricFamily(
            "domainserver_queued_bytes",
            "Bytes queued to viewers and not yet handed to their sockets.",
            value=now["queued_bytes"],
        )
        yield GaugeMetricFamily(
            "domainserver_expiry_lag_seconds",
            "How late the last expiry pass removed what was due.",
            value=now["expiry_lag"],
        )
        yield GaugeMetricFamily(
            "domainserver_log_records", "Records in the room log.", value=now["log_records"]
        )
        refused = CounterMetricFamily(
            "domainserver_connections_refused",
            "Connections refused by a limit, by reason.",
            labels=["reason"],
        )
        for reason, n in now["connections_refused"].items():
            refused.add_metric([reason], n)
        yield refused
        feeds = now.get("feeds") or {}
        serial = GaugeMetricFamily("domainserver_feed_serial", "Last good serial of each feed.",
                                   labels=["feed"])  # fmt: skip
        entries = GaugeMetricFamily(
            "domainserver_feed_entries", "Entries in each feed's last good copy.", labels=["feed"]
        )
        age = GaugeMetricFamily(
            "domainserver_feed_age_seconds",
            "Seconds since each feed was last fetched and accepted.",
            labels=["feed"],
        )
        for name, state in feeds.items():
            serial.add_metric([name], state.get("serial") or 0)
            entries.add_metric([name], state.get("entries") or 0)
            age.add_metric([name], state.get("age") if state.get("age") is not None else -1)
        yield serial
        yield entries
        yield age


class Metrics:
    def __init__(self, read_live: Callable[[], dict[str, Any]]) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "domainserver_requests", "Requests answered, by op and result (ok or the error code).",
            ["op", "result"], registry=self.registry,
        )  # fmt: skip
        self.op_seconds = Histogram(
            "domainserver_op_seconds",
            "From a request's arrival to its reply, by op (writes include their commit).",
            ["op"], buckets=_BUCKETS, registry=self.registry,
        )  # fmt: skip
        self.commit_seconds = Histogram(
            "domainserver_commit_seconds",
            "From a group of writes handed to the store to its durable commit.",
            buckets=_BUCKETS, registry=self.registry,
        )  # fmt: skip
        self.registry.register(_Live(read_live))
        # Label children cached: labels() costs more than the increment on the hot path.
        self._requests: dict[tuple[str, str], Any] = {}
        self._ops: dict[str, Any] = {}

    def answered(self, op: str, result: str, started: float) -> None:
        """One request answered with `result` ("ok" or its error code)."""
        key = (op, result)
        child = self._requests.get(key)
        if child is None:
            if len(self._requests) > 4096:  # unknown ops are many: name them all "unknown"
                key = ("unknown", result)
            child = self._requests[key] = self.requests.labels(*key)
        child.inc()
        timer = self._ops.get(op)
        if timer is None:
            timer = self._ops[op] = self.op_seconds.labels(op if len(self._ops) < 256 else "?")
        timer.observe(time.perf_counter() - started)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


async def exposition(domain: Any) -> bytes:
    """Every metric of `domain` in the Prometheus text format, the log's size read fresh."""
    domain.log_records = await domain.store.read_async(log_rows.last_seq)
    return domain.metrics.exposition()
