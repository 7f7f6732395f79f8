"""The console over plain HTTP: sign-in and its cookie, CSRF and origin refusals, scopes
(a panel the key cannot use is neither shown nor served), the security headers, actions
logged as `api:NAME`, and a key removed from the file losing its session at once."""

import asyncio

import pytest
from yarl import URL

from domainserver.console.guard import COOKIE
from domainserver.services.reload import reload_policy

from .conftest import KEYS


async def test_pages_carry_a_strict_csp_and_friends(browser):
    response, text = await browser.get("/console/signin")
    assert response.status == 200 and 'name="key"' in text
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "'unsafe-inline'" not in csp
    assert "frame-ancestors 'none'" in csp and "form-action 'self'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "<script>" not in text and "style=" not in text  # nothing inline to allow
    for name, kind in (("console.js", "text/javascript"), ("console.css", "text/css")):
        response, _ = await browser.get(f"/console/static/{name}")
        assert response.status == 200 and response.content_type == kind
    response, _ = await browser.get("/console/static/..%2fguard.py")
    assert response.status == 404


async def test_signed_out_pages_send_you_to_sign_in_and_actions_are_refused(browser, people):
    for panel in ("", "/now", "/world", "/bans", "/reports", "/log", "/policy", "/health"):
        response, _ = await browser.get("/console" + panel)
        assert response.status == 303 and response.headers["Location"] == "/console/signin"
    response, text = await browser.post("/console/now/kick", {"avatar": people.griefer.token})
    assert response.status == 401 and "Sign in" in text


async def test_sign_in_sets_an_httponly_strict_cookie_and_never_the_key(browser):
    response = await browser.sign_in()
    cookie = response.cookies[COOKIE]
    assert cookie["httponly"] and cookie["samesite"] == "Strict"
    assert cookie["path"] == "/console"
    assert not cookie["secure"]  # plain HTTP here; over HTTPS it is Secure (docs/CONSOLE.md)
    assert KEYS["ops"][0] not in cookie.value and len(cookie.value) >= 40
    response, text = await browser.get("/console")
    assert response.status == 303 and response.headers["Location"] == "/console/now"
    _, text = await browser.get("/console/now")
    for title in ("Now", "World", "Bans", "Reports", "Room log", "Policy", "Health"):
        assert f">{title}</a>" in text
    assert KEYS["ops"][0] not in text


async def test_a_wrong_key_is_refused_and_sign_ins_are_rate_limited(browser):
    for _ in range(5):
        response, text = await browser.post("/console/signin", {"key": "nope"}, csrf=False)
        assert response.status == 401 and "not one of this domain" in text
    response, text = await browser.post("/console/signin", {"key": KEYS["ops"][0]}, csrf=False)
    assert response.status == 429 and "try again in" in text
    assert COOKIE not in response.cookies


async def test_forms_without_the_sessions_csrf_token_or_from_elsewhere_are_refused(
    browser, harness, people
):
    griefer = await harness.connect(people.griefer, name="Griefer")
    await browser.sign_in()
    token = people.griefer.token
    response, text = await browser.post("/console/now/kick", {"avatar": token, "csrf": "forged"})
    assert response.status == 403 and "stale" in text
    response, _ = await browser.post("/console/now/kick", {"avatar": token}, csrf=False)
    assert response.status == 403
    response, _ = await browser.post("/console/now/kick", {"avatar": token},
                                     origin="http://evil.example")
    assert response.status == 403
    assert harness.domain.sessions.of_token(token)  # nothing happened
    response, _ = await browser.post("/console/now/kick", {"avatar": token, "reason": "cool it"})
    assert response.status == 303
    event = await griefer.event("kicked")
    assert event["reason"] == "cool it"
    _, text = await browser.get("/console/now")
    assert f"Kicked {token}" in text


async def test_what_the_scopes_do_not_allow_is_neither_shown_nor_accepted(browser, people):
    await browser.sign_in("watcher")
    _, text = await browser.get("/console/now")
    assert ">Now</a>" in text
    for title in ("World", "Bans", "Reports", "Room log", "Policy", "Health"):
        assert f">{title}</a>" not in text
    assert "/now/kick" not in text and "/now/ban" not in text
    for panel in ("/world", "/bans", "/reports", "/log", "/policy", "/health", "/live/log"):
        response, text = await browser.get("/console" + panel)
        assert response.status == 403, panel
        assert "lacks the" in text
    token = people.griefer.token
    for path, data in (("/console/now/kick", {"avatar": token}),
                       ("/console/now/ban", {"avatar": token, "reason": "x"}),
                       ("/console/bans/lift", {"token": token}),
                       ("/console/world/remove", {"owner": token}),
                       ("/console/policy/reload", {})):  # fmt: skip
        response, _ = await browser.post(path, data)
        assert response.status == 403, path


async def test_a_key_for_scripts_signs_in_to_an_empty_console(browser):
    await browser.sign_in("scripts")
    response, text = await browser.get("/console")
    assert response.status == 200 and "Nothing to show" in text


async def test_a_key_removed_from_the_file_loses_its_session_at_once(
    browser, harness, policy_path
):
    await browser.sign_in()
    text = policy_path.read_text()
    start = text.index("[api_keys.ops]")
    end = text.index("[api_keys.watcher]")
    policy_path.write_text(text[:start] + text[end:])
    assert reload_policy(harness.domain)
    response, _ = await browser.get("/console/now")
    assert response.status == 303 and response.headers["Location"] == "/console/signin"


async def test_sign_out_ends_the_session(browser):
    await browser.sign_in()
    old = browser.http.cookie_jar.filter_cookies(URL(browser.url("/console/now")))[COOKIE].value
    response, _ = await browser.post("/console/signout", {})
    assert response.status == 303
    response, _ = await browser.get("/console/now")
    assert response.status == 303
    response, _ = await browser.get("/console/now", headers={"Cookie": f"{COOKIE}={old}"})
    assert response.status == 303  # the server forgot it, not just the browser


async def test_console_actions_are_logged_with_the_keys_name(browser, harness, people):
    await harness.connect(people.griefer, name="Griefer")
    await browser.sign_in()
    token = people.griefer.token
    response, _ = await browser.post("/console/now/ban", {
        "avatar": token, "reason": "griefing the plaza", "duration": "3600"})
    assert response.status == 303
    assert harness.domain.bans.is_banned(token, harness.domain.clock())
    response, _ = await browser.post("/console/bans/lift", {"token": token})
    assert response.status == 303
    response, _ = await browser.post("/console/policy/reload", {})
    assert response.status == 303
    records = await harness.domain.store.read_async(
        lambda c: c.execute("SELECT kind, actor FROM log WHERE actor LIKE 'api:%'").fetchall())
    assert {("ban", "api:ops"), ("unban", "api:ops"), ("policy_reload", "api:ops")} <= set(
        records)


async def test_the_live_region_streams_server_sent_events(browser, harness, people):
    await browser.sign_in()
    await harness.connect(people.griefer, name="Griefer")
    response = await browser.http.get(browser.url("/console/live/now"),
                                      headers={"Accept": "text/event-stream"})
    assert response.status == 200 and response.content_type == "text/event-stream"
    first = await asyncio.wait_for(response.content.readuntil(b"\n\n"), 5)
    assert first.startswith(b"data: ") and people.griefer.token.encode() in first
    response.close()


@pytest.mark.parametrize("path", ["/console/world?area=1,2", "/console/log?kind=BAD!",
                                  "/console/bans?token=NOT-A-TOKEN"])
async def test_bad_queries_are_a_400_page_not_a_fault(browser, path):
    await browser.sign_in()
    response, text = await browser.get(path)
    assert response.status == 400 and "Bad request" in text


async def test_every_panel_renders_and_mass_removal_confirms_how_many(browser, harness, people):
    griefer = await harness.connect(people.griefer, name="Griefer", invisible=True)
    for i in range(3):
        await griefer.request("rez", entity={"type": "spam", "position": [i, 1, 0]})
    await griefer.request("say", text="you are all terrible")
    visitor = await harness.connect(people.visitor, name="Vee")
    await visitor.request("report", target={"avatar": people.griefer.token}, reason="insults")
    await browser.sign_in()
    token = people.griefer.token
    for path, expect in (("/console/now", "invisible"), ("/console/world", token),
                         (f"/console/world?owner={token}", "Remove all 3 of this owner"),
                         ("/console/bans", "no ban feed"), ("/console/reports", "insults"),
                         ("/console/log", "Verified."), ("/console/log?kind=say", "terrible"),
                         ("/console/policy", "api_keys.ops"), ("/console/health", "<svg")):
        response, text = await browser.get(path)
        assert response.status == 200, (path, text)
        assert expect in text, path
    _, text = await browser.get("/console/reports")
    assert people.visitor.token not in text  # the reporter is shown nowhere
    response, text = await browser.post("/console/world/remove", {"owner": token, "back": ""})
    assert response.status == 200 and "Remove 3 entities?" in text
    assert len(harness.domain.world) == 3  # nothing removed before the confirmation
    response, _ = await browser.post("/console/world/remove", {
        "owner": token, "confirmed": "yes", "reason": "spam"})
    assert response.status == 303 and len(harness.domain.world) == 0
