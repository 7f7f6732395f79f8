"""Publishing this domain's bans (contract §7): the signed feed document, whole or as the
changes after a serial, with the ETag that lets a subscriber ask "anything new?" for free.

What is published follows `[banfeed] publish`; reasons, actors and names never are. The whole
list is built once per serial and reused while nothing changes (a million bans take a few
seconds to list; a delta of a hundred changes, milliseconds).
"""

from __future__ import annotations

import math
import sqlite3
from typing import Any

import attrs

from entities.errors import NotFound
from permissions import render_document, signature_value

from ..store import banfeed as banfeed_rows
from .domain import Domain

__all__ = ["Published", "publish", "etag_of"]


@attrs.frozen
class Published:
    """A feed answer: `body` is None when the caller's ETag is still current (304)."""

    etag: str
    body: bytes | None = None
    signature: str | None = None
    serial: int = 0


@attrs.frozen
class _Whole:
    serial: int
    mode: str
    valid_until: float  # the first expiry in it: after that it lists a ban no longer in force
    body: bytes
    signature: str


def etag_of(serial: int, mode: str) -> str:
    """The feed's entity tag: it changes with every change and with the publication choice."""
    return f'"{serial}-{mode}"'


async def publish(
    domain: Domain, since: int | None = None, if_none_match: str | None = None
) -> Published:
    """The feed as this domain publishes it now: every published ban in force, or (with
    `since`) what changed after that serial, lifts as `"banned": false`. When the publication
    choice changed after `since`, the whole list is sent with `"since": null`.
    NotFound when `[banfeed] publish = "none"`."""
    mode = domain.policy.publish
    if mode == "none":
        raise NotFound('this domain publishes no ban feed ([banfeed] publish = "none")')
    shared_only = mode == "shared"
    now = domain.clock()
    cached: _Whole | None = domain.published

    def read(conn: sqlite3.Connection) -> tuple[int, int | None, Any]:
        serial = banfeed_rows.serial(conn)
        if if_none_match is not None and etag_of(serial, mode) in _tags(if_none_match):
            return serial, None, None
        stored = banfeed_rows.mode(conn)
        mode_since = stored[1] if stored is not None and stored[0] == mode else None
        if since is not None and mode_since is not None and mode_since <= since <= serial:
            return serial, since, banfeed_rows.changes_since(conn, since, shared_only)
        fresh = cached is not None and (cached.serial, cached.mode) == (serial, mode)
        if since is None and mode_since is not None and fresh and now < cached.valid_until:
            return serial, -2, None
        return serial, -1, banfeed_rows.in_force(conn, now, shared_only)

    serial, base, rows = await domain.store.read_async(read)
    etag = etag_of(serial, mode)
    if base is None:
        return Published(etag, serial=serial)
    if base == -2 and cached is not None:
        return Published(etag, cached.body, cached.signature, serial)
    domain_id = domain.policy.domain.id
    if base >= 0:
        body = render_document(domain_id, serial, rows, since=base)
        return Published(etag, body, signature_value(domain.key.sign(body)), serial)
    # A whole list: asked for, or in answer to a `since` it cannot follow (`"since": null`).
    body = render_document(domain_id, serial, rows)
    if since is not None:
        body = body[:-1] + b',"since":null}'
    signature = signature_value(domain.key.sign(body))
    if since is None:
        first = min((exp for _, _, exp in rows if exp is not None), default=math.inf)
        domain.published = _Whole(serial, mode, first, body, signature)
    _note_mode(domain, mode)
    return Published(etag, body, signature, serial)


def _note_mode(domain: Domain, mode: str) -> None:
    """Record the publication choice as in force from now (once per change of it), so that
    deltas after this serial are served again."""
    if domain.published_mode == mode:
        return

    def write(conn: sqlite3.Connection) -> None:
        stored = banfeed_rows.mode(conn)
        if stored is None or stored[0] != mode:
            banfeed_rows.set_mode(conn, mode)

    def noted() -> None:
        domain.published_mode = mode

    done = domain.writes.commit(write, apply=noted)
    done.add_done_callback(lambda f: f.cancelled() or f.exception())


def _tags(header: str) -> set[str]:
    return {t.strip().removeprefix("W/") for t in header.split(",")}
