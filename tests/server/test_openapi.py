"""The OpenAPI document is valid, names exactly the routes the server has, and the server's
real answers fit the schemas it gives for them."""

import copy
import hashlib
from pathlib import Path

import jsonschema
import pytest
import yaml
from openapi_spec_validator import validate

from domainserver.client import Identity
from domainserver.http import openapi_document
from domainserver.http.params import MAX_BODY
from permissions import KNOWN_SCOPES

from .conftest import BLACKLIST_KEY, OTHER_KEY

OPS_KEY = "openapi-test-operator-key"
OPS_KEYS = f"""
[api_keys.ops]
sha256 = "{hashlib.sha256(OPS_KEY.encode()).hexdigest()}"
scopes = ["entities:read", "entities:write", "bans:read", "bans:write",
          "avatars:read", "avatars:write", "log:read", "reports:read", "reports:write"]
"""
METHODS = {"get", "put", "post", "delete", "patch", "options", "head", "trace"}
DOCS = Path(__file__).resolve().parents[2] / "docs" / "OPERATOR_API.md"


@pytest.fixture(scope="module")
def spec():
    return yaml.safe_load(openapi_document())


@pytest.fixture
def policy_extra():
    return OPS_KEYS


def inline(node, spec):
    """`node` with every local `$ref` replaced by what it points to (the spec has no cycles)."""
    if isinstance(node, dict):
        if "$ref" in node:
            target = spec
            for part in node["$ref"].removeprefix("#/").split("/"):
                target = target[part.replace("~1", "/").replace("~0", "~")]
            return inline(target, spec)
        return {k: inline(v, spec) for k, v in node.items()}
    if isinstance(node, list):
        return [inline(v, spec) for v in node]
    return node


def response_schema(spec, template, method, status):
    operation = spec["paths"][template][method.lower()]
    assert str(status) in operation["responses"], f"{method} {template} has no {status} response"
    response = inline(operation["responses"][str(status)], spec)
    return response["content"]["application/json"]["schema"]


def routes_of(app):
    """(path template, method) of every route on the app; HEAD comes with every GET."""
    found = set()
    for route in app.router.routes():
        if route.method in ("HEAD", "*"):
            continue
        if route.resource.canonical.startswith("/console"):
            continue  # the operator console's HTML pages are not the API: tests/console/
        found.add((route.resource.canonical, route.method.lower()))
    return found


def test_document_is_valid_openapi_3_1(spec):
    validate(spec)
    assert spec["openapi"].startswith("3.1")
    assert spec["components"]["securitySchemes"]["bearer"] == {
        **spec["components"]["securitySchemes"]["bearer"], "type": "http", "scheme": "bearer"}


def test_document_is_the_shipped_file():
    path = Path(__file__).resolve().parents[2] / "domainserver" / "http" / "openapi.yaml"
    assert openapi_document() == path.read_bytes()


async def test_every_route_is_in_the_document_and_vice_versa(harness, spec):
    documented = {
        (path, method)
        for path, item in spec["paths"].items()
        for method in item
        if method in METHODS
    }
    assert routes_of(harness.server.app) == documented


def test_authenticated_operations_name_one_known_scope_and_their_refusals(spec):
    for path, item in spec["paths"].items():
        for method, op in ((m, o) for m, o in item.items() if m in METHODS):
            security = op.get("security", spec["security"])
            if path == "/healthz":  # anyone; the counts only for a key with metrics:read
                assert security == [{}, {"bearer": ["metrics:read"]}]
                assert {"401", "403"} <= set(op["responses"])
                continue
            if path == "/metrics":  # contract §3.4
                assert security == [{"bearer": ["metrics:read"]}]
                assert {"401", "403"} <= set(op["responses"])
                continue
            if not path.startswith("/api/v1/") or path in ("/api/v1/openapi.yaml",
                                                           "/api/v1/domain",
                                                           "/api/v1/banfeed"):
                assert security == [], (method, path)
                continue
            assert len(security) == 1 and list(security[0]) == ["bearer"], (method, path)
            (scope,) = security[0]["bearer"]
            assert scope in KNOWN_SCOPES, (method, path)
            assert {"400", "401", "403"} <= set(op["responses"]), (method, path)
            if "requestBody" in op:
                assert "413" in op["responses"], (method, path)


def test_fixed_shapes_forbid_extra_properties(spec):
    schemas = spec["components"]["schemas"]
    for name in ("Error", "Entity", "Avatar", "Ban", "Report", "Evidence", "Checkpoint"):
        assert schemas[name]["additionalProperties"] is False, name
    assert schemas["Error"]["properties"]["error"]["additionalProperties"] is False
    blacklist = response_schema(spec, "/api/v1/blacklist", "GET", 200)
    assert blacklist["additionalProperties"] is False
    assert set(blacklist["required"]) == {"tokens", "next"}


def test_operator_docs_mention_every_operator_route(spec):
    text = DOCS.read_text(encoding="utf-8")
    for path, item in spec["paths"].items():
        if path.startswith("/api/v1/operator"):
            for method in (m for m in item if m in METHODS):
                assert f"{method.upper()} {path}" in text, (method, path)
    for scope in KNOWN_SCOPES:
        assert f"`{scope}`" in text, scope


async def test_real_answers_fit_the_schemas(harness, http, spec, people):
    checked = set()

    async def check(method, template, path=None, key=OPS_KEY, expect=200, **kw):
        headers = {} if key is None else {"Authorization": f"Bearer {key}"}
        async with http.request(method, path or template, headers=headers, **kw) as resp:
            assert resp.status == expect, await resp.text()
            assert resp.content_type == "application/json"
            body = await resp.json()
        schema = copy.deepcopy(response_schema(spec, template, method, resp.status))
        jsonschema.Draft202012Validator(schema).validate(body)
        checked.add((template, method.lower()))
        return body

    griefer, visitor = Identity.generate(), people.visitor
    t = await harness.connect(people.trusted)
    await harness.connect(visitor, invisible=True)
    g = await harness.connect(griefer)
    await t.request("rez", entity={"type": "box", "position": [1, 2, 3], "script": "s",
                                   "props": {"blob": b"\x00\x01", "n": [1, {"x": None}]}})
    await g.request("rez", entity={"type": "ball", "position": [0, 0, 0], "visible": False})
    token = "/{token}"

    await check("GET", "/healthz", key=None)
    await check("GET", "/healthz", key=BLACKLIST_KEY, expect=403)
    await check("GET", "/healthz", key="unknown", expect=401)
    # The blacklist API, §3.2, with its refusals.
    bl, blt = "/api/v1/blacklist", "/api/v1/blacklist" + token
    await check("GET", bl, key=BLACKLIST_KEY)
    await check("GET", bl, key=None, expect=401)
    await check("GET", bl, key="unknown", expect=401)
    await check("GET", bl, key=OTHER_KEY, expect=403)
    await check("GET", bl, key=BLACKLIST_KEY, expect=400, params={"limit": "0"})
    await check("GET", blt, bl + "/" + griefer.token, key=BLACKLIST_KEY)
    await check("GET", blt, bl + "/nope", key=BLACKLIST_KEY, expect=400)
    # The operator API.
    op = "/api/v1/operator"
    found = await check("GET", op + "/entities")
    assert any(e["props"].get("blob") == "AAE=" for e in found["entities"])
    await check("GET", op + "/entities", params={"limit": "1"})
    await check("GET", op + "/entities", params={"area": "1,2,3"}, expect=400)
    await check("GET", op + "/avatars")
    await check("POST", op + "/avatars/kick", json={"avatar": Identity.generate().token},
                expect=404)
    await check("POST", op + "/bans", json={"token": griefer.token, "reason": "x",
                                            "duration": 600})
    await check("POST", op + "/bans", json={"token": griefer.token}, expect=400)
    await check("GET", op + "/bans")
    await check("GET", op + "/bans", params={"limit": "1"})
    await check("GET", op + "/bans" + token, op + "/bans/" + griefer.token)
    await check("GET", op + "/bans" + token, op + "/bans/" + visitor.token, expect=404)
    await check("GET", bl, key=BLACKLIST_KEY)
    await check("GET", blt, bl + "/" + griefer.token, key=BLACKLIST_KEY)
    await check("DELETE", op + "/bans" + token, op + "/bans/" + griefer.token)
    await check("POST", op + "/avatars/kick", json={"avatar": visitor.token, "reason": "r"})
    await check("POST", op + "/entities/remove", json={"owner": people.trusted.token})
    await check("POST", op + "/entities/remove", json={"entities": ["x" * 60] * (MAX_BODY // 60)},
                expect=413)
    await check("GET", op + "/entities", key=BLACKLIST_KEY, expect=403)
    await check("GET", op + "/log")
    await check("GET", op + "/log", params={"limit": "2"})
    await check("GET", op + "/log/verify")
    await check("GET", op + "/log", params={"kind": "say,enter", "token": griefer.token,
                                            "since": "0", "until": "1e12"})
    await check("GET", op + "/log", params={"since": "yesterday"}, expect=400)
    await check("GET", "/api/v1/domain", key=None)
    await check("GET", "/api/v1/banfeed", key=None)
    await check("GET", "/api/v1/banfeed", key=None, params={"since": "0"})
    await check("GET", op + "/feeds")
    await check("GET", op + "/bans" + token + "/sources",
                op + "/bans/" + griefer.token + "/sources")  # fmt: skip
    await t.request("say", text="the plaza is mine")
    reporter = await harness.connect(people.stranger)
    filed = await reporter.request("report", target={"avatar": people.trusted.token},
                                   reason="shouting")
    rid = "/{id}"
    reps = op + "/reports"
    listed = await check("GET", reps, params={"state": "open"})
    assert [r["id"] for r in listed["reports"]] == [filed["report"]]
    await check("GET", reps, params={"state": "maybe"}, expect=400)
    await check("GET", reps + rid, reps + "/" + filed["report"])
    await check("GET", reps + rid, reps + "/nope", expect=404)
    await check("GET", reps + rid + "/bundle", reps + "/" + filed["report"] + "/bundle")
    await check("POST", reps + rid + "/resolve", reps + "/" + filed["report"] + "/resolve",
                json={"action": "warn", "reason": "calm down"})
    await check("POST", reps + rid + "/resolve", reps + "/" + filed["report"] + "/resolve",
                json={"action": "warn"}, expect=400)
    await check("POST", reps + rid + "/resolve", reps + "/nope/resolve",
                json={"action": "warn"}, expect=404)

    not_json = {("/ws", "get"), ("/api/v1/openapi.yaml", "get"), ("/metrics", "get")}
    json_routes = routes_of(harness.server.app) - not_json
    assert json_routes <= checked, json_routes - checked


async def test_the_document_is_served_without_a_key(harness, http):
    async with http.get("/api/v1/openapi.yaml") as resp:
        assert resp.status == 200 and resp.content_type == "application/yaml"
        assert await resp.read() == openapi_document()
