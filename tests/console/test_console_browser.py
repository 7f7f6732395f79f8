"""The griefing story in a real browser: headless Chromium (Debian's, driven by Playwright)
against a real server on a real socket. Sign in, see the griefer online, find its entities,
mass-remove them, ban it, see and resolve a report, see the log verify; and the page at a
phone's width, from the keyboard, under its CSP. Screenshots of each panel go to
test-artifacts/console/ (docs/CONSOLE.md shows some). A missing browser fails, never skips."""

import asyncio
import os
import shutil
import tempfile
import time
from pathlib import Path

import pytest

from domainserver.console.state import HISTORY

from .conftest import KEYS

CHROMIUM = os.environ.get("DOMAINSERVER_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "console"
# Chromium as root in a container: no sandbox, and nothing that reaches the network.
ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--disable-dev-shm-usage"]  # fmt: skip


@pytest.fixture
async def page():
    assert Path(CHROMIUM).exists(), (
        f"no browser at {CHROMIUM}: install Debian's chromium (apt-get install chromium; "
        ".ci/run does) or set DOMAINSERVER_CHROMIUM")
    from playwright.async_api import async_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    profile = tempfile.mkdtemp(prefix="console-chromium-")
    async with async_playwright() as pw:
        context = await pw.chromium.launch_persistent_context(
            profile, executable_path=CHROMIUM, headless=True, args=ARGS,
            viewport={"width": 1280, "height": 800})  # fmt: skip
        tab = context.pages[0] if context.pages else await context.new_page()
        tab.set_default_timeout(10_000)
        tab.problems = []
        tab.on("console", lambda m: tab.problems.append(m.text) if m.type == "error" else None)
        tab.on("pageerror", lambda e: tab.problems.append(str(e)))
        try:
            yield tab
        finally:
            await context.close()
            shutil.rmtree(profile, ignore_errors=True)


async def shot(page, name):
    await page.screenshot(path=str(ARTIFACTS / f"{name}.png"))


async def test_the_griefing_story_in_the_browser(page, harness, people):
    started = time.monotonic()
    history = harness.server.app[HISTORY]
    history.interval = 0.25  # a chart with a shape within seconds (from its next sample on)
    base = str(harness.server.make_url("/console"))
    token = people.griefer.token
    griefer = await harness.connect(people.griefer, name="Griefer", invisible=True)
    for i in range(6):
        await griefer.request("rez", entity={"type": "spam", "position": [i, 1, 2]})
    await griefer.request("say", text="nobody can see me spamming")
    visitor = await harness.connect(people.visitor, name="Vee")
    reported = await visitor.request(
        "report", target={"avatar": token}, reason="invisible and spamming the plaza")

    # Sign in, from the keyboard: the key, then Enter.
    await page.goto(base)
    assert page.url.endswith("/console/signin")
    await shot(page, "signin")
    await page.get_by_label("API key").fill(KEYS["ops"][0])
    await page.keyboard.press("Enter")
    await page.wait_for_url("**/console/now")

    # Now: the griefer is here, invisible, with its role and session.
    row = page.locator(f'#avatars tr[data-token="{token}"]')
    await row.wait_for()
    assert "invisible" in await row.inner_text() and "visitor" in await row.inner_text()
    await shot(page, "now")
    history.take(harness.domain)

    # World: its entities, then all of them removed after a confirmation that counts.
    await page.get_by_role("link", name="World", exact=True).click()
    await page.get_by_label("Owner token").fill(token)
    await page.get_by_role("button", name="Find").click()
    await page.wait_for_url(f"**owner={token}*")
    await page.locator("#entities tbody tr").nth(5).wait_for()
    assert await page.locator("#entities tbody tr").count() == 6
    await shot(page, "world")
    history.take(harness.domain)
    await page.locator("#entities tbody input[type=checkbox]").nth(0).check()
    await page.locator("#entities tbody input[type=checkbox]").nth(1).check()
    await page.get_by_role("button", name="Remove selected…").click()
    await page.get_by_role("heading", name="Remove 2 entities?").wait_for()
    await page.get_by_role("button", name="Remove 2 entities").click()
    await page.get_by_text("Removed 2 entities").wait_for()
    await page.get_by_role("button", name="Remove all 4 of this owner…").click()
    await page.get_by_role("heading", name="Remove 4 entities?").wait_for()
    await shot(page, "world-confirm")
    history.take(harness.domain)
    await page.get_by_role("button", name="Remove 4 entities").click()
    await page.get_by_text("Removed 4 entities").wait_for()
    assert harness.domain.world.count_owned(token) == 0

    # Now: ban it, with a reason and a duration; it is thrown out at once.
    await page.get_by_role("link", name="Now", exact=True).click()
    await row.get_by_role("link").click()
    assert await page.get_by_label("Avatar token").input_value() == token
    await page.get_by_label("Reason").fill("invisible spam in the plaza")
    await page.get_by_label("Ban for").select_option(label="1 week")
    await page.get_by_role("button", name="Ban").click()
    assert f"Banned {token} for 1 week" in await page.locator("main").inner_text(), \
        await page.locator("main").inner_text()
    kicked = await griefer.event("kicked")
    assert kicked["reason"] == "invisible spam in the plaza"
    await row.wait_for(state="detached")  # the live table dropped it

    # Bans: the ban, its source and its reason.
    await page.get_by_role("link", name="Bans", exact=True).click()
    await page.wait_for_url("**/console/bans")
    ban = page.locator(f'#bans tr[data-token="{token}"]')
    assert "local" in await ban.inner_text() and "api:ops" in await ban.inner_text()
    await shot(page, "bans")
    history.take(harness.domain)

    # Reports: the queue with its evidence; the reporter shown nowhere; resolved.
    await page.get_by_role("link", name="Reports", exact=True).click()
    await page.wait_for_url("**/console/reports")
    report = page.locator(f"#report-{reported['report']}")
    assert "invisible and spamming the plaza" in await report.inner_text()
    assert "nobody can see me spamming" in await report.inner_text()
    assert people.visitor.token not in await page.content()
    await shot(page, "reports")
    history.take(harness.domain)
    await report.get_by_label("dismiss").check()
    await report.get_by_label("Reason").fill("already banned")
    await report.get_by_role("button", name="Resolve").click()
    await page.get_by_text(f"Report {reported['report']} resolved: dismiss.").wait_for()

    # Room log: it verifies, and the tail is live.
    await page.get_by_role("link", name="Room log", exact=True).click()
    await page.wait_for_url("**/console/log")
    assert "Verified." in await page.locator("#verdict").inner_text()
    await visitor.request("say", text="thank you, moderators")
    await page.locator("#log").get_by_text("thank you, moderators").wait_for()
    await page.get_by_role("link", name="Verify now").click()
    await page.wait_for_url("**verify=1")
    await page.locator("#verdict").get_by_text("Verified.").wait_for()
    assert "api:ops" in await page.locator("#log").inner_text()
    await shot(page, "log")
    history.take(harness.domain)

    # Policy: the file in force and a reload; Health: the charts.
    await page.get_by_role("link", name="Policy", exact=True).click()
    await page.get_by_role("button", name="Reload the permissions file now").click()
    await page.locator("#reload-result").get_by_text("asked by api:ops").wait_for()
    await shot(page, "policy")
    history.take(harness.domain)
    await page.get_by_role("link", name="Health", exact=True).click()
    await page.wait_for_url("**/console/health")
    await asyncio.sleep(1.0)  # a few samples, and one live redraw
    assert await page.locator("svg polyline").count() == 4
    await shot(page, "health")

    # A phone's width: the same page, nothing cut off sideways.
    await page.set_viewport_size({"width": 390, "height": 844})
    await page.get_by_role("link", name="Now", exact=True).click()
    await page.wait_for_url("**/console/now")
    await page.wait_for_load_state("load")
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, await page.evaluate("""[...document.querySelectorAll('body *')]
        .filter(e => e.getBoundingClientRect().right > 391)
        .map(e => e.tagName + '.' + e.className + '#' + e.id).slice(0, 12).join(' ')""")
    await shot(page, "now-phone")

    # The keyboard: the first Tab reaches the skip link, and it leads to the content.
    await page.keyboard.press("Tab")
    assert await page.evaluate("document.activeElement.textContent") == "Skip to content"
    await page.keyboard.press("Enter")
    assert await page.evaluate("document.activeElement.id") == "main"

    # Signing out ends it; nothing broke the CSP along the way.
    await page.get_by_role("button", name="Sign out").click()
    await page.wait_for_url("**/console/signin")
    assert page.problems == []
    assert time.monotonic() - started < 60
