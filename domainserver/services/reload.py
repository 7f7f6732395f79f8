"""Live policy reload: on SIGHUP or a change to the file, the new policy applies at once to
new requests and to connected sessions; a bad file is refused and the last good one stays."""

from __future__ import annotations

import asyncio
import logging
import os
from importlib import resources
from typing import Any

from permissions import PolicyError, describe_changes, load_policy

from .credentials import regrant
from .domain import Domain
from .evidence import read_log

__all__ = ["reload_policy", "watch_policy_file", "last_reload", "policy_source"]

log = logging.getLogger(__name__)

MAX_SHOWN = 1 << 20
"""Characters of the permissions file shown at most (a file is rarely over a few KiB)."""


def reload_policy(domain: Domain, trigger: str = "file change", actor: str | None = None) -> bool:
    """Load the permissions file again and apply it; False (and logged) when it is refused,
    or when the server runs on the embedded default (there is no file to read). `actor` is
    who asked (an operator's `api:NAME`), recorded in the room log; None: the server."""
    path = domain.config.permissions_path
    if path is None:
        log.info(
            "%s: running on the embedded default policy, nothing to reload "
            "(start with --permissions FILE to use your own)",
            trigger,
        )
        return False
    try:
        new = load_policy(path)
    except PolicyError as exc:
        log.error(
            "%s: permissions file refused; keeping the last good policy:\n%s",
            trigger,
            exc,
            extra={"event": "reload_refused", "problems": [str(p) for p in exc.problems]},
        )
        domain.roomlog.record("policy_refused", actor, path, {"problems": str(exc).splitlines()})
        return False
    changes = describe_changes(domain.policy, new)
    domain.policy = new
    for session in domain.sessions:
        regrant(domain, session, "reload")
    domain.roomlog.record("policy_reload", actor, path, {"changes": changes})
    log.info(
        "%s: permissions reloaded from %s: %s",
        trigger,
        path,
        "; ".join(changes[:20] + [f"... {len(changes) - 20} more"] * (len(changes) > 20))
        or "no changes",
        extra={"event": "reload", "changes": changes},
    )
    return True


async def last_reload(domain: Domain) -> dict[str, Any] | None:
    """The room log's newest `policy_reload` or `policy_refused` record (its `changes`, or
    its `problems` as FILE:LINE: reason lines), or None when there has been none."""
    found = await read_log(domain, limit=1, kinds=("policy_reload", "policy_refused"))
    return found[0] if found else None


def policy_source(domain: Domain) -> tuple[str | None, str]:
    """(the permissions file's path, or None for the embedded default; its text as it is
    on disk now, which may be newer than the policy in force if a reload was refused)."""
    path = domain.config.permissions_path
    if path is None:
        return None, resources.files("permissions").joinpath("default.toml").read_text()
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return path, f.read(MAX_SHOWN)
    except OSError as exc:
        return path, f"(cannot read {path}: {exc.strerror or exc})"


def _signature(path: str) -> tuple[float, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size)


async def watch_policy_file(domain: Domain) -> None:
    """Poll the file's mtime and size; cheap, portable, and needs no extra dependency."""
    path = domain.config.permissions_path
    if path is None:
        return
    last = _signature(path)
    while True:
        await asyncio.sleep(domain.config.watch_interval)
        current = _signature(path)
        if current is not None and current != last:
            last = current
            reload_policy(domain)
