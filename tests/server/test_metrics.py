"""`GET /metrics` (contract §3.4): the Prometheus text format, behind `metrics:read`, with
the gauge of connected viewers and the counter of requests by op and result."""

import base64
import hashlib

import pytest
from prometheus_client.parser import text_string_to_metric_families

from .conftest import BLACKLIST_KEY

METRICS_KEY = "metrics-key"


FEED_KEY = "ed25519:" + base64.b64encode(bytes(range(32))).decode()


@pytest.fixture
def policy_extra():
    # A subscription to a publisher that is not there: its state shows all the same.
    return f"""
[api_keys.prometheus]
sha256 = "{hashlib.sha256(METRICS_KEY.encode()).hexdigest()}"
scopes = ["metrics:read"]

[feeds.neighbours]
url = "http://127.0.0.1:9/api/v1/banfeed"
key = "{FEED_KEY}"
action = "ban"
refresh = 60
"""


async def scrape(http):
    async with http.get("/metrics", headers={"Authorization": f"Bearer {METRICS_KEY}"}) as r:
        assert r.status == 200
        assert r.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        text = await r.text()
    samples = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            samples[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return samples


async def test_metrics_count_viewers_and_requests_by_op_and_result(harness, http, people):
    t = await harness.connect(people.trusted)
    v = await harness.connect(people.visitor)
    box = (await t.request("rez", entity={"type": "box", "position": [0, 0, 0]}))["entity"]
    await t.request("whoami")
    reply = await v.submit("delete", entity=box["id"])
    assert reply["error"]["code"] == "not_owner"
    await v.submit("no such op")
    m = await scrape(http)
    assert m[("domainserver_sessions", ())] == 2
    assert m[("domainserver_entities", ())] == 1
    assert m[("domainserver_requests_total", (("op", "rez"), ("result", "ok")))] == 1
    assert m[("domainserver_requests_total", (("op", "whoami"), ("result", "ok")))] == 1
    assert m[("domainserver_requests_total", (("op", "delete"), ("result", "not_owner")))] == 1
    assert m[("domainserver_requests_total", (("op", "unknown"), ("result", "bad_request")))] == 1
    assert m[("domainserver_op_seconds_count", (("op", "rez"),))] == 1
    assert m[("domainserver_commit_seconds_count", ())] >= 1
    assert m[("domainserver_log_records", ())] >= 0
    feed = (("feed", "neighbours"),)
    assert m[("domainserver_feed_entries", feed)] == 0
    assert m[("domainserver_feed_age_seconds", feed)] == -1  # never fetched and accepted
    await v.close()
    await t.close()
    m = await scrape(http)
    assert m[("domainserver_sessions", ())] == 0


async def test_metrics_need_the_scope(harness, http):
    async with http.get("/metrics") as r:
        assert r.status == 401 and r.headers["WWW-Authenticate"].startswith("Bearer")
    async with http.get("/metrics", headers={"Authorization": "Bearer nope"}) as r:
        assert r.status == 401
    async with http.get("/metrics", headers={"Authorization": f"Bearer {BLACKLIST_KEY}"}) as r:
        assert r.status == 403
