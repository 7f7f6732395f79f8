"""An Overte / Vircadia domain-server settings file (its `security` permission tables and
`entity_server_settings`) mapped to this server's permissions file and bans, where they map;
every entry that does not is reported with the reason. The table is in docs/FEEDS.md."""

from __future__ import annotations

import json
import math
from typing import Any

from entities.tokens import is_token
from permissions.imports import ImportedBan, ImportPlan, ImportRefused
from permissions.parse import parse_policy

__all__ = ["read_overte", "FLAGS_WITHOUT_EQUIVALENT"]

TABLES = (
    "standard_permissions", "permissions", "group_permissions", "group_forbiddens",
    "ip_permissions", "mac_permissions", "machine_fingerprint_permissions",
)  # fmt: skip
MAPPED_FLAGS = ("id_can_connect", "id_can_rez", "id_can_rez_tmp", "id_can_kick")
FLAGS_WITHOUT_EQUIVALENT = {
    "id_can_rez_avatar_entities": "avatar entities are not a separate permission here",
    "id_can_adjust_locks": "entities have no lock here: the owner edits, edit_any overrides",
    "id_can_rez_certified": "there are no certified entities here",
    "id_can_rez_tmp_certified": "there are no certified entities here",
    "id_can_write_to_asset_server": "this server has no asset server",
    "id_can_connect_past_max_capacity": "capacity limits are the server's settings, not roles",
    "id_can_replace_content": "content sets are not replaced through roles here",
    "id_can_get_and_set_private_user_data": "entities have no private user data here",
}
_BY_ADDRESS = {
    "ip_permissions": "an IP address",
    "mac_permissions": "a MAC address",
    "machine_fingerprint_permissions": "a machine fingerprint",
}
_REASON = "imported from an Overte domain: may not connect"


def _line(text: str, *needles: str) -> int:
    """The line of the first needle found (in order), else 1: where to point the operator."""
    for needle in needles:
        at = text.find(needle)
        if at >= 0:
            return text.count("\n", 0, at) + 1
    return 1


def _rez(row: dict[str, Any]) -> str:
    if row.get("id_can_rez"):
        return "permanent"
    return "temporary" if row.get("id_can_rez_tmp") else "none"


def _caps(row: dict[str, Any]) -> list[str]:
    # Overte's "kick" removes the avatar's connect permission: it is a kick and a ban.
    return ["ban", "kick"] if row.get("id_can_kick") else []


def _rows(text: str, security: dict[str, Any], table: str) -> list[dict[str, Any]]:
    rows = security.get(table, [])
    if not isinstance(rows, list):
        raise ImportRefused(_line(text, f'"{table}"'), f"security.{table} is not a list")
    for i, row in enumerate(rows):
        where = f"security.{table}[{i}]"
        if not isinstance(row, dict) or not isinstance(row.get("permissions_id"), str):
            raise ImportRefused(_line(text, f'"{table}"'), f"{where} has no permissions_id")
        for key, value in row.items():
            if key.startswith("id_can_") and not isinstance(value, bool):
                line = _line(text, f'"permissions_id": "{row["permissions_id"]}"', f'"{table}"')
                raise ImportRefused(line, f"{where}.{key} is not true or false")
    return rows


def _unmapped_flags(where: str, row: dict[str, Any]) -> list[str]:
    return [
        f"{where}: {flag} has no equivalent ({why})"
        for flag, why in FLAGS_WITHOUT_EQUIVALENT.items()
        if row.get(flag)
    ]


def _tmp_lifetime(text: str, data: dict[str, Any]) -> float | None:
    settings = data.get("entity_server_settings", {})
    if not isinstance(settings, dict) or "maxTmpLifetime" not in settings:
        return None
    raw = settings["maxTmpLifetime"]
    try:
        value = float(raw)
    except (TypeError, ValueError):
        value = math.nan
    if isinstance(raw, bool) or not math.isfinite(value) or value <= 0:
        line = _line(text, '"maxTmpLifetime"')
        raise ImportRefused(line, "entity_server_settings.maxTmpLifetime is not seconds")
    return value


def read_overte(text: str, now: float) -> ImportPlan:
    """Map an Overte settings file: standard permissions of `anonymous` to the visitor role,
    per-user rows whose id is a token to [members] (or a ban, without can-connect), the
    temporary-entity lifetime to [domain]; everything else is listed as unmapped."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ImportRefused(exc.lineno, f"not JSON: {exc.msg}") from None
    if not isinstance(data, dict):
        raise ImportRefused(1, "not a JSON object (an Overte settings file is one)")
    security = data.get("security", {})
    if not isinstance(security, dict):
        raise ImportRefused(_line(text, '"security"'), "security is not an object")
    tables = {name: _rows(text, security, name) for name in TABLES}
    lifetime = _tmp_lifetime(text, data)
    unmapped: list[str] = []
    domain = {"access": "open"}
    visitor: dict[str, Any] | None = None
    for i, row in enumerate(tables["standard_permissions"]):
        who = row["permissions_id"]
        where = f"security.standard_permissions[{i}] {who!r}"
        if who != "anonymous":
            why = {
                "localhost": "permissions by network address do not exist here",
                "logged-in": "there are no accounts here: every visitor is a key, as Overte's "
                "anonymous is, so the visitor role comes from anonymous",
                "friends": "there are no metaverse friends here",
            }.get(who, "no class of user by that name here")
            unmapped.append(f"{where}: not mapped ({why})")
            continue
        visitor = {"rez": _rez(row), "caps": _caps(row)}
        if not row.get("id_can_connect", False):
            domain["access"] = "whitelist"
        unmapped += _unmapped_flags(where, row)
    roles: dict[str, dict[str, Any]] = {}
    members: dict[str, str] = {}
    bans: dict[str, ImportedBan] = {}
    for i, row in enumerate(tables["permissions"]):
        who = row["permissions_id"]
        where = f"security.permissions[{i}] {who!r}"
        if not is_token(who):
            what = "a ban by username" if not row.get("id_can_connect", False) else "a username"
            unmapped.append(f"{where}: {what} has no token (avatars are known here only by "
                            "the token of their key)")  # fmt: skip
            continue
        if not row.get("id_can_connect", False):
            bans[who] = ImportedBan(who, _REASON, None)
            continue
        rez, caps = _rez(row), _caps(row)
        name = "overte-" + rez + ("-kick" if caps else "")
        roles[name] = {"rez": rez, "caps": caps}
        members[who] = name
        unmapped += _unmapped_flags(where, row)
    for table, what in _BY_ADDRESS.items():
        for i, row in enumerate(tables[table]):
            kind = "a ban by" if not row.get("id_can_connect", False) else "permissions for"
            unmapped.append(f"security.{table}[{i}] {row['permissions_id']!r}: {kind} {what} "
                            "has no token")  # fmt: skip
    for table in ("group_permissions", "group_forbiddens"):
        for i, row in enumerate(tables[table]):
            name = row["permissions_id"]
            unmapped.append(f"security.{table}[{i}] {name!r}: metaverse groups have no "
                            "equivalent here (groups here are lists of tokens)")  # fmt: skip
    permissions = _toml(domain, lifetime, visitor, roles, members)
    parse_policy(permissions, "<imported>")  # what we write is always a valid file
    return ImportPlan(tuple(bans.values()), rows=len(tables["permissions"]),
                      unmapped=tuple(unmapped), permissions=permissions)  # fmt: skip


def _toml(
    domain: dict[str, str],
    lifetime: float | None,
    visitor: dict[str, Any] | None,
    roles: dict[str, dict[str, Any]],
    members: dict[str, str],
) -> str:
    def caps(c: list[str]) -> str:
        return "[" + ", ".join(f'"{x}"' for x in c) + "]"

    lines = [
        "# Mapped from an Overte / Vircadia domain-server settings file by `domainserver import`.",
        "[domain]",
        'id = "imported"            # choose this domain\'s id',
        f'access = "{domain["access"]}"',
    ]
    if lifetime is not None:
        lines += [f"max_temp_lifetime = {lifetime:g}",
                  f"default_temp_lifetime = {min(60.0, lifetime):g}"]  # fmt: skip
    if visitor is not None:
        lines += ["", "[roles.visitor]", f'rez = "{visitor["rez"]}"',
                  f"caps = {caps(visitor['caps'])}"]  # fmt: skip
    for name, role in sorted(roles.items()):
        lines += ["", f"[roles.{name}]", f'rez = "{role["rez"]}"', f"caps = {caps(role['caps'])}",
                  "rank = 10"]  # fmt: skip
    if members:
        lines += ["", "[members]"] + [f'"{t}" = "{r}"' for t, r in sorted(members.items())]
    return "\n".join(lines) + "\n"
