"""Human-readable views of policies: what a reload changed (for the room log) and a summary
for `domainserver check`. Tokens are shortened and key hashes never shown."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from permissions._check import number_text
from permissions.model import Policy, Role, TokenList

__all__ = ["describe_changes", "summary", "short_token"]

# Past this many member or group-member edits the log gets counts, not one line each.
_DETAIL_LIMIT = 20
_ROLE_FIELDS = ("rez", "scripts", "max_entities", "rez_per_second", "chat_per_second", "rank")


def short_token(token: str) -> str:
    """The first 8 characters and an ellipsis: enough to recognise, short enough to log."""
    return token[:8] + "…"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _value(v: object) -> str:
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        return number_text(v)
    return str(v)


def _set_delta(old: Iterable[str], new: Iterable[str]) -> str:
    old, new = set(old), set(new)
    parts = [f"+{x}" for x in sorted(new - old)] + [f"-{x}" for x in sorted(old - new)]
    return " ".join(parts)


def _role_line(role: Role) -> str:
    caps = ", ".join(sorted(role.caps)) or "none"
    return (
        f"role {role.name} (rank {role.rank}): rez {role.rez}, scripts {_value(role.scripts)}, "
        f"max {role.max_entities} entities, rez {_value(role.rez_per_second)}/s, "
        f"chat {_value(role.chat_per_second)}/s, caps {caps}"
    )


def _list_delta(label: str, old: TokenList, new: TokenList) -> list[str]:
    parts = []
    added, removed = len(new.tokens - old.tokens), len(old.tokens - new.tokens)
    if added:
        parts.append(f"+{_plural(added, 'token')}")
    if removed:
        parts.append(f"-{_plural(removed, 'token')}")
    parts += [f"+group:{g}" for g in sorted(new.groups - old.groups)]
    parts += [f"-group:{g}" for g in sorted(old.groups - new.groups)]
    return [f"{label} {' '.join(parts)}"] if parts else []


def _member_changes(old: Mapping[str, str], new: Mapping[str, str]) -> list[str]:
    if old == new:
        return []
    lines = []
    changed = [t for t in new if t in old and old[t] != new[t]]
    added = [t for t in new if t not in old]
    removed = [t for t in old if t not in new]
    if len(changed) + len(added) + len(removed) > _DETAIL_LIMIT:
        return [f"members: {len(added)} added, {len(removed)} removed, {len(changed)} changed role"]
    lines += [f"member {short_token(t)} role {old[t]} -> {new[t]}" for t in changed]
    lines += [f"member {short_token(t)} added as {new[t]}" for t in added]
    lines += [f"member {short_token(t)} removed (was {old[t]})" for t in removed]
    return lines


def describe_changes(old: Policy, new: Policy) -> list[str]:
    """Lines saying what `new` changes relative to `old`; empty when nothing that matters did."""
    lines: list[str] = []
    for field in (
        "id",
        "access",
        "max_temp_lifetime",
        "default_temp_lifetime",
        "lineage_rez_per_second",
    ):
        a, b = getattr(old.domain, field), getattr(new.domain, field)
        if a != b:
            lines.append(f"domain {field} {_value(a)} -> {_value(b)}")

    for name in new.roles.keys() - old.roles.keys():
        lines.append(f"{_role_line(new.roles[name])} (added)")
    for name in sorted(old.roles.keys() - new.roles.keys()):
        lines.append(f"role {name} removed")
    for name, role in new.roles.items():
        before = old.roles.get(name)
        if before is None or before == role:
            continue
        parts = [
            f"{f} {_value(getattr(before, f))} -> {_value(getattr(role, f))}"
            for f in _ROLE_FIELDS
            if getattr(before, f) != getattr(role, f)
        ]
        if before.caps != role.caps:
            parts.append(f"caps {_set_delta(before.caps, role.caps)}")
        lines.append(f"role {name}: {', '.join(parts)}")

    lines += _member_changes(old.members, new.members)

    for name, group in new.groups.items():
        before = old.groups.get(name)
        if before is None:
            lines.append(
                f"group {name} added: role {group.role}, {_plural(len(group.members), 'member')}"
                + (", signer" if group.signer else "")
            )
            continue
        parts = []
        if before.role != group.role:
            parts.append(f"role {before.role} -> {group.role}")
        added, removed = len(group.members - before.members), len(before.members - group.members)
        if added:
            parts.append(f"+{_plural(added, 'member')}")
        if removed:
            parts.append(f"-{_plural(removed, 'member')}")
        if before.signer != group.signer:
            parts.append(
                "signer added"
                if before.signer is None
                else "signer removed"
                if group.signer is None
                else "signer replaced"
            )
        if parts:
            lines.append(f"group {name}: {', '.join(parts)}")
    for name in old.groups.keys() - new.groups.keys():
        lines.append(f"group {name} removed")

    lines += _list_delta("access blacklist", old.access_blacklist, new.access_blacklist)
    lines += _list_delta("rez whitelist", old.rez_whitelist, new.rez_whitelist)
    lines += _list_delta("rez blacklist", old.rez_blacklist, new.rez_blacklist)
    lines += _list_delta("scripts whitelist", old.scripts_whitelist, new.scripts_whitelist)
    lines += _list_delta("scripts blacklist", old.scripts_blacklist, new.scripts_blacklist)
    if old.script_sources != new.script_sources:
        lines.append(f"scripts sources {_set_delta(old.script_sources, new.script_sources)}")

    for name, key in new.api_keys.items():
        before = old.api_keys.get(name)
        if before is None:
            lines.append(
                f"api key {name} added (scopes: {', '.join(sorted(key.scopes)) or 'none'})"
            )
            continue
        if before.scopes != key.scopes:
            lines.append(f"api key {name}: scopes {_set_delta(before.scopes, key.scopes)}")
        if before.sha256 != key.sha256:
            lines.append(f"api key {name}: key replaced")
    for name in old.api_keys.keys() - new.api_keys.keys():
        lines.append(f"api key {name} removed")
    for name in sorted(new.feeds.keys() | old.feeds.keys()):
        a, b = old.feeds.get(name), new.feeds.get(name)
        if a != b:
            what = "added" if a is None else "removed" if b is None else "changed"
            shown = b if b is not None else a
            assert shown is not None
            lines.append(f"feed {name} {what}: {shown.action} from {shown.url}")
    if old.publish != new.publish:
        lines.append(f"banfeed publish {_value(old.publish)} -> {_value(new.publish)}")
    return lines


def summary(policy: Policy) -> list[str]:
    """Lines describing `policy` for an operator checking a file; no key hashes."""
    d = policy.domain
    lines = [
        f"domain {d.id}: access {d.access}, temporary entities {_value(d.default_temp_lifetime)} s "
        f"by default, at most {_value(d.max_temp_lifetime)} s; "
        f"lineage rez {_value(d.lineage_rez_per_second)}/s",
    ]
    lines += [_role_line(role) for role in policy.roles.values()]
    per_role: dict[str, int] = {}
    for role in policy.members.values():
        per_role[role] = per_role.get(role, 0) + 1
    detail = ", ".join(f"{r}: {n}" for r, n in sorted(per_role.items()))
    lines.append(f"members: {len(policy.members)}" + (f" ({detail})" if detail else ""))
    for group in policy.groups.values():
        lines.append(
            f"group {group.name}: role {group.role}, {_plural(len(group.members), 'member')}, "
            f"signer {'yes' if group.signer else 'no'}"
        )
    for label, tl in (
        ("access blacklist", policy.access_blacklist),
        ("rez whitelist", policy.rez_whitelist),
        ("rez blacklist", policy.rez_blacklist),
        ("scripts whitelist", policy.scripts_whitelist),
        ("scripts blacklist", policy.scripts_blacklist),
    ):
        if tl:
            refs = "".join(f", group:{g}" for g in sorted(tl.groups))
            lines.append(f"{label}: {_plural(len(tl.tokens), 'token')}{refs}")
    if policy.script_sources:
        lines.append(f"scripts sources: {', '.join(policy.script_sources)}")
    for key in policy.api_keys.values():
        lines.append(f"api key {key.name}: {', '.join(sorted(key.scopes)) or 'no scopes'}")
    return lines
