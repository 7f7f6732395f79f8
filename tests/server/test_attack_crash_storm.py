"""Crash safety: the real `domainserver serve` takes a storm of rezzes, edits, deletes, bans,
mutes and reports from several pipelining clients and is killed with SIGKILL at a random
moment. After each restart every acknowledged change is there, nothing refused or
unanswered is half-applied, SQLite's integrity_check passes, `verify-log` exits 0, and what
expired while the server was down is gone.

5 rounds always; 20 with DOMAINSERVER_LONG_TESTS=1 (docs/RELIABILITY.md, "What was tried").
"""

from __future__ import annotations

import asyncio
import collections
import os
import random
import signal
import sqlite3
import time
from typing import Any

import attrs

from domainserver.client import Client, Identity, RequestFailed

from .conftest import policy_text, run_cli
from .process import serve

LONG = os.environ.get("DOMAINSERVER_LONG_TESTS") == "1"
ROUNDS = 20 if LONG else 5
WINDOW = 16  # requests each client keeps in flight
LIFETIMES = [None, None, None, 0.3, 1.0, 30.0]


@attrs.define
class Sent:
    """One request and what became of it: `reply` is None while (or if never) answered."""

    op: str
    args: dict[str, Any]
    tag: int | None = None  # the entity it made or touches, by its props["n"]
    reply: dict[str, Any] | None = None

    @property
    def acked(self) -> bool:
        return self.reply is not None and self.reply.get("ok") is True


class Storm:
    """One client's stream of pipelined requests, and everything it was told."""

    def __init__(self, client: Client, rng: random.Random, tags: Any, others: list[str]):
        self.client, self.rng, self.tags, self.others = client, rng, tags, others
        self.sent: list[Sent] = []
        self.alive: dict[int, str] = {}  # tag -> id of entities whose rez was acked
        self.ids: dict[int, str] = {}

    def submit(self, item: Sent) -> asyncio.Future:
        self.sent.append(item)
        future = self.client.submit(item.op, **item.args)

        def done(f: asyncio.Future, item: Sent = item) -> None:
            if f.cancelled() or f.exception() is not None:
                return  # the socket died: unanswered
            item.reply = f.result()
            if item.acked and item.op == "rez":
                self.alive[item.tag] = self.ids[item.tag] = item.reply["entity"]["id"]
            if item.acked and item.op == "delete":
                self.alive.pop(item.tag, None)

        future.add_done_callback(done)
        return future

    def next_request(self) -> Sent:
        roll = self.rng.random()
        if roll < 0.45 or not self.alive:
            tag = next(self.tags)
            entity = {"type": "box", "position": self._spot(), "props": {"n": tag}}
            lifetime = self.rng.choice(LIFETIMES)
            if lifetime is not None:
                entity["lifetime"] = lifetime
            return Sent("rez", {"entity": entity}, tag)
        tag = self.rng.choice(sorted(self.alive))
        if roll < 0.75:
            change = {"position": self._spot(), "props": {"n": tag, "e": self.rng.random()}}
            return Sent("edit", {"entity": self.alive[tag], "set": change}, tag)
        if roll < 0.88:
            self.alive.pop(tag)  # never touched again: its delete may still be unanswered
            return Sent("delete", {"entity": self.ids[tag]}, tag)
        if roll < 0.96:
            return Sent("mute", {"target": {"owner": self.rng.choice(self.others)}})
        return Sent("report", {"target": {"owner": self.rng.choice(self.others)},
                               "reason": "storm"})  # fmt: skip

    def _spot(self) -> list[float]:
        return [round(self.rng.uniform(-50, 50), 3), 0.0, round(self.rng.uniform(-50, 50), 3)]

    async def run(self) -> None:
        inflight: collections.deque[asyncio.Future] = collections.deque()
        while True:
            inflight.append(self.submit(self.next_request()))
            if len(inflight) >= WINDOW:
                try:
                    await inflight.popleft()
                except Exception:
                    return  # killed


def candidates(history: list[Sent]) -> list[dict[str, Any] | None]:
    """Every state the entity may be in: after the answered requests, then after each further
    unanswered one (they commit in order, each whole or not at all). A state is the exact
    record, or for a rez never answered the fields it asked for."""
    state: dict[str, Any] | None = None
    answered = [s for s in history if s.reply is not None]
    pending = [s for s in history if s.reply is None]
    for s in answered:
        if not s.acked:
            continue
        state = None if s.op == "delete" else s.reply["entity"]
    states = [state]
    for s in pending:
        if s.op == "rez":
            state = {"type": "box", "position": s.args["entity"]["position"],
                     "props": s.args["entity"]["props"]}  # fmt: skip
        elif s.op == "edit" and state is not None:
            state = {**state, **s.args["set"]}
        elif s.op == "delete":
            state = None
        states.append(state)
    return states


def matches(expected: dict[str, Any] | None, actual: dict[str, Any] | None, gone_by: float,
            maybe_gone_by: float) -> bool:  # fmt: skip
    expires = None if expected is None else expected.get("expires_at")
    if expected is not None and expires is not None and expires <= gone_by:
        expected = None  # it expired while the server was down: it must be gone
    if expected is None:
        return actual is None
    if actual is None:
        return expires is not None and expires <= maybe_gone_by  # expired since
    return all(actual.get(k) == v for k, v in expected.items())


async def all_entities(mod: Client, owner: str) -> list[dict[str, Any]]:
    found, cursor = [], None
    while True:
        args = {"owner": owner, "limit": 1000}
        if cursor:
            args["cursor"] = cursor
        page = await mod.request("find", **args)
        found += page["entities"]
        cursor = page["next"]
        if not cursor:
            return found


async def all_reports(mod: Client) -> set[str]:
    found, cursor = set(), None
    while True:
        args: dict[str, Any] = {"limit": 1000}
        if cursor:
            args["cursor"] = cursor
        page = await mod.request("reports", **args)
        found |= {r["id"] for r in page["reports"]}
        cursor = page["next"]
        if not cursor:
            return found


async def banned(url: str, identity: Identity) -> bool:
    try:
        client = await Client.connect(url, identity, name="victim")
    except RequestFailed as exc:
        assert exc.code == "banned", exc
        return True
    await client.close()
    return False


async def test_acknowledged_changes_survive_kill_9_and_nothing_is_half_applied(tmp_path, people):
    policy = tmp_path / "permissions.toml"
    policy.write_text(policy_text(people).replace(
        'caps = ["kick", "ban", "find", "remove", "locate"]',
        'caps = ["kick", "ban", "find", "remove", "locate", "reports"]'))
    db = tmp_path / "domain.db"
    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    tags = iter(range(1, 10**9))
    storm_people = [people.trusted, people.builder, people.visitor, people.stranger]
    storms: dict[str, list[Storm]] = {p.token: [] for p in storm_people}
    ban_requests: list[tuple[Identity, Sent]] = []
    mutes_sent: dict[str, list[Sent]] = collections.defaultdict(list)
    reports_sent: list[Sent] = []
    totals = collections.Counter()
    args = ("--permissions", str(policy), "--db", str(db))
    server = await serve(tmp_path, *args, name="round0")
    started = [server]
    try:
        for round_no in range(1, ROUNDS + 1):

            victims = [Identity.generate() for _ in range(3)]
            owned: dict[str, list[str]] = {}
            for v in victims:  # each victim owns what a ban must remove, whole or not at all
                async with await Client.connect(server.url, v, name="victim") as c:
                    owned[v.token] = [(await c.request("rez", entity={
                        "type": "victim", "position": [i, 0, 0], "lifetime": 600}))["entity"]["id"]
                        for i in range(3)]  # fmt: skip
            clients = [await Client.connect(server.url, p, name="storm") for p in storm_people]
            mod = await Client.connect(server.url, people.moderator, name="mod")
            others = [v.token for v in victims] + [p.token for p in storm_people]
            round_storms = [Storm(c, rng, tags, others) for c in clients]
            for p, s in zip(storm_people, round_storms, strict=True):
                storms[p.token].append(s)
            mod_storm = Storm(mod, rng, tags, others)

            async def ban_victims(mod_storm=mod_storm, victims=victims):
                for v in victims:  # at random moments of the storm, some after the kill
                    await asyncio.sleep(rng.uniform(0, 0.6))
                    item = Sent("ban", {"token": v.token, "reason": "storm"})
                    ban_requests.append((v, item))
                    mod_storm.submit(item)

            tasks = [asyncio.create_task(s.run()) for s in round_storms]
            tasks.append(asyncio.create_task(ban_victims()))
            await asyncio.sleep(rng.uniform(0.2, 1.2))  # the storm runs; then, at a random moment:
            server.proc.send_signal(signal.SIGKILL)
            server.proc.wait(10)
            killed_at = time.time()
            await asyncio.wait_for(asyncio.gather(*tasks), 30)
            for c in [*clients, mod]:
                await c.close()
            for s in [*round_storms, mod_storm]:
                for item in s.sent:
                    totals[(item.op, "acked" if item.acked else
                            "refused" if item.reply is not None else "unanswered")] += 1
            for s, p in zip(round_storms, storm_people, strict=True):
                mutes_sent[p.token] += [i for i in s.sent if i.op == "mute"]
                reports_sent.extend(i for i in s.sent if i.op == "report")

            # The file, before anything opens it again.
            conn = sqlite3.connect(db)
            assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)], seed
            conn.close()
            verified = run_cli("verify-log", "--db", str(db))
            assert verified.returncode == 0, (seed, verified.stdout, verified.stderr)

            server = await serve(tmp_path, *args, name=f"round{round_no}")
            started.append(server)
            restarted = time.time()
            mod = await Client.connect(server.url, people.moderator, name="mod")
            for p in storm_people:
                actual = {e["props"]["n"]: e for e in await all_entities(mod, p.token)}
                history: dict[int, list[Sent]] = collections.defaultdict(list)
                for s in storms[p.token]:
                    for item in s.sent:
                        if item.tag is not None:
                            history[item.tag].append(item)
                checked = time.time()
                assert set(actual) <= set(history), (seed, "an entity nobody asked for")
                for tag, items in history.items():
                    options = candidates(items)
                    assert any(matches(o, actual.get(tag), killed_at, checked) for o in options), (
                        seed, round_no, tag, actual.get(tag), options)
                for e in actual.values():  # nothing that expired while down came back
                    assert e["expires_at"] is None or e["expires_at"] > restarted - 1, (seed, e)
            for v, item in ban_requests[-len(victims):]:
                is_banned = await banned(server.url, v)
                left = {e["id"] for e in await all_entities(mod, v.token)}
                if item.acked:
                    assert is_banned and not left, (seed, "an acknowledged ban was lost")
                elif item.reply is not None:
                    assert not is_banned and left == set(owned[v.token]), (seed, item.reply)
                else:  # unanswered: whole or not at all
                    whole = is_banned and not left
                    not_at_all = not is_banned and left == set(owned[v.token])
                    assert whole or not_at_all, (seed, "a half-applied ban", is_banned, left)
            for p in storm_people:
                async with await Client.connect(server.url, p, name="check") as c:
                    listed = {str(t) for t in (await c.request("mutes"))["mutes"]}
                acked = {str(i.args["target"]) for i in mutes_sent[p.token] if i.acked}
                sent = {str(i.args["target"]) for i in mutes_sent[p.token]}
                assert acked <= listed <= sent, (seed, "a mute lost or invented")
            reports = await all_reports(mod)
            assert {i.reply["report"] for i in reports_sent if i.acked} <= reports, seed
            await mod.close()
            totals["rounds"] += 1
        assert server.stop() == 0
    finally:
        for s in started:  # a failed check leaves no server behind
            if s.proc.poll() is None:
                s.proc.kill()
                s.proc.wait(10)
    assert totals["rounds"] == ROUNDS
    assert totals[("rez", "acked")] > 20 * ROUNDS and totals[("edit", "acked")] > 0, totals
    print(f"crash storm seed={seed}: {dict(totals)}")
