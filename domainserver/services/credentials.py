"""Delegated-group credentials over a session's life: its grant follows them, so a session
loses a group's role the moment the credential that proved it expires (or a reload makes
it count no more), and is closed if without it the domain no longer admits it."""

from __future__ import annotations

import asyncio
import logging

from permissions import check_credentials

from .domain import Domain
from .moderation import kick
from .sessions import Session

__all__ = ["follow_credentials", "forget_credentials", "regrant"]

log = logging.getLogger(__name__)


def follow_credentials(domain: Domain, session: Session, expires_at: float | None) -> None:
    """Re-grant `session` when its earliest counting credential expires (`None`: none)."""
    forget_credentials(session)
    if expires_at is None:
        return
    delay = max(0.0, expires_at - domain.clock())
    session.credential_timer = asyncio.get_running_loop().call_later(
        delay, _expired, domain, session
    )


def forget_credentials(session: Session) -> None:
    """Stop following a session's credentials (it has left)."""
    timer = session.credential_timer
    if timer is not None:
        timer.cancel()
        session.credential_timer = None


def _expired(domain: Domain, session: Session) -> None:
    session.credential_timer = None
    if session.closing or session not in domain.sessions.of_token(session.token):
        return
    regrant(domain, session, "credential expired")


def regrant(domain: Domain, session: Session, why: str) -> None:
    """Verify the session's credentials again under the current policy and time, and apply
    the grant they now give: a new role, or a 4003 close when the domain no longer admits
    the avatar. Follows the next expiry."""
    check = check_credentials(domain.policy, session.credentials, session.token, domain.clock())
    before = session.grant.role.name
    session.credential_groups = check.groups
    session.grant = domain.grant_for(session.token, check.groups)
    if not session.grant.may_connect:
        forget_credentials(session)
        log.info(
            "%s: %s no longer admitted; closing",
            why,
            session.token,
            extra={"event": "demote", "token": session.token, "role": None, "why": why},
        )
        kick(domain, session.token, "this domain no longer admits you", code=4003)
        return
    after = session.grant.role.name
    if after != before:
        log.info(
            "%s: %s role %s -> %s",
            why,
            session.token,
            before,
            after,
            extra={"event": "demote", "token": session.token, "role": after, "why": why},
        )
    follow_credentials(domain, session, check.expires_at)
