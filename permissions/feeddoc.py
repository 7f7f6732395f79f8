"""The ban feed document (contract §7) as bytes: rendered by a publisher, verified and read by
a subscriber. Sans I/O, so both ends and the preview command share one definition."""

from __future__ import annotations

import base64
import binascii
import json
import math
from collections.abc import Iterable
from typing import Any

import attrs
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from entities.tokens import is_token

__all__ = [
    "SIGNATURE_HEADER",
    "FeedRefused",
    "FeedDocument",
    "render_document",
    "signature_value",
    "verify_document",
]

SIGNATURE_HEADER = "Domain-Signature"
Entry = tuple[str, bool, float | None]


class FeedRefused(ValueError):
    """A feed document that must not be used: bad signature, malformed, or going backwards."""


@attrs.frozen
class FeedDocument:
    """A verified document: `since` is the serial a delta follows, None for the whole list."""

    domain: str
    serial: int
    since: int | None
    entries: tuple[Entry, ...]

    @property
    def is_delta(self) -> bool:
        return self.since is not None


def _number(value: float | None) -> str:
    return "null" if value is None else repr(float(value))


def render_document(
    domain: str, serial: int, entries: Iterable[Entry], since: int | None = None
) -> bytes:
    """The exact body bytes: compact JSON, entries in the order given. `since` is written
    only for a delta (and as null for a whole list served in answer to `?since=`)."""
    head = json.dumps(domain)
    flag = {True: "true", False: "false"}
    parts = [
        f'{{"token":"{token}","banned":{flag[bool(banned)]},"expires_at":{_number(expires_at)}}}'
        for token, banned, expires_at in entries
    ]
    tail = "" if since is None else f',"since":{int(since)}'
    return (
        f'{{"domain":{head},"serial":{int(serial)},"entries":[{",".join(parts)}]{tail}}}'
    ).encode()


def signature_value(signature: bytes) -> str:
    """The `Domain-Signature` header's value for an Ed25519 signature."""
    return "ed25519 " + base64.b64encode(signature).decode("ascii")


def _signature(header: str | None) -> bytes:
    if not header:
        raise FeedRefused(f"no {SIGNATURE_HEADER} header")
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() != "ed25519":
        raise FeedRefused(f"{SIGNATURE_HEADER} is not 'ed25519 <base64>'")
    try:
        sig = base64.b64decode(value.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise FeedRefused(f"{SIGNATURE_HEADER} is not base64") from None
    if len(sig) != 64:
        raise FeedRefused(f"{SIGNATURE_HEADER} is not a 64-byte signature")
    return sig


def _entry(raw: Any, index: int) -> Entry:
    where = f"entries[{index}]"
    if not isinstance(raw, dict):
        raise FeedRefused(f"{where} is not an object")
    token, banned = raw.get("token"), raw.get("banned")
    if not isinstance(token, str) or not is_token(token):
        raise FeedRefused(f"{where}.token is not a token")
    if not isinstance(banned, bool):
        raise FeedRefused(f"{where}.banned is not true or false")
    expires_at = raw.get("expires_at")
    if expires_at is not None and (
        isinstance(expires_at, bool)
        or not isinstance(expires_at, int | float)
        or not math.isfinite(expires_at)
    ):
        raise FeedRefused(f"{where}.expires_at is not unix seconds or null")
    return token, banned, None if expires_at is None else float(expires_at)


def verify_document(
    body: bytes, signature: str | None, key_raw: bytes, asked_since: int | None = None
) -> FeedDocument:
    """Check the signature over the exact `body` with the publisher's 32-byte key, then read
    it. `asked_since` is the serial the request named: the answer is a delta after it
    unless the document says `"since": null`. FeedRefused says why a document is unusable."""
    sig = _signature(signature)
    try:
        Ed25519PublicKey.from_public_bytes(key_raw).verify(sig, body)
    except InvalidSignature:
        raise FeedRefused("the signature does not verify with the feed's key") from None
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, ValueError) as exc:
        raise FeedRefused(f"not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise FeedRefused("not a JSON object")
    domain, serial, entries = data.get("domain"), data.get("serial"), data.get("entries")
    if not isinstance(domain, str):
        raise FeedRefused('"domain" is not a string')
    if isinstance(serial, bool) or not isinstance(serial, int) or serial < 0:
        raise FeedRefused('"serial" is not a non-negative integer')
    if not isinstance(entries, list):
        raise FeedRefused('"entries" is not a list')
    since: int | None = asked_since
    if "since" in data:
        since = data["since"]
        if since is not None and (isinstance(since, bool) or not isinstance(since, int)):
            raise FeedRefused('"since" is not an integer or null')
        if since is not None and since != asked_since:
            raise FeedRefused(f'"since" is {since}, not the {asked_since} asked for')
    parsed = tuple(_entry(raw, i) for i, raw in enumerate(entries))
    if len({token for token, _, _ in parsed}) != len(parsed):
        raise FeedRefused("a token is listed twice")
    if since is None and any(not banned for _, banned, _ in parsed):
        raise FeedRefused('a whole list holds "banned": false')
    return FeedDocument(domain, serial, since, parsed)
