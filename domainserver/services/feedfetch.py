"""Following the subscribed feeds: one task per `[feeds.NAME]`, fetched every `refresh`
seconds with jitter, backing off while it fails; a reload starts, restarts or stops them.
Every wait and every fetch is bounded in time."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Callable

import aiohttp

from permissions import FeedConfig, FeedRefused, verify_document
from permissions.feeddoc import SIGNATURE_HEADER

from ..store import feeds as feed_rows
from .domain import Domain
from .feeds import accept, act_on, configure, drop, note_failure

__all__ = ["run_feeds", "fetch_once", "fetch_document", "next_delay", "MAX_FEED_BYTES"]

log = logging.getLogger(__name__)

MAX_FEED_BYTES = 256 << 20  # a million bans are about 70 MB of JSON
MAX_BACKOFF = 16  # failures stretch the wait up to this many times `refresh`
POLICY_POLL = 0.2  # seconds between looks for a reloaded policy
TIMEOUT = aiohttp.ClientTimeout(total=60, connect=10, sock_read=30)


def next_delay(refresh: float, failures: int, rand: Callable[[], float] = random.random) -> float:
    """Seconds until the next fetch: `refresh`, doubled per failure in a row up to
    MAX_BACKOFF times, then ±10 % jitter so that subscribers do not fetch in step."""
    factor = min(2 ** min(failures, 30), MAX_BACKOFF)
    return refresh * factor * (0.9 + 0.2 * rand())


async def fetch_document(
    http: aiohttp.ClientSession, url: str, since: int | None = None, etag: str | None = None
) -> tuple[int, bytes, str | None, str | None]:
    """(status, body, Domain-Signature, ETag) of one GET; the body is bounded."""
    params = {} if since is None else {"since": str(since)}
    headers = {} if etag is None else {"If-None-Match": etag}
    async with http.get(url, params=params, headers=headers, timeout=TIMEOUT) as resp:
        if resp.content_length is not None and resp.content_length > MAX_FEED_BYTES:
            raise FeedRefused(f"the document is larger than {MAX_FEED_BYTES} bytes")
        body = await resp.content.read(MAX_FEED_BYTES + 1)
        if len(body) > MAX_FEED_BYTES:
            raise FeedRefused(f"the document is larger than {MAX_FEED_BYTES} bytes")
        return resp.status, body, resp.headers.get(SIGNATURE_HEADER), resp.headers.get("ETag")


async def fetch_once(domain: Domain, http: aiohttp.ClientSession, config: FeedConfig) -> bool:
    """Fetch, verify and apply one document; False when the fetch failed or was refused
    (the last good copy stays in force either way)."""
    status = domain.feed_status[config.name]
    since = status.serial
    now = domain.clock()
    try:
        code, body, signature, etag = await fetch_document(
            http, config.url, since, status.etag if since is not None else None
        )
    except FeedRefused as exc:
        await note_failure(domain, config, str(exc), now, refused=True)
        return False
    except (TimeoutError, aiohttp.ClientError, OSError, ValueError) as exc:
        reason = f"fetch failed: {type(exc).__name__}: {exc}".rstrip(": ")
        await note_failure(domain, config, reason, now, refused=False)
        return False
    if code == 304 and since is not None:
        status.fetched_at = status.ok_at = now
        return True
    if code != 200:
        await note_failure(domain, config, f"fetch failed: HTTP {code}", now, refused=False)
        return False
    try:
        doc = verify_document(body, signature, config.key_raw, since)
        if since is not None and doc.serial < since:
            raise FeedRefused(f"the serial went backwards: {doc.serial} after {since}")
    except FeedRefused as exc:
        await note_failure(domain, config, f"refused: {exc}", now, refused=True)
        return False
    await accept(domain, config, doc, etag, now)
    return True


async def _follow(domain: Domain, http: aiohttp.ClientSession, config: FeedConfig) -> None:
    failures = 0
    while True:
        try:
            ok = await fetch_once(domain, http, config)
        except Exception:  # a bug or a store fault: logged, and the loop goes on
            log.exception("feed %s: fetch failed unexpectedly", config.name)
            ok = False
        failures = 0 if ok else failures + 1
        await asyncio.sleep(next_delay(config.refresh, failures))


async def _sync(
    domain: Domain,
    http: aiohttp.ClientSession,
    tasks: dict[str, tuple[FeedConfig, asyncio.Task[None]]],
    stored: set[str],
) -> None:
    """Make the running tasks match the policy's feeds: stop and drop removed ones (and those
    now read from another URL or key), start new ones, restart changed ones."""
    wanted = domain.policy.feeds
    for name in sorted(set(tasks) | stored | set(domain.feed_status)):
        config = wanted.get(name)
        running = tasks.get(name)
        status = domain.feed_status.get(name)
        moved = config is not None and status is not None and (
            (status.url, status.key) != (config.url, config.key)
        )
        if config is None or moved or (name in stored and status is None):
            if running is not None:
                running[1].cancel()
                del tasks[name]
            await drop(domain, name)
            log.info("feed %s: subscription %s", name, "moved" if moved else "removed")
    stored.clear()
    rules = {n: (c.action, c.priority) for n, c in wanted.items()}
    before = {n: (c.action, c.priority) for n, (c, _) in tasks.items()}
    configure(domain, domain.feeds, wanted)
    if any(before.get(n, r) != r for n, r in rules.items()):
        act_on(domain, set(domain.sessions.tokens()), "feed settings changed")
    for name, config in wanted.items():
        running = tasks.get(name)
        if running is not None and running[0] == config:
            continue
        if running is not None:
            running[1].cancel()
        tasks[name] = (config, asyncio.create_task(_follow(domain, http, config)))


async def run_feeds(domain: Domain) -> None:
    """The subscriber: follows every `[feeds.NAME]` of the policy in force, and notices a
    reload within POLICY_POLL seconds."""
    tasks: dict[str, tuple[FeedConfig, asyncio.Task[None]]] = {}
    stored = {row[0] for row in await domain.store.read_async(feed_rows.load_states)}
    async with aiohttp.ClientSession() as http:
        try:
            seen = None
            while True:
                if domain.policy is not seen:
                    seen = domain.policy
                    await _sync(domain, http, tasks, stored)
                    if domain.policy is not seen:
                        continue
                await asyncio.sleep(POLICY_POLL)
        finally:
            for _, task in tasks.values():
                task.cancel()
            for _, task in tasks.values():
                with contextlib.suppress(BaseException):
                    await task
