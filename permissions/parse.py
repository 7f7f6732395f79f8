"""Turns permissions-file text into a frozen Policy, or refuses it with every problem located
(file, line, dotted key, hint): the operator fixes the whole file in one round."""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

from entities.tokens import TOKEN_SHAPE, is_token
from permissions import _schema as S
from permissions._check import Checker, hint, number_text
from permissions.credentials import decode_public_key
from permissions.feeds import read_banfeed, read_feeds
from permissions.model import (
    KNOWN_CAPS,
    KNOWN_SCOPES,
    ApiKey,
    DomainSettings,
    Group,
    Policy,
    PolicyError,
    Problem,
    Role,
    TokenList,
)

__all__ = ["parse_policy", "load_policy", "default_policy"]

_TOML_POSITION = re.compile(r"\s*\(at line (\d+), column (\d+)\)")
_NAME = re.compile(S.NAME_PATTERN)
_SHA256 = re.compile(r"[0-9a-f]{64}")
_URL_PREFIX = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^/\s?#]+/\S*")
_NOT_TOKEN = f"is not a token ({TOKEN_SHAPE})"


def load_policy(path: str | os.PathLike[str]) -> Policy:
    """Read and validate the permissions file at `path`; PolicyError if unreadable or invalid."""
    name = os.fspath(path)
    try:
        raw = Path(name).read_bytes()
    except OSError as exc:
        raise PolicyError([Problem(name, 1, f"cannot read file: {exc.strerror or exc}")]) from exc
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise PolicyError([Problem(name, line, "not UTF-8 text")]) from exc
    return parse_policy(text, name)


def default_policy() -> Policy:
    """The embedded default (an open sandbox), used when no file is given."""
    text = resources.files("permissions").joinpath("default.toml").read_text(encoding="utf-8")
    return parse_policy(text, "<default permissions>")


def parse_policy(text: str, path: str = "<string>") -> Policy:
    """Validate permissions-file `text` (named `path` in problems) and build its Policy.

    Raises PolicyError listing every problem found, in file order."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        found = _TOML_POSITION.search(message)
        line = int(found.group(1)) if found else 1
        if found:
            message = f"{message[: found.start()]} (column {found.group(2)})"
        raise PolicyError([Problem(path, line, f"TOML syntax: {message}")]) from exc
    return _Builder(Checker(text, path), data).build(path)


class _Builder:
    """One validation pass; each `_read_*` records problems and returns usable values."""

    def __init__(self, check: Checker, data: dict[str, Any]) -> None:
        self.c = check
        self.data = data

    def build(self, path: str) -> Policy:
        c, data = self.c, self.data
        c.known_keys(data, (), S.TOP_LEVEL)
        domain = self._read_domain()
        roles = self._read_roles()
        members = self._read_members(roles)
        groups = self._read_groups(roles)
        lists = {
            name: self._read_lists(name, keys, groups)
            for name, keys in (
                ("rez", S.LIST_KEYS),
                ("scripts", S.SCRIPTS_KEYS),
                ("access", S.ACCESS_KEYS),
            )
        }
        sources = self._read_sources()
        api_keys = self._read_api_keys()
        feeds, publish = read_feeds(c, data), read_banfeed(c, data)
        if not c.ok:
            raise PolicyError(c.problems())

        token_groups: dict[str, set[str]] = {}
        for group in groups.values():
            for token in group.members:
                token_groups.setdefault(token, set()).add(group.name)
        return Policy(
            domain=domain,
            roles=roles,
            path=path,
            members=members,
            groups=groups,
            rez_whitelist=lists["rez"]["whitelist"],
            rez_blacklist=lists["rez"]["blacklist"],
            scripts_whitelist=lists["scripts"]["whitelist"],
            scripts_blacklist=lists["scripts"]["blacklist"],
            script_sources=tuple(sources),
            access_blacklist=lists["access"]["blacklist"],
            api_keys=api_keys,
            token_groups={t: frozenset(g) for t, g in token_groups.items()},
            key_index={k.sha256: k for k in api_keys.values()},
            feeds=feeds,
            publish=publish,
        )

    def _section(self, key: str) -> dict[str, Any]:
        if key not in self.data:
            return {}
        return self.c.table(self.data[key], (key,)) or {}

    # -- [domain] ------------------------------------------------------------------------
    def _read_domain(self) -> DomainSettings:
        c, where = self.c, ("domain",)
        values: dict[str, Any] = dict(S.DOMAIN_DEFAULTS, id="")
        if "domain" not in self.data:
            c.problem((), 'missing required table [domain] (with at least id = "...")')
            table: dict[str, Any] = {}
        else:
            table = c.table(self.data["domain"], where) or {}
            if isinstance(self.data["domain"], dict) and "id" not in table:
                c.problem(where, 'missing required key "id"')
        c.known_keys(table, where, S.DOMAIN_KEYS)
        if "id" in table and (got := c.string(table, "id", where)) is not None:
            if got.strip():
                values["id"] = got
            else:
                c.problem(where + ("id",), "must not be empty")
        if "access" in table and (got := c.choice(table, "access", where, S.ACCESS_MODES)):
            values["access"] = got
        for key in ("max_temp_lifetime", "default_temp_lifetime", "lineage_rez_per_second"):
            unit = " of seconds" if key.endswith("lifetime") else ""
            if key in table:
                got = c.number(table, key, where, positive=True, unit=unit)
                if got is not None:
                    values[key] = got
        cap, default = values["max_temp_lifetime"], values["default_temp_lifetime"]
        if default > cap:
            c.problem(
                where + ("default_temp_lifetime",),
                f"{number_text(default)} is above max_temp_lifetime {number_text(cap)}",
            )
        return DomainSettings(
            id=values["id"],
            access=values["access"],
            max_temp_lifetime=float(cap),
            default_temp_lifetime=float(default),
            lineage_rez_per_second=float(values["lineage_rez_per_second"]),
        )

    # -- [roles] -------------------------------------------------------------------------
    def _read_roles(self) -> dict[str, Role]:
        c = self.c
        section = self._section("roles")
        tables: dict[str, dict[str, Any]] = {}
        for name, value in section.items():
            if not _NAME.fullmatch(name):
                c.problem(
                    ("roles", name), "role names use only letters, digits, _ and - (at most 64)"
                )
            table = c.table(value, ("roles", name))
            tables[name] = table if table is not None else {}
        visitor = self._read_role("visitor", tables.get("visitor", {}), S.BUILTIN_VISITOR)
        base = _role_values(visitor, rank=0)
        roles = {"visitor": visitor}
        for name, table in tables.items():
            if name != "visitor":
                roles[name] = self._read_role(name, table, base)
        return roles

    def _read_role(self, name: str, table: dict[str, Any], base: Mapping[str, Any]) -> Role:
        c, where = self.c, ("roles", name)
        c.known_keys(table, where, S.ROLE_KEYS)
        v = dict(base)
        readers = {
            "rez": lambda: c.choice(table, "rez", where, S.REZ_MODES),
            "scripts": lambda: c.boolean(table, "scripts", where),
            "max_entities": lambda: c.integer(table, "max_entities", where),
            "rez_per_second": lambda: c.number(table, "rez_per_second", where, positive=False),
            "chat_per_second": lambda: c.number(table, "chat_per_second", where, positive=False),
            "caps": lambda: self._read_names(table, "caps", where, KNOWN_CAPS, "cap"),
            "rank": lambda: c.integer(table, "rank", where),
        }
        for key, read in readers.items():
            if key in table and (got := read()) is not None:
                v[key] = got
        return Role(
            name=name,
            rez=v["rez"],
            scripts=v["scripts"],
            max_entities=v["max_entities"],
            rez_per_second=float(v["rez_per_second"]),
            chat_per_second=float(v["chat_per_second"]),
            caps=frozenset(v["caps"]),
            rank=v["rank"],
        )

    def _read_names(
        self,
        table: dict[str, Any],
        key: str,
        where: tuple[str, ...],
        known: frozenset[str],
        what: str,
    ) -> list[str] | None:
        items = self.c.strings(table, key, where)
        if items is None:
            return None
        unknown = [i for i in items if i not in known]
        for item in unknown:
            self.c.problem(where + (key,), f'unknown {what} "{item}"' + hint(item, known))
        return None if unknown else items

    def _role_ref(
        self, table: dict[str, Any], key: str, where: tuple[str, ...], roles: Mapping[str, Role]
    ) -> str | None:
        name = self.c.string(table, key, where)
        if name is None or name in roles:
            return name
        known = ", ".join(sorted(roles))
        close = hint(name, roles, list_known=False)
        self.c.problem(where + (key,), f'unknown role "{name}" (known: {known}){close}')
        return None

    # -- [members] and [groups] ----------------------------------------------------------
    def _read_members(self, roles: Mapping[str, Role]) -> dict[str, str]:
        c = self.c
        members: dict[str, str] = {}
        for token, _ in self._section("members").items():
            where = ("members",)
            if not is_token(token):
                c.problem(where + (token,), f'members: "{token}" {_NOT_TOKEN}', prefix=False)
                continue
            role = self._role_ref(self.data["members"], token, where, roles)
            if role is not None:
                members[token] = role
        return members

    def _read_groups(self, roles: Mapping[str, Role]) -> dict[str, Group]:
        c = self.c
        groups: dict[str, Group] = {}
        for order, (name, value) in enumerate(self._section("groups").items()):
            where = ("groups", name)
            if not _NAME.fullmatch(name):
                c.problem(where, "group names use only letters, digits, _ and - (at most 64)")
            table = c.table(value, where)
            if table is None:
                continue
            c.known_keys(table, where, S.GROUP_KEYS)
            role = None
            if "role" not in table:
                c.problem(where, 'missing required key "role"')
            else:
                role = self._role_ref(table, "role", where, roles)
            tokens: list[str] = []
            if "members" in table:
                tokens = c.strings(table, "members", where) or []
                for bad in (t for t in tokens if not is_token(t)):
                    c.problem(where + ("members",), f'"{bad}" {_NOT_TOKEN}')
            signer = None
            if "signer" in table and (signer := c.string(table, "signer", where)) is not None:
                try:
                    decode_public_key(signer)
                except ValueError:
                    c.problem(
                        where + ("signer",),
                        f'"{signer}" is not a valid ed25519 public key (expected "ed25519:" and 43 '
                        "base64url characters, as printed by `domainserver keygen`)",
                    )
            groups[name] = Group(
                name=name,
                role=role or "visitor",
                members=frozenset(tokens),
                signer=signer,
                order=order,
            )
        return groups

    # -- [rez], [scripts], [access] ------------------------------------------------------
    def _read_lists(
        self, section: str, keys: tuple[str, ...], groups: Mapping[str, Any]
    ) -> dict[str, TokenList]:
        c = self.c
        table = self._section(section)
        c.known_keys(table, (section,), keys)
        out = {"whitelist": TokenList(), "blacklist": TokenList()}
        for key in ("whitelist", "blacklist"):
            if key not in table or key not in keys:
                continue
            items = c.strings(table, key, (section,)) or []
            tokens, refs = set(), set()
            for item in items:
                if item.startswith("group:"):
                    name = item[len("group:") :]
                    if name in groups:
                        refs.add(name)
                    else:
                        close = hint(item, [f"group:{g}" for g in groups], list_known=False)
                        c.problem((section, key), f'unknown group "{item}"{close}')
                elif is_token(item):
                    tokens.add(item)
                else:
                    c.problem((section, key), f'"{item}" {_NOT_TOKEN} nor "group:NAME"')
            out[key] = TokenList(tokens=frozenset(tokens), groups=frozenset(refs))
        return out

    def _read_sources(self) -> list[str]:
        table = self.data.get("scripts")
        if not isinstance(table, dict) or "sources" not in table:
            return []
        items = self.c.strings(table, "sources", ("scripts",)) or []
        for item in items:
            if not _URL_PREFIX.fullmatch(item):
                self.c.problem(
                    ("scripts", "sources"),
                    f'"{item}" is not a URL prefix with a scheme, host and "/" after the host, '
                    'e.g. "https://scripts.example/" (without the "/", "https://scripts.example" '
                    'would also admit "https://scripts.example.evil/")',
                )
        return items

    # -- [api_keys] ----------------------------------------------------------------------
    def _read_api_keys(self) -> dict[str, ApiKey]:
        c = self.c
        keys: dict[str, ApiKey] = {}
        seen: dict[str, str] = {}
        for name, value in self._section("api_keys").items():
            where = ("api_keys", name)
            if not _NAME.fullmatch(name):
                c.problem(where, "api key names use only letters, digits, _ and - (at most 64)")
            table = c.table(value, where)
            if table is None:
                continue
            c.known_keys(table, where, S.API_KEY_KEYS)
            for required in S.API_KEY_KEYS:
                if required not in table:
                    c.problem(where, f'missing required key "{required}"')
            digest = None
            if "sha256" in table and (digest := c.string(table, "sha256", where)) is not None:
                digest = digest.lower()
                if not _SHA256.fullmatch(digest):
                    c.problem(
                        where + ("sha256",),
                        "must be 64 hex characters (the SHA-256 of the key, not the key)",
                    )
                    digest = None
                elif digest in seen:
                    c.problem(where + ("sha256",), f"same key hash as api_keys.{seen[digest]}")
                else:
                    seen[digest] = name
            scopes = None
            if "scopes" in table:
                scopes = self._read_names(table, "scopes", where, KNOWN_SCOPES, "scope")
            if digest is not None and scopes is not None:
                keys[name] = ApiKey(name=name, sha256=digest, scopes=frozenset(scopes))
        return keys


def _role_values(role: Role, *, rank: int) -> dict[str, Any]:
    """A role's values as the defaults for another role's missing keys."""
    return {
        "rez": role.rez,
        "scripts": role.scripts,
        "max_entities": role.max_entities,
        "rez_per_second": role.rez_per_second,
        "chat_per_second": role.chat_per_second,
        "caps": sorted(role.caps),
        "rank": rank,
    }
