"""Reports (contract §2.3 `report`, §2.4 `reports` and `resolve`): a visitor reports an
entity, an owner, an avatar or a chat line; the server captures the room log around it with
what proves it against a signed checkpoint, and the report waits in a queue. Who reported is
kept only as a keyed hash, to cap and merge their reports, and is never shown."""

from __future__ import annotations

import asyncio
import json
import secrets
import sqlite3
from typing import Any, Final

import attrs

from entities import fields
from entities.errors import BadRequest, DomainError, NotFound, RateLimited

from ..evidence.bundle import make_bundle
from ..evidence.records import canonical
from ..store import checkpoints as cp_rows
from ..store import log as log_rows
from ..store import reports as report_rows
from ..store.reports import ReportRow
from . import bans, moderation
from .commits import Committing
from .domain import Domain
from .evidence import evidence_span
from .sessions import Session

__all__ = ["Target", "ACTIONS", "report", "resolve", "page", "get", "report_wire", "bundle_of"]

ACTIONS: Final = ("dismiss", "warn", "kick", "ban")
SEARCH: Final = 10_000
"""How many recent records are searched for a reported avatar's or chat line's moment."""
CHAT_KINDS: Final = ("say", "entity_say")


@attrs.frozen
class Target:
    """What a report is about: `{"entity": id}`, `{"owner": token}`, `{"avatar": token}`, or
    a chat line, `{"chat": seq}` or `{"chat": {"from": <the chat event's from>, "text": str}}`
    (docs/PROTOCOL_NOTES.md)."""

    kind: str
    value: Any

    @classmethod
    def from_wire(cls, raw: Any) -> Target:
        if not isinstance(raw, dict) or len(raw) != 1:
            raise BadRequest("target must be a map of one of entity, owner, avatar, chat")
        ((kind, value),) = raw.items()
        if kind == "entity":
            return cls(kind, fields.entity_id(value, "target.entity"))
        if kind in ("owner", "avatar"):
            return cls(kind, fields.token(value, f"target.{kind}"))
        if kind == "chat":
            if isinstance(value, int) and not isinstance(value, bool) and value > 0:
                return cls(kind, value)
            if isinstance(value, dict) and set(value) == {"from", "text"}:
                speaker = value["from"]
                if isinstance(speaker, dict) and set(speaker) == {"avatar"}:
                    speaker = {"avatar": fields.token(speaker["avatar"], "from.avatar")}
                elif isinstance(speaker, dict) and "entity" in speaker:
                    speaker = {"entity": fields.entity_id(speaker["entity"], "from.entity")}
                else:
                    raise BadRequest("target.chat.from must be the chat event's from")
                text = fields.text(value["text"], "target.chat.text", 1000)
                return cls(kind, {"from": speaker, "text": text})
            raise BadRequest("target.chat is a log seq or {from, text} of a chat event")
        raise BadRequest("target must be a map of one of entity, owner, avatar, chat")

    def to_wire(self) -> dict[str, Any]:
        return {self.kind: self.value}

    def key(self) -> str:
        """Equal for the same target: a reporter's second report of it is merged."""
        return canonical(self.to_wire()).decode()


def _chat_record(conn: sqlite3.Connection, target: Target, last: int) -> tuple[int, str] | None:
    """(seq, speaker token) of the reported chat line, searched among recent records."""
    value = target.value
    if isinstance(value, int):
        rows = conn.execute("SELECT seq, kind, actor, data FROM log WHERE seq = ?", (value,))
    else:
        speaker = value["from"]
        column, who = ("actor", speaker["avatar"]) if "avatar" in speaker else (
            "target", speaker["entity"])  # fmt: skip
        kind = "say" if "avatar" in speaker else "entity_say"
        rows = conn.execute(
            f"SELECT seq, kind, actor, data FROM log WHERE seq > ? AND kind = ? AND {column} = ?"
            " ORDER BY seq DESC", (last - SEARCH, kind, who))  # fmt: skip
    for seq, kind, actor, data in rows:
        if kind not in CHAT_KINDS or data is None:
            continue
        if isinstance(value, int) or json.loads(data).get("text") == value["text"]:
            return int(seq), actor
    return None


def _moment(conn: sqlite3.Connection, target: Target, last: int) -> int | None:
    """The newest recent record about an entity or a token: the reported moment."""
    who = target.value
    row = conn.execute("SELECT max(seq) FROM log WHERE seq > ? AND (actor = ? OR target = ?)",
                       (last - SEARCH, who, who)).fetchone()  # fmt: skip
    return None if row[0] is None else int(row[0])


def report(domain: Domain, session: Session, raw_target: Any, raw_reason: Any) -> Committing:
    """File a report; merged into the reporter's open report on the same target, if any."""
    reason = fields.reason(raw_reason, required=True)
    target = Target.from_wire(raw_target)
    subject: str | None = None
    known = False
    if target.kind == "entity":
        entity = domain.world.get(target.value)
        if entity is None:
            raise NotFound("no such entity")
        subject, known = entity.owner, True
    elif target.kind in ("owner", "avatar"):
        subject = target.value
        known = bool(domain.sessions.of_token(subject)) or domain.world.count_owned(subject) > 0
    config, now = domain.config, domain.clock()
    if not domain.buckets.take("report:" + session.token, config.report_rate, now):
        raise RateLimited("too many reports; wait a little")
    hidden, reporter = domain.key.hide(session.token), session.token
    domain_id, sign, at_ms = domain.policy.domain.id, domain.key.sign, int(now * 1000)
    box: list[Any] = []

    def capture(conn: sqlite3.Connection) -> None:
        # Refusals are handed back, not raised: one failed write must not fail its group.
        merged = report_rows.find_open(conn, hidden, target.key())
        if merged is not None:
            box.append(merged)
            return
        if report_rows.open_of_reporter(conn, hidden) >= config.max_open_reports:
            box.append(RateLimited(f"at most {config.max_open_reports} open reports each"))
            return
        last = log_rows.last_seq(conn)
        who = subject
        if target.kind == "chat":
            found = _chat_record(conn, target, last)
            if found is None:
                box.append(NotFound("no such chat line in the recent log"))
                return
            moment, who = found
        else:
            moment = _moment(conn, target, last)
            if moment is None and not known:
                box.append(NotFound("nothing is known of that avatar here"))
                return
        rid = secrets.token_hex(8)
        seq = log_rows.append(conn, now, "report", None, who,
                              {"report": rid, "target": target.to_wire(), "reason": reason})
        checkpoint = cp_rows.seal(conn, domain_id, sign, at_ms) or cp_rows.latest(conn)
        assert checkpoint is not None
        anchor = seq if moment is None else moment
        first = max(1, anchor - config.report_before)
        last_seq = min(checkpoint.size, anchor + config.report_after)
        # The reporter's own records (their chat, their arrival) would name them: withheld.
        evidence = evidence_span(conn, checkpoint, first, last_seq, withhold=reporter)
        row = ReportRow(rid, canonical(target.to_wire()).decode(), who, reason, now, "open", None,
                        None, first, last_seq, canonical(evidence))  # fmt: skip
        report_rows.save(conn, row, hidden, target.key())
        box.append(rid)

    done = domain.writes.commit(capture)

    def reply() -> dict[str, Any]:
        if box and isinstance(box[0], DomainError):
            raise box[0]
        return {"report": box[0]}

    return Committing(done, reply)


def report_wire(row: ReportRow) -> dict[str, Any]:
    """A report as moderators see it (contract §2.4); never who reported."""
    return {
        "id": row.id,
        "target": json.loads(row.target),
        "reason": row.reason,
        "created_at": row.created_at,
        "state": row.state,
        "action": row.action,
        "evidence": json.loads(row.evidence),
    }


def bundle_of(domain: Domain, report: dict[str, Any]) -> dict[str, Any]:
    """A report (as `report_wire` shows it) as an evidence bundle (contract §6)."""
    evidence = report["evidence"]
    return make_bundle(evidence["checkpoint"]["domain"], domain.key.text, evidence, report)


async def page(
    domain: Domain, state: str | None, after: tuple[float, str] | None, limit: int
) -> tuple[list[dict[str, Any]], tuple[float, str] | None]:
    """The queue, oldest first; the key of the last report when more follow."""
    rows = await domain.store.read_async(lambda c: report_rows.page(c, state, after, limit + 1))
    more = len(rows) > limit
    rows = rows[:limit]
    return [report_wire(r) for r in rows], ((rows[-1].created_at, rows[-1].id) if more else None)


async def get(domain: Domain, report_id: str) -> ReportRow:
    row = await domain.store.read_async(lambda c: report_rows.get(c, report_id))
    if row is None:
        raise NotFound("no such report")
    return row


def _tell(domain: Domain, hidden: bytes | None, ev: str, body: dict[str, Any]) -> None:
    """Push to every session of the token whose keyed hash is `hidden`."""
    if hidden is None:
        return
    key = domain.key
    domain.sessions.push([s for s in domain.sessions if key.hide(s.token) == hidden], ev, body)


@attrs.frozen
class _Outranked:
    subject: str


def resolve(
    domain: Domain,
    actor: str,
    report_id: Any,
    action: Any,
    reason: Any = None,
    duration: Any = None,
    rank: int | None = None,
) -> Committing:
    """Close an open report and carry out its action on the reported avatar (an entity's
    owner); the reporter's sessions learn only that it was addressed."""
    if not isinstance(report_id, str) or not report_id or len(report_id) > 64:
        raise BadRequest("report must be a report id")
    if action not in ACTIONS:
        raise BadRequest(f"action must be one of {', '.join(ACTIONS)}")
    note = fields.reason(reason, required=False)
    span = None if duration is None else fields.lifetime(duration)
    now = domain.clock()
    box: list[Any] = []

    def close(conn: sqlite3.Connection) -> None:
        row = report_rows.get(conn, report_id)
        if row is None:
            box.append(NotFound("no such report"))
        elif row.state != "open":
            box.append(BadRequest("that report is already closed"))
        elif _outranked(row.subject):
            box.append(_Outranked(row.subject))  # checked before closing: it stays open
        else:
            report_rows.close(conn, report_id, action, now)
            log_rows.append(conn, now, "resolve", actor, row.subject, {
                "report": report_id, "action": action, "reason": note, "duration": span})
            box.append((report_rows.get(conn, report_id), report_rows.reporter_of(conn, report_id)))

    def _outranked(subject: str | None) -> bool:
        # The order of powers of the kick and ban ops; pure, so the writer thread may ask.
        return (action in ("kick", "ban") and subject is not None and rank is not None
                and domain.policy.protected_from(subject, rank) is not None)  # fmt: skip

    closed = domain.writes.commit(close)
    outcome: asyncio.Future[ReportRow] = asyncio.get_running_loop().create_future()

    def finish(row: ReportRow, hidden: bytes | None, f: asyncio.Future[Any] | None) -> None:
        if f is not None and (f.cancelled() or f.exception() is not None):
            outcome.set_exception(f.exception() or BadRequest("cancelled"))
            return
        _tell(domain, hidden, "report_resolved", {"report": row.id})
        outcome.set_result(row)

    def act(f: asyncio.Future[Any]) -> None:
        if box and isinstance(box[0], _Outranked) and f.exception() is None:
            try:  # said, and logged as a refusal, exactly as the kick and ban ops do
                moderation.check_rank(domain, actor, rank, (box[0].subject,), action)
            except DomainError as exc:
                outcome.set_exception(exc)
                return
        if f.cancelled() or f.exception() is not None or isinstance(box[0], DomainError):
            outcome.set_exception(box[0] if box and isinstance(box[0], DomainError)
                                  else (f.exception() or BadRequest("cancelled")))  # fmt: skip
            return
        row, hidden = box[0]
        # Never the reporter's words: they may name the reporter.
        said = note or "a moderator acted on a report about you"
        if row.subject is not None and action == "ban":
            try:
                c = bans.ban(domain, actor, row.subject, said, duration=span, rank=rank)
            except DomainError as exc:  # e.g. the reported avatar outranks the moderator
                outcome.set_exception(exc)
                return
            c.done.add_done_callback(lambda g: finish(row, hidden, g))
            return
        if row.subject is not None and action == "kick":
            moderation.kick(domain, row.subject, said)
        elif row.subject is not None and action == "warn":
            domain.sessions.push(domain.sessions.of_token(row.subject), "warned",
                                 {"reason": said})  # fmt: skip
        finish(row, hidden, None)

    closed.add_done_callback(act)
    return Committing(outcome, lambda: {"report": report_wire(outcome.result())})
