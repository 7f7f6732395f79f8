"""`domainserver feeds preview URL --key ed25519:...`: fetch and verify another domain's ban
feed, and show what subscribing to it would do here, before anyone subscribes."""

from __future__ import annotations

import argparse
import asyncio
import os
import sqlite3
import sys
import time
from typing import Any

__all__ = ["register"]


def register(sub: Any) -> None:
    feeds = sub.add_parser("feeds", help="ban lists across domains")
    verbs = feeds.add_subparsers(dest="verb", required=True)
    preview = verbs.add_parser(
        "preview",
        help="fetch and verify a ban feed; show whom it would ban, deny or flag here",
        description="Fetch the feed at URL, verify its signature with KEY (the publisher's "
        "GET /api/v1/domain), and show for this domain's database and permissions file whom "
        "it would ban, deny or flag, and its conflicts with [members]. Changes nothing.",
    )
    preview.add_argument("url", metavar="URL")
    preview.add_argument("--key", required=True, metavar="ed25519:...")
    preview.add_argument("--action", choices=("ban", "rez-deny", "advisory"), default="ban")
    preview.add_argument("--permissions", metavar="FILE", help="this domain's permissions file")
    preview.add_argument("--db", metavar="FILE", default="domain.db",
                         help="this domain's database (read only; default domain.db)")  # fmt: skip
    preview.add_argument("--show", type=int, default=20, metavar="N",
                         help="list at most N tokens of each kind (default 20)")  # fmt: skip
    preview.set_defaults(run=_preview)


def _fail(message: str) -> int:
    print(f"domainserver feeds preview: {message}", file=sys.stderr)
    return 2


async def _fetch(url: str) -> tuple[int, bytes, str | None]:
    import aiohttp

    from ..services.feedfetch import fetch_document

    async with aiohttp.ClientSession() as http:
        status, body, signature, _ = await fetch_document(http, url)
        return status, body, signature


def _here(db: str, tokens: list[str], now: float) -> dict[str, tuple[bool, int]]:
    """token -> (banned locally, entities it owns) from the database, read only."""
    if not os.path.exists(db):
        return {}
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        out = {}
        for token in tokens:
            banned = conn.execute(
                "SELECT 1 FROM bans WHERE token = ? AND (expires_at IS NULL OR expires_at > ?)",
                (token, now),
            ).fetchone()
            owned = conn.execute("SELECT COUNT(*) FROM entities WHERE owner = ?", (token,))
            out[token] = (banned is not None, int(owned.fetchone()[0]))
        return out
    finally:
        conn.close()


def _preview(args: argparse.Namespace) -> int:
    from permissions import (
        FeedRefused,
        PolicyError,
        decode_domain_key,
        default_policy,
        load_policy,
        verify_document,
    )

    try:
        key = decode_domain_key(args.key)
    except ValueError as exc:
        return _fail(f"--key: not a domain key ({exc}); expected ed25519:<base64 of 32 bytes>")
    try:
        policy = load_policy(args.permissions) if args.permissions else default_policy()
    except PolicyError as exc:
        print(exc, file=sys.stderr)
        return 2
    try:
        status, body, signature = asyncio.run(_fetch(args.url))
    except Exception as exc:  # network errors of every kind, said in one line
        return _fail(f"cannot fetch {args.url}: {type(exc).__name__}: {exc}")
    if status != 200:
        return _fail(f"{args.url} answered HTTP {status}")
    try:
        doc = verify_document(body, signature, key)
    except FeedRefused as exc:
        print(f"REFUSED: {exc}; a subscriber would keep its last good copy")
        return 1
    now = time.time()
    live = [(t, exp) for t, _, exp in doc.entries if exp is None or exp > now]
    members = policy.members
    acted = [(t, exp) for t, exp in live if t not in members]
    conflicts = [(t, members[t]) for t, _ in live if t in members]
    here = _here(args.db, [t for t, _ in acted], now)
    verb = {"ban": "ban", "rez-deny": "deny rez and scripts to", "advisory": "flag"}[args.action]
    print(f"verified: domain {doc.domain!r}, serial {doc.serial}, {len(doc.entries)} entries, "
          f"{len(live)} in force")  # fmt: skip
    already = sum(1 for t, _ in acted if here.get(t, (False, 0))[0])
    owning = sum(1 for t, _ in acted if here.get(t, (False, 0))[1])
    print(f"with action = {args.action!r} it would {verb} {len(acted)} token(s) here"
          f" ({already} already banned locally, {owning} owning entities here)")  # fmt: skip
    for token, exp in acted[: args.show]:
        banned, owned = here.get(token, (False, 0))
        until = "permanent" if exp is None else time.strftime("until %Y-%m-%d", time.gmtime(exp))
        notes = ", banned locally" if banned else ""
        print(f"  {token}  {until}, owns {owned} entities here{notes}")
    if len(acted) > args.show:
        print(f"  ... {len(acted) - args.show} more")
    print(f"conflicts (named in [members], never acted on): {len(conflicts)}")
    for token, role in conflicts:
        print(f"  {token}  member with role {role}")
    return 0
