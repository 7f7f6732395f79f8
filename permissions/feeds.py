"""Ban feeds in the permissions file (contract §4, §7): each `[feeds.NAME]` subscription and
the `[banfeed]` publication choice, read into frozen values with located problems."""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import attrs

from permissions import _schema as S

if TYPE_CHECKING:  # the checker imports the model, which holds FeedConfig
    from permissions._check import Checker

__all__ = [
    "ACTIONS",
    "PUBLISH_MODES",
    "FeedConfig",
    "decode_domain_key",
    "read_feeds",
    "read_banfeed",
]

ACTIONS = ("ban", "rez-deny", "advisory")
PUBLISH_MODES = ("all", "shared", "none")
_NAME = re.compile(S.NAME_PATTERN)
_URL = re.compile(r"https?://[^/\s?#]+(/\S*)?")
_KEY_PREFIX = "ed25519:"


def decode_domain_key(text: str) -> bytes:
    """The 32 raw bytes of a domain key written `ed25519:<base64>` (contract §3.3); the
    URL-safe alphabet and missing padding are accepted too. ValueError when malformed."""
    if not isinstance(text, str) or not text.startswith(_KEY_PREFIX):
        raise ValueError("not ed25519:<base64>")
    body = text[len(_KEY_PREFIX) :].replace("-", "+").replace("_", "/")
    body += "=" * (-len(body) % 4)
    try:
        raw = base64.b64decode(body, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("not base64") from None
    if len(raw) != 32:
        raise ValueError(f"{len(raw)} bytes, not 32")
    return raw


@attrs.frozen
class FeedConfig:
    """One `[feeds.NAME]` subscription: another domain's signed ban list and what to do
    with the tokens it lists."""

    name: str
    url: str
    key: str
    action: str = "ban"
    priority: int = 0
    refresh: float = 60.0
    remove_entities: bool = False

    @property
    def key_raw(self) -> bytes:
        """The publisher's public key as 32 raw bytes."""
        return decode_domain_key(self.key)

    def same_source(self, other: FeedConfig) -> bool:
        """True when `other` reads the same list from the same publisher: the copy kept
        for this one stays good for the other."""
        return (self.url, self.key) == (other.url, other.key)


def read_feeds(c: Checker, data: Mapping[str, Any]) -> dict[str, FeedConfig]:
    """Every `[feeds.NAME]` table; problems are recorded on `c`, bad tables left out."""
    if "feeds" not in data:
        return {}
    section = c.table(data["feeds"], ("feeds",)) or {}
    feeds: dict[str, FeedConfig] = {}
    for name, value in section.items():
        where = ("feeds", name)
        if not _NAME.fullmatch(name):
            c.problem(where, "feed names use only letters, digits, _ and - (at most 64)")
        table = c.table(value, where)
        if table is None:
            continue
        c.known_keys(table, where, S.FEED_KEYS)
        got = _read_feed(c, name, table, where)
        if got is not None:
            feeds[name] = got
    return feeds


def _read_feed(
    c: Checker, name: str, table: dict[str, Any], where: tuple[str, ...]
) -> FeedConfig | None:
    ok = True
    for required in ("url", "key"):
        if required not in table:
            c.problem(where, f'missing required key "{required}"')
            ok = False
    values: dict[str, Any] = {}
    if "url" in table and (url := c.string(table, "url", where)) is not None:
        if _URL.fullmatch(url):
            values["url"] = url
        else:
            c.problem(where + ("url",), f'"{url}" is not an http:// or https:// URL')
            ok = False
    if "key" in table and (key := c.string(table, "key", where)) is not None:
        try:
            decode_domain_key(key)
            values["key"] = key
        except ValueError as exc:
            c.problem(
                where + ("key",),
                f'"{key}" is not a domain key ({exc}); expected "ed25519:" and the base64 '
                "of 32 bytes, as the publisher's GET /api/v1/domain shows it",
            )
            ok = False
    if "action" in table and (action := c.choice(table, "action", where, ACTIONS)):
        values["action"] = action
    elif "action" in table:
        ok = False
    if "priority" in table:
        priority = table["priority"]
        if isinstance(priority, bool) or not isinstance(priority, int):
            c.problem(where + ("priority",), "must be an integer (higher wins)")
            ok = False
        else:
            values["priority"] = priority
    if "refresh" in table:
        refresh = c.number(table, "refresh", where, positive=True, unit=" of seconds")
        if refresh is not None and refresh < 1:
            c.problem(where + ("refresh",), f"must be 1 or more seconds, got {refresh}")
            refresh = None
        if refresh is None:
            ok = False
        else:
            values["refresh"] = float(refresh)
    if "remove_entities" in table:
        remove = c.boolean(table, "remove_entities", where)
        if remove is None:
            ok = False
        else:
            values["remove_entities"] = remove
    if not ok or "url" not in values or "key" not in values:
        return None
    return FeedConfig(name=name, **values)


def read_banfeed(c: Checker, data: Mapping[str, Any]) -> str:
    """The `[banfeed]` publication choice: which local bans GET /api/v1/banfeed serves."""
    if "banfeed" not in data:
        return "all"
    table = c.table(data["banfeed"], ("banfeed",)) or {}
    c.known_keys(table, ("banfeed",), S.BANFEED_KEYS)
    if "publish" in table:
        return c.choice(table, "publish", ("banfeed",), PUBLISH_MODES) or "all"
    return "all"
