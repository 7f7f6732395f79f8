"""The frozen values a permissions file becomes: domain settings, roles, the policy and the
grant it resolves for one token. Decisions here are pure functions of these values."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

import attrs

from permissions.feeds import FeedConfig

__all__ = [
    "KNOWN_CAPS",
    "KNOWN_SCOPES",
    "DomainSettings",
    "Role",
    "Grant",
    "Group",
    "TokenList",
    "ApiKey",
    "Policy",
    "Problem",
    "PolicyError",
]

KNOWN_CAPS = frozenset(
    {"kick", "ban", "find", "remove", "locate", "edit_any", "reports", "audit"}
)
KNOWN_SCOPES = frozenset(
    {
        "blacklist:read",
        "bans:read",
        "bans:write",
        "entities:read",
        "entities:write",
        "avatars:read",
        "avatars:write",
        "log:read",
        "reports:read",
        "reports:write",
        "metrics:read",
        "policy:read",
        "policy:write",
    }
)


@attrs.frozen
class Problem:
    """One thing wrong with a permissions file, located for the operator."""

    path: str
    line: int
    reason: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.reason}"


class PolicyError(Exception):
    """A permissions file was refused; `problems` lists every reason, in file order."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


@attrs.frozen
class DomainSettings:
    """The `[domain]` table."""

    id: str
    access: str
    max_temp_lifetime: float
    default_temp_lifetime: float
    lineage_rez_per_second: float


@attrs.frozen
class Role:
    """One `[roles.NAME]` table with every missing key filled from the visitor role."""

    name: str
    rez: str
    scripts: bool
    max_entities: int
    rez_per_second: float
    chat_per_second: float
    caps: frozenset[str]
    rank: int


@attrs.frozen
class Group:
    """One `[groups.NAME]` table; `order` is its position in the file (ties in rank)."""

    name: str
    role: str
    members: frozenset[str]
    signer: str | None
    order: int


@attrs.frozen
class TokenList:
    """A whitelist or blacklist: plain tokens plus `group:NAME` references."""

    tokens: frozenset[str] = frozenset()
    groups: frozenset[str] = frozenset()

    def __bool__(self) -> bool:
        return bool(self.tokens or self.groups)

    def admits(self, token: str, token_groups: frozenset[str]) -> bool:
        """True when `token`, or one of the groups it is in, is on the list."""
        return token in self.tokens or not self.groups.isdisjoint(token_groups)


@attrs.frozen
class ApiKey:
    """One `[api_keys.NAME]` table; only the key's hash is ever known."""

    name: str
    sha256: str
    scopes: frozenset[str]


@attrs.frozen
class Grant:
    """What one token may do under one policy; the server resolves it at hello and again
    after each reload."""

    token: str
    role: Role
    groups: frozenset[str]
    may_connect: bool
    may_rez: bool
    may_script: bool

    def has(self, cap: str) -> bool:
        """True when the grant's role carries capability `cap`."""
        return cap in self.role.caps


@attrs.frozen(eq=False)
class Policy:
    """A validated permissions file. Build it only with parse_policy, load_policy or
    default_policy; every lookup index is precomputed there."""

    domain: DomainSettings
    roles: Mapping[str, Role]
    path: str | None
    members: Mapping[str, str]
    groups: Mapping[str, Group]
    rez_whitelist: TokenList
    rez_blacklist: TokenList
    scripts_whitelist: TokenList
    scripts_blacklist: TokenList
    script_sources: tuple[str, ...]
    access_blacklist: TokenList
    api_keys: Mapping[str, ApiKey]
    # token -> names of the file groups it is in; built once so grant_for never scans groups.
    _token_groups: Mapping[str, frozenset[str]] = attrs.field(repr=False)
    _key_index: Mapping[str, ApiKey] = attrs.field(repr=False)
    # v1.1 ban lists across domains: `[feeds.NAME]` subscriptions and what `[banfeed]` publishes.
    feeds: Mapping[str, FeedConfig] = attrs.field(factory=dict)
    publish: str = "all"

    @property
    def visitor(self) -> Role:
        """The role of every token without another one."""
        return self.roles["visitor"]

    def groups_of(self, token: str) -> frozenset[str]:
        """Names of the file groups `token` is a member of."""
        return self._token_groups.get(token, frozenset())

    def grant_for(self, token: str, credential_groups: frozenset[str] = frozenset()) -> Grant:
        """Resolve what `token` may do. `credential_groups` are group names already proven by
        verify_credentials; names this policy does not know, or whose group has no signer,
        are ignored. Cost is proportional to the token's groups, not to the file's size."""
        groups = self._token_groups.get(token, frozenset())
        if credential_groups:
            proven = {
                name
                for name in credential_groups
                if (g := self.groups.get(name)) is not None and g.signer is not None
            }
            if proven:
                groups = groups | proven
        role_name = self.members.get(token)
        if role_name is None and groups:
            best = min((self.groups[n] for n in groups), key=self._group_precedence)
            role_name = best.role
        role = self.roles[role_name or "visitor"]

        may_connect = not self.access_blacklist.admits(token, groups)
        if may_connect and self.domain.access == "whitelist":
            may_connect = token in self.members or bool(groups)
        may_rez = (
            role.rez != "none"
            and not self.rez_blacklist.admits(token, groups)
            and (not self.rez_whitelist or self.rez_whitelist.admits(token, groups))
        )
        may_script = (
            role.scripts
            and not self.scripts_blacklist.admits(token, groups)
            and (not self.scripts_whitelist or self.scripts_whitelist.admits(token, groups))
        )
        return Grant(
            token=token,
            role=role,
            groups=groups,
            may_connect=may_connect,
            may_rez=may_rez,
            may_script=may_script,
        )

    def protected_from(self, target: str, rank: int) -> Role | None:
        """The role that shields `target` from an operator whose role has `rank`: a token
        the file names in `[members]` is protected from roles of equal or lower rank (the
        operator's file decides ranks). None when the operator may act on it."""
        role_name = self.members.get(target)
        if role_name is None:
            return None
        role = self.roles[role_name]
        return role if role.rank >= rank else None

    def _group_precedence(self, group: Group) -> tuple[int, int]:
        # Highest rank first; among equal ranks the group declared first in the file.
        return (-self.roles[group.role].rank, group.order)

    def script_source_allowed(self, source: str) -> bool:
        """True when `source` starts with one of `[scripts] sources` (or that list is empty)."""
        if not self.script_sources:
            return True
        return isinstance(source, str) and source.startswith(self.script_sources)

    def api_key(self, key: str) -> ApiKey | None:
        """The `[api_keys]` entry of a key presented in full; None when no entry has its
        SHA-256. The lookup is by hash, so the secret itself is never compared."""
        if not isinstance(key, str) or not key:
            return None
        return self._key_index.get(hashlib.sha256(key.encode("utf-8")).hexdigest())

    def scopes_for_key(self, key: str) -> frozenset[str] | None:
        """Scopes of an API key presented in full; None when it is unknown."""
        found = self.api_key(key)
        return None if found is None else found.scopes

