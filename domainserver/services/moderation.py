"""The operators' powers over the world and its avatars: find, remove, kick, locate.

Both the WebSocket ops and the operator HTTP API call these after checking the caller's
capability; every action lands in the room log with actor, target, reason and time.
(Bans are in `bans`.)
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable
from typing import Any

import attrs

from entities import Entity, fields
from entities.errors import BadRequest, NotAllowed, NotFound

from .commits import Committing
from .domain import Domain
from .entities import forget, forget_owned

__all__ = [
    "FindQuery",
    "find",
    "remove",
    "kick",
    "kick_logged",
    "locate",
    "close_reason",
    "check_rank",
    "owner_counts",
]


def check_rank(
    domain: Domain, actor: str, rank: int | None, targets: Iterable[str | None], action: str
) -> None:
    """Refuse, and log the refusal, when a target is a `[members]` token whose role's rank
    is at least the operator's: a moderator cannot ban the domain's owner or a fellow
    moderator. `rank` None is an API key: the holder of the permissions file itself."""
    if rank is None:
        return
    for target in dict.fromkeys(t for t in targets if t is not None):
        shield = domain.policy.protected_from(target, rank)
        if shield is not None:
            why = (
                f"{target} is a member with role {shield.name} (rank {shield.rank}); "
                f"{action} needs a higher rank, and yours is {rank}"
            )
            domain.roomlog.record("refused", actor, target, {"action": action, "why": why})
            raise NotAllowed(why)


@attrs.frozen
class FindQuery:
    owner: str | None = None
    creator: str | None = None
    area: tuple[tuple[float, float, float], float] | None = None
    invisible: bool | None = None

    @classmethod
    def from_args(cls, args: dict[str, Any]) -> FindQuery:
        area = args.get("area")
        if area is not None:
            if not isinstance(area, dict) or set(area) != {"center", "radius"}:
                raise BadRequest("area must be {center: [x, y, z], radius: r}")
            area = (fields.vec3(area["center"], "area.center"), fields.radius(area["radius"]))
        invisible = args.get("invisible")
        if invisible is not None:
            invisible = fields.boolean(invisible, "invisible")
        owner, creator = args.get("owner"), args.get("creator")
        return cls(
            owner=None if owner is None else fields.token(owner, "owner"),
            creator=None if creator is None else fields.token(creator, "creator"),
            area=area,
            invisible=invisible,
        )

    def matches(self, e: Entity) -> bool:
        if self.owner is not None and e.owner != self.owner:
            return False
        if self.creator is not None and e.creator != self.creator:
            return False
        if self.invisible is not None and e.visible == self.invisible:
            return False
        if self.area is not None:
            center, radius = self.area
            if e.distance2(center) > radius * radius:
                return False
        return True


def find(
    domain: Domain, query: FindQuery, limit: int, after: str | None
) -> tuple[list[Entity], str | None]:
    """Entities matching every criterion, by id order, read from the narrowest index."""
    world = domain.world
    # The narrowest index that applies, and whether it alone answers the whole query.
    if query.owner is not None:
        ids: Any = world.owned_by(query.owner)
        exact = query == FindQuery(owner=query.owner)
    elif query.creator is not None:
        ids = world.created_by(query.creator)
        exact = query == FindQuery(creator=query.creator)
    elif query.area is not None:
        ids = [e.id for e in world.in_area(*query.area)]
        exact = query == FindQuery(area=query.area)
    elif query.invisible:
        ids = world.invisible_ids()
        exact = query == FindQuery(invisible=True)
    else:
        ids = world.all_ids()
        exact = query.invisible is None
    if after is not None:
        ids = [i for i in ids if i > after]
    if not exact:
        ids = [i for i in ids if query.matches(world.get(i))]  # type: ignore[arg-type]
    # The next limit + 1 by id: a full sort only when the page takes most of them.
    chosen = sorted(ids) if len(ids) <= 2 * limit else heapq.nsmallest(limit + 1, ids)
    page = [world.get(i) for i in chosen[:limit]]
    return page, (chosen[limit - 1] if len(chosen) > limit else None)  # type: ignore[return-value]


def remove(
    domain: Domain,
    actor: str,
    *,
    ids: list[str] | None = None,
    owner: str | None = None,
    creator: str | None = None,
    reason: str = "",
    rank: int | None,
) -> Committing:
    """Remove entities by id, or everything of an owner or of a creator, once committed;
    refused when one of them belongs to a member the operator does not outrank."""
    world = domain.world
    if ids is not None:
        target_desc, by = f"{len(ids)} ids", "ids"
        found = [e for e in map(domain.pending.latest, dict.fromkeys(ids)) if e is not None]
        check_rank(domain, actor, rank, (e.owner for e in found), "remove")
        chosen = [e.id for e in found]
    elif owner is not None:
        target_desc, by, chosen = owner, "owner", None
    elif creator is not None:
        target_desc, by, chosen = creator, "creator", list(world.created_by(creator))
    else:
        raise BadRequest("remove needs entities, owner or creator")
    check_rank(domain, actor, rank, (owner, creator), "remove")
    count = world.count_owned(owner) if chosen is None else len(chosen)
    body = {"removed": count, "reason": reason, "by": by}
    record = domain.roomlog.entry("remove", actor, target_desc, body)
    if chosen is None:
        done, removed = forget_owned(domain, owner, "removed", record)  # type: ignore[arg-type]
        return Committing(done, lambda: {"removed": len(removed)})
    done = forget(domain, chosen, "removed", record)
    return Committing(done, lambda: {"removed": len(chosen)})


# A WebSocket close frame carries at most 123 bytes of reason; a longer one is a protocol
# error that the viewer sees as 1002 instead of our close code.
MAX_CLOSE_REASON = 123


def close_reason(reason: str) -> str:
    """`reason` cut to fit a close frame (whole characters only); the full text goes in `kicked`."""
    return (reason or "kicked").encode()[:MAX_CLOSE_REASON].decode(errors="ignore")


def kick(domain: Domain, token: str, reason: str, code: int = 4002) -> int:
    """Tell every session of `token` why, then close them; returns how many.

    A session already closing (kicked a moment ago, say) no longer counts as connected.
    """
    sessions = {s for s in domain.sessions.of_token(token) if not s.closing}
    domain.sessions.push(sessions, "kicked", {"reason": reason})
    for session in sessions:
        session.close(code, close_reason(reason))
    return len(sessions)


def kick_logged(
    domain: Domain, actor: str, token: str, reason: str, *, rank: int | None
) -> Committing:
    """An operator's kick: `not_found` when the avatar is not connected; logged."""
    check_rank(domain, actor, rank, (token,), "kick")
    if not any(not s.closing for s in domain.sessions.of_token(token)):
        raise NotFound("that avatar is not connected")
    done = domain.writes.commit(
        domain.roomlog.entry("kick", actor, token, {"reason": reason}),
        apply=lambda: kick(domain, token, reason),
    )
    return Committing(done, dict)


def owner_counts(domain: Domain, limit: int) -> list[tuple[str | None, int]]:
    """The `limit` owners with the most entities, most first (None: domain content)."""
    return heapq.nlargest(limit, domain.world.owner_counts(), key=lambda pair: pair[1])


def locate(domain: Domain) -> list[dict[str, Any]]:
    """Every connected avatar, invisible ones included."""
    return [
        {
            "token": s.token,
            "name": s.name,
            "position": list(s.position),
            "invisible": s.invisible,
            "session": s.id,
        }
        for s in domain.sessions
        if not s.closing
    ]
