"""The permissions file's schema in one place: every table, its keys and built-in defaults.
The parser, the docs test and `summary` all read these tables, so none can drift."""

from __future__ import annotations

from typing import Any

__all__ = [
    "TABLES",
    "TOP_LEVEL",
    "DOMAIN_KEYS",
    "ROLE_KEYS",
    "GROUP_KEYS",
    "LIST_KEYS",
    "SCRIPTS_KEYS",
    "ACCESS_KEYS",
    "API_KEY_KEYS",
    "FEED_KEYS",
    "BANFEED_KEYS",
    "DOMAIN_DEFAULTS",
    "BUILTIN_VISITOR",
    "REZ_MODES",
    "ACCESS_MODES",
    "NAME_PATTERN",
]

TOP_LEVEL = (
    "domain", "roles", "members", "groups", "rez", "scripts", "access", "api_keys", "feeds",
    "banfeed",
)
DOMAIN_KEYS = (
    "id",
    "access",
    "max_temp_lifetime",
    "default_temp_lifetime",
    "lineage_rez_per_second",
)
ROLE_KEYS = (
    "rez",
    "scripts",
    "max_entities",
    "rez_per_second",
    "chat_per_second",
    "caps",
    "rank",
)
GROUP_KEYS = ("role", "members", "signer")
LIST_KEYS = ("whitelist", "blacklist")
SCRIPTS_KEYS = ("whitelist", "blacklist", "sources")
ACCESS_KEYS = ("blacklist",)
API_KEY_KEYS = ("sha256", "scopes")
FEED_KEYS = ("url", "key", "action", "priority", "refresh", "remove_entities")
BANFEED_KEYS = ("publish",)

# How each table is written in a file -> the keys it may hold ([members] maps tokens).
TABLES: dict[str, tuple[str, ...]] = {
    "[domain]": DOMAIN_KEYS,
    "[roles.NAME]": ROLE_KEYS,
    "[members]": (),
    "[groups.NAME]": GROUP_KEYS,
    "[rez]": LIST_KEYS,
    "[scripts]": SCRIPTS_KEYS,
    "[access]": ACCESS_KEYS,
    "[api_keys.NAME]": API_KEY_KEYS,
    "[feeds.NAME]": FEED_KEYS,
    "[banfeed]": BANFEED_KEYS,
}

DOMAIN_DEFAULTS: dict[str, Any] = {
    "access": "open",
    "max_temp_lifetime": 600,
    "default_temp_lifetime": 60,
    "lineage_rez_per_second": 20,
}

# The visitor role when the file has no [roles.visitor]; also fills its missing keys.
BUILTIN_VISITOR: dict[str, Any] = {
    "rez": "temporary",
    "scripts": False,
    "max_entities": 50,
    "rez_per_second": 10,
    "chat_per_second": 5,
    "caps": [],
    "rank": 0,
}

REZ_MODES = ("none", "temporary", "permanent")
ACCESS_MODES = ("open", "whitelist")
# Role, group and API key names: they appear in "group:NAME" references and log lines.
NAME_PATTERN = r"[A-Za-z0-9_-]{1,64}"
