"""Connected viewers, and delivery to them: each event is encoded once, filtered by the
receiver's mutes on the server, and queued on the receiver's own outbox so one slow viewer
never stalls the others."""

from __future__ import annotations

import asyncio
import logging
from collections import Counter, deque
from collections.abc import Iterable, Iterator
from typing import Any

from aiohttp import web

from entities import Actor, Entity, MuteSet, Vec3, World
from permissions import Grant

from ..protocol.codec import encode_event, encode_event_packed, pack
from ..protocol.frames import binary_frame
from .interest import InterestGrid
from .removals import Framed, Frames, Removal, out_of_range

__all__ = [
    "Session",
    "SessionRegistry",
    "MAX_SHARED_BATCHES",
    "HIGH_WATER",
    "FEATURES",
]

# Protocol extensions a viewer may ask for in its hello (docs/PROTOCOL_NOTES.md).
FEATURES = frozenset({"batched_removals", "interest"})
# An interest-managed viewer's range is judged from where it stood when last updated: a
# move of less than this (metres) from there changes nothing yet, so a viewer walking in
# small steps costs one range update every few steps, not every step.
INTEREST_STEP = 2.0


log = logging.getLogger(__name__)

# A viewer whose socket is full (over HIGH_WATER unsent) while more than
# ServerConfig.max_pending_bytes wait for it, or more than MAX_SHARED_BATCHES mass removals
# (shared by every viewer: it holds references, not copies), is not reading: it is closed.
# A burst to a viewer that does read never counts against it.
MAX_SHARED_BATCHES = 8
# Bytes buffered in a socket before the writer waits for the viewer to read.
HIGH_WATER = 1 << 20
# Most bytes handed to the socket in one write, so the high water is checked between.
SLICE = 256 << 10


class Session:
    """One authenticated connection."""

    def __init__(
        self,
        session_id: str,
        token: str,
        name: str,
        invisible: bool,
        grant: Grant,
        credentials: tuple[bytes | str, ...],
        credential_groups: frozenset[str],
        mutes: MuteSet,
        ws: web.WebSocketResponse,
        transport: asyncio.Transport,
        max_pending: int = 1 << 20,
        features: frozenset[str] = frozenset(),
        interest: float | None = None,
    ) -> None:
        self.id = session_id
        self.token = token
        self.name = name
        self.invisible = invisible
        self.grant = grant
        # Kept so that a reload can re-verify them against the new policy's signers.
        self.credentials = credentials
        self.credential_groups = credential_groups
        # Fires when the earliest credential that counts expires (services.credentials).
        self.credential_timer: asyncio.TimerHandle | None = None
        # Requests refused, by error code: summarised in the log when the session ends.
        self.refused: Counter[str] = Counter()
        self.mutes = mutes
        self.position: Vec3 = (0.0, 0.0, 0.0)
        self.ws = ws
        self.transport = transport
        # A deque and one wake-up future: an asyncio.Queue costs several times more per frame.
        self.outbox: deque[bytes | tuple[int, str]] = deque()
        self.max_pending = max_pending
        self.batched = "batched_removals" in features
        self.interest = interest  # a radius: told only of entities near it, and its own
        self.interest_center: Vec3 = self.position  # where its range is judged from
        self.pending_bytes = 0  # queued for this viewer alone, not yet handed to the socket
        self.pending_shared = 0  # shared batches queued
        self._wake: asyncio.Future[None] | None = None
        self.closing = False

    @property
    def actor(self) -> Actor:
        return Actor(self.token, self.grant.groups, self.grant.has("edit_any"))

    def send(self, data: bytes) -> None:
        """Queue one frame; a viewer too far behind is closed rather than buffered forever."""
        if self.closing:
            return
        if isinstance(data, Frames):
            self.pending_shared += 1
            behind = self.pending_shared > MAX_SHARED_BATCHES
        else:
            self.pending_bytes += len(data)
            behind = self.pending_bytes > self.max_pending
        if behind and self.transport.get_write_buffer_size() > HIGH_WATER:
            log.warning(
                "session %s (%s) is not reading: %d bytes and %d mass removals pending; closing",
                self.id, self.token, self.pending_bytes, self.pending_shared,
            )  # fmt: skip
            self.close(1008, f"too slow: over {self.max_pending} bytes pending")
            return
        self.outbox.append(data)
        self._wake_writer()

    def close(self, code: int, reason: str) -> None:
        """Close after everything already queued (e.g. a `kicked` event) has been sent."""
        if not self.closing:
            self.closing = True
            self.outbox.append((code, reason))
            self._wake_writer()

    def _wake_writer(self) -> None:
        wake = self._wake
        if wake is not None and not wake.done():
            wake.set_result(None)

    async def pump(self) -> None:
        """Write the outbox to the socket until closed; runs as the session's writer task.

        Everything queued is framed and written in one call: under load a viewer gets many
        messages per write, which is what keeps a flood or a mass removal cheap.
        """
        outbox, transport = self.outbox, self.transport
        loop = asyncio.get_running_loop()
        while True:
            if not outbox:
                self._wake = loop.create_future()
                await self._wake
                self._wake = None
            batch: list[bytes] = []
            size = 0
            while outbox:
                item = outbox.popleft()
                if isinstance(item, tuple):
                    if batch and not transport.is_closing():
                        transport.write(b"".join(batch))
                    code, reason = item
                    await self.ws.close(code=code, message=reason.encode())
                    return
                if isinstance(item, Frames):
                    self.pending_shared -= 1
                    batch.append(item)
                else:
                    self.pending_bytes -= len(item)
                    batch.append(item if isinstance(item, Framed) else binary_frame(item))
                size += len(batch[-1])
                if size >= SLICE:
                    break  # hand over in slices: the socket's high water is checked between
            if transport.is_closing():
                return
            # A lone item (often a mass removal shared by every viewer) is written uncopied.
            transport.write(batch[0] if len(batch) == 1 else b"".join(batch))
            while transport.get_write_buffer_size() > HIGH_WATER:
                if transport.is_closing():
                    return
                if self.closing:
                    break  # a viewer closed for not reading: on to its close frame
                await asyncio.sleep(0.005)


def _framed(data: bytes) -> Framed:
    """An event framed once, however many viewers it goes to."""
    return Framed(binary_frame(data))


def _dist2(a: Vec3, b: Vec3) -> float:
    dx, dy, dz = a[0] - b[0], a[1] - b[1], a[2] - b[2]
    return dx * dx + dy * dy + dz * dz


class SessionRegistry:
    """Every session, by id and by owner token; and delivery to them. Each frame is encoded
    once; the mute check is per receiver; a viewer with an interest radius is reached only
    through the interest grid."""

    def __init__(self, interest_cell: float = 256.0) -> None:
        self._by_id: dict[str, Session] = {}
        self._by_token: dict[str, set[Session]] = {}
        self._everything: dict[str, Session] = {}  # viewers told of every entity (v1)
        self.interest = InterestGrid(interest_cell)

    def __len__(self) -> int:
        return len(self._by_id)

    def __iter__(self) -> Iterator[Session]:
        return iter(list(self._by_id.values()))

    def add(self, session: Session) -> None:
        self._by_id[session.id] = session
        self._by_token.setdefault(session.token, set()).add(session)
        if session.interest is None:
            self._everything[session.id] = session
        else:
            self.interest.place(session, session.interest_center, session.interest)

    def remove(self, session: Session) -> None:
        self._by_id.pop(session.id, None)
        self._everything.pop(session.id, None)
        self.interest.remove(session)
        sessions = self._by_token.get(session.token)
        if sessions is not None:
            sessions.discard(session)
            if not sessions:
                del self._by_token[session.token]

    def of_token(self, token: str) -> set[Session]:
        return set(self._by_token.get(token, ()))

    def tokens(self) -> Iterable[str]:
        return list(self._by_token)

    def move(self, session: Session, position: Vec3, world: World) -> None:
        """The viewer moved. An interest-managed one is told what came into its range
        (`entity_added`) and what left it (`entity_removed`, reason `out_of_range`)."""
        session.position = position
        radius = session.interest
        if radius is None:
            return
        old = session.interest_center
        if _dist2(old, position) < INTEREST_STEP * INTEREST_STEP:
            return
        session.interest_center = position
        self.interest.place(session, position, radius)
        token, mutes = session.token, session.mutes
        entered, left = world.crossing(old, position, radius)
        for e in left:
            if e.owner != token:
                session.send(out_of_range(e.id))
        for e in entered:
            if e.owner != token and not mutes.hides_entity(e):
                session.send(encode_event("entity_added", {"entity": e.to_wire()}))

    # Delivery.

    def entity_event(
        self, ev: str, entity: Entity, packed: bytes | None = None, before: Vec3 | None = None
    ) -> None:
        """Tell every viewer not muting it; `packed` is the entity's encoded record if known;
        `before` its position before a change that moved it."""
        if packed is None:
            packed = pack(entity.to_wire())
        data = _framed(encode_event_packed(ev, "entity", packed))
        for session in self._everything.values():
            if not session.mutes.hides_entity(entity):
                session.send(data)
        if len(self.interest):
            self._within_interest(ev, entity, packed, data, before)

    def _within_interest(
        self, ev: str, entity: Entity, packed: bytes, data: bytes, before: Vec3 | None
    ) -> None:
        position, owner = entity.position, entity.owner
        near = self.interest.near(position)
        if before is not None and before != position:
            near = set(near) | set(self.interest.near(before))
        mine = [s for s in self._by_token.get(owner, ()) if s.interest is not None] if owner else []
        added: bytes | None = None
        for session in {*near, *mine} if mine else near:
            r2 = session.interest * session.interest  # type: ignore[operator]
            own = session.token == owner
            inside = own or _dist2(position, session.interest_center) <= r2
            if ev == "entity_added":
                was = False
            elif before is None:
                was = inside
            else:
                was = own or _dist2(before, session.interest_center) <= r2
            if inside:
                if session.mutes.hides_entity(entity):
                    continue
                if was:
                    session.send(data)
                else:
                    if added is None:
                        added = _framed(encode_event_packed("entity_added", "entity", packed))
                    session.send(added)
            elif was:
                session.send(out_of_range(entity.id))

    def prepare_removed(
        self, ids: list[str], reason: str, world: World | None = None
    ) -> Removal | None:
        """The removal of `ids`, encoded ahead of delivery in the forms the viewers connected
        now take: a mass removal does this while its commit runs, so viewers are told as it
        lands. With the `world` that still holds them, interest-managed viewers will be told
        only of those they could know (near them, or their own)."""
        if not ids:
            return None
        where = None
        if world is not None and len(self.interest):
            where = {}
            for eid in ids:
                entity = world.get(eid)
                if entity is not None:
                    where[eid] = (entity.position, entity.owner)
        removal = Removal(ids, reason, where)
        if len(ids) > 1:
            forms = {s.batched for s in self._everything.values()}
            if False in forms:
                removal.v1()
            if True in forms:
                removal.batched()
        return removal

    def tell_removed_on(
        self, done: asyncio.Future[Any], ids: list[str], reason: str, world: World | None = None
    ) -> None:
        """Frame the removal now, while the commit runs, and deliver it the moment it lands
        (before the reply, whose callback is added later): viewers are told only what is
        durable, and a mass removal costs them no wait beyond its commit."""
        told = self.prepare_removed(ids, reason, world)
        if told is not None:
            done.add_done_callback(
                lambda f: None if f.cancelled() or f.exception() else self.deliver(told)
            )

    def deliver(self, prepared: Removal | None) -> None:
        """Send a removal, in the form each viewer asked, to every viewer that may know the
        entities (removals are never muted)."""
        if prepared is None:
            return
        for session in self._everything.values():
            session.send(prepared.form(session.batched))
        if not len(self.interest):
            return
        if prepared.where is None:
            for session in self.interest.sessions():
                session.send(prepared.form(session.batched))
            return
        for session, ids in self._interested_in(prepared).items():
            part = Removal(ids, prepared.reason)
            session.send(part.form(session.batched))

    def _interested_in(self, removal: Removal) -> dict[Session, list[str]]:
        """For each interest-managed viewer, the removed ids it could know."""
        where = removal.where or {}
        told: dict[Session, dict[str, None]] = {}  # ordered sets of ids
        for eid in removal.ids:
            place = where.get(eid)
            if place is None:  # not known where it was: tell all of them
                for session in self.interest.sessions():
                    told.setdefault(session, {})[eid] = None
                continue
            position, owner = place
            for session in self.interest.near(position):
                r = session.interest or 0.0
                if _dist2(position, session.interest_center) <= r * r:
                    told.setdefault(session, {})[eid] = None
            if owner is not None:
                for session in self._by_token.get(owner, ()):
                    if session.interest is not None:
                        told.setdefault(session, {})[eid] = None
        return {session: list(ids) for session, ids in told.items()}
    def entity_chat(self, entity: Entity, text: str) -> None:
        data = _framed(encode_event(
            "chat", {"from": {"entity": entity.id, "owner": entity.owner}, "text": text}
        ))  # fmt: skip
        for session in self._by_id.values():
            if not session.mutes.hides_entity(entity):
                session.send(data)

    def avatar_chat(self, sender: Session, text: str) -> None:
        data = _framed(encode_event(
            "chat", {"from": {"avatar": sender.token, "name": sender.name}, "text": text}
        ))  # fmt: skip
        for session in self._by_id.values():
            if not session.mutes.hides_avatar(sender.token):
                session.send(data)

    def push(self, sessions: Iterable[Session], ev: str, fields: dict[str, Any]) -> None:
        data = encode_event(ev, fields)
        for session in sessions:
            session.send(data)
