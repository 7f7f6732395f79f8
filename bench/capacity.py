"""Capacity: N viewers spread over a 1 km square, each moving 5 times a second (a random
walk), rezzing a temporary entity near itself once a second (lifetime 30 s, within the
visitor role's quota) and chatting every 10 s; for N = 100, 300 and 1,000, once as contract
v1 viewers (every event to everyone) and once with interest management
(`features: ["interest"], interest_radius: 100`, docs/PROTOCOL_NOTES.md).

Each step runs a fresh server on a fresh database. Reported per step: reply latency p50 / p99
(send to reply, every op sent in the window), the frames pushed to the viewers per second
(events, and replies), the server's CPU (utime + stime of its process over the window) and
what the load generators used of the two cores. The baseline in the same run is the smallest
N: each figure is also given as its ratio to it, and as the exponent k of N^k that ratio
implies; with interest is compared to without at each N.

The viewers are asyncio protocols on raw sockets in 2 processes (no per-connection task, no
payload copy: a frame's header and its first bytes tell a reply's id from an event's kind),
so they cost little per frame.

    python bench/capacity.py [--quick] [--sizes 100,300,1000] [--modes v1,interest]
                             [--warmup S] [--measure S]
    BENCH_PROFILE=/tmp/cap.prof python bench/capacity.py --sizes 1000 --modes v1
"""

from __future__ import annotations

import argparse
import asyncio
import math
import multiprocessing as mp
import random
import time
from typing import Any

import msgpack
from _harness import (
    HOST,
    Report,
    Server,
    cpu_seconds,
    healthz,
    loadavg,
    pct,
    permissions_text,
    raise_failed,
    stop_processes,
    temp_dir,
    thread_cpu_seconds,
)
from _wsraw import frame, frame_spans, reply_id, reply_ok

VIEWER_PROCS = 2
CORES = 2
SQUARE = 1000.0  # metres: the viewers walk in [0, SQUARE]^2
MOVE_HZ = 5  # moves a second per viewer
REZ_EVERY = 5  # ticks: one rez a second
SAY_EVERY = 50  # ticks: one chat line every 10 s
SPEED = 1.5  # metres a second, walking
LIFETIME = 30.0  # seconds: every rez is temporary, so the world stays bounded
INTEREST = 100.0  # metres
SLOTS = 10  # a tick (0.2 s) is cut into this many slots; each viewer sends in one of them

# The visitor role: 1 rez a second in a bucket of 2, 30 live at a time (60 allowed), 1 chat
# line every 10 s against a budget of 1 a second: no refusal is expected.
VISITOR = ('[roles.visitor]\nrez = "temporary"\nscripts = false\nmax_entities = 60\n'
           "rez_per_second = 2\nchat_per_second = 1\ncaps = []")

_packb = msgpack.Packer(use_bin_type=True).pack


def runq_wait(pid: int) -> float:
    """Seconds a process's main thread has spent runnable but waiting for a CPU (schedstat):
    on a shared machine, how much the neighbours took from it."""
    try:
        return int(open(f"/proc/{pid}/schedstat").read().split()[1]) / 1e9
    except (OSError, IndexError, ValueError):
        return float("nan")


def cpu_pressure() -> float:
    """Seconds, since boot, during which some runnable task waited for a CPU (PSI)."""
    try:
        for line in open("/proc/pressure/cpu"):
            if line.startswith("some"):
                return int(line.rsplit("total=", 1)[1]) / 1e6
    except (OSError, IndexError, ValueError):
        pass
    return float("nan")

_EV_NAMES = {12: "entity_added", 14: "entity_removed", 4: "chat", 16: "entities_removed",
             5: "error"}
KINDS = ("move", "rez", "say")


# -- the viewers (in the worker processes) ---------------------------------------------


class Viewer(asyncio.Protocol):
    """One viewer: upgrade, answer the challenge, then walk, rez and chat when ticked; count
    what comes back. Replies are told apart from events by their first key ("re")."""

    def __init__(self, identity: Any, name: str, extra: dict[str, Any], rng: random.Random,
                 clock: dict[str, float], stats: Stats) -> None:
        self.identity = identity
        self.name = name
        self.extra = extra
        self.rng = rng
        self.clock = clock  # t_measure, t_end: the window every process shares
        self.stats = stats
        self.buf = bytearray()
        self.state = 0  # 0 upgrade, 1 challenge, 2 hello, 3 running, 4 closed
        self.ready: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.transport: asyncio.Transport | None = None
        self.sent: dict[int, tuple[float, int]] = {}  # rid -> (send time, kind), in window
        self.rid = 1
        self.tick = 0
        self.rez_phase = rng.randrange(REZ_EVERY)
        self.say_phase = rng.randrange(SAY_EVERY)
        self.x, self.y = rng.random() * SQUARE, rng.random() * SQUARE
        self.heading = rng.random() * 2 * math.pi
        self.close_code: int | None = None

    # wire

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        key = b"dGhlIHNhbXBsZSBub25jZQ=="
        transport.write(  # type: ignore[attr-defined]
            b"GET /ws HTTP/1.1\r\nHost: " + HOST.encode() + b"\r\nUpgrade: websocket\r\n"
            b"Connection: Upgrade\r\nSec-WebSocket-Key: " + key
            + b"\r\nSec-WebSocket-Version: 13\r\n\r\n")

    def connection_lost(self, exc: Exception | None) -> None:
        if self.state != 4:
            self.state = 4
            self.stats.closed += 1
            self.stats.close_codes[self.close_code or 1006] = (
                self.stats.close_codes.get(self.close_code or 1006, 0) + 1)
        if not self.ready.done():
            self.ready.set_exception(ConnectionError(f"closed ({self.close_code})"))

    def data_received(self, data: bytes) -> None:
        buf = self.buf
        buf += data
        if self.state == 0:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                return
            if b" 101 " not in bytes(buf[: buf.find(b"\r\n")]):
                self.ready.set_exception(ConnectionError(f"upgrade refused: {bytes(buf[:80])!r}"))
                self.transport.close()  # type: ignore[union-attr]
                return
            del buf[: end + 4]
            self.state = 1
        self._frames()

    def _frames(self) -> None:
        buf = self.buf
        i = 0
        now = time.monotonic()
        st = self.stats
        in_window = self.clock["t_measure"] <= now < self.clock["t_end"]
        for op, j, i in frame_spans(buf):
            ln = i - j
            if op == 2:
                if self.state != 3:
                    self._handshake(bytes(buf[j:i]))
                elif buf[j + 1] == 0xA2 and buf[j + 2] == 0x72 and buf[j + 3] == 0x65:  # "re"
                    head = bytes(buf[j : min(i, j + 20)])
                    rid, off = reply_id(head)
                    sent = self.sent.pop(rid, None)
                    if sent is not None:
                        t, kind = sent
                        st.lat[kind].append(now - t)
                        if not reply_ok(head, off):
                            code = msgpack.unpackb(bytes(buf[j:i])).get("error", {}).get("code")
                            st.errors[f"{KINDS[kind]}:{code}"] = (
                                st.errors.get(f"{KINDS[kind]}:{code}", 0) + 1)
                    if in_window:
                        st.replies += 1
                elif in_window:
                    st.events[buf[j + 4] & 0x1F] += 1
            elif op == 9:
                self.transport.write(frame(bytes(buf[j:i]), 10))  # type: ignore[union-attr]
            elif op == 8:
                self.close_code = (buf[j] << 8 | buf[j + 1]) if ln >= 2 else 1005
        if i:
            del buf[:i]

    def _handshake(self, payload: bytes) -> None:
        msg = msgpack.unpackb(payload)
        if self.state == 1 and msg.get("ev") == "challenge":
            sig = self.identity.sign(b"domainserver-hello/v1\n" + msg["domain"].encode() + b"\n"
                                     + msg["nonce"])
            hello = {"op": "hello", "id": 0, "key": self.identity.public_key, "sig": sig,
                     "name": self.name, "invisible": False, **self.extra}
            self.transport.write(frame(_packb(hello)))  # type: ignore[union-attr]
            self.state = 2
        elif self.state == 2 and msg.get("re") == 0:
            if msg.get("ok"):
                self.state = 3
                self.ready.set_result(None)
            else:
                self.ready.set_exception(ConnectionError(f"hello refused: {msg.get('error')}"))

    # behaviour

    def step(self, now: float) -> None:
        """One tick (0.2 s): move; every 5th tick rez; every 50th say."""
        if self.state != 3:
            return
        rng = self.rng
        self.heading += rng.uniform(-0.5, 0.5)
        d = SPEED / MOVE_HZ
        x = self.x + d * math.cos(self.heading)
        y = self.y + d * math.sin(self.heading)
        if not (0.0 <= x <= SQUARE and 0.0 <= y <= SQUARE):
            self.heading += math.pi  # turn back at the edge
            x, y = min(max(x, 0.0), SQUARE), min(max(y, 0.0), SQUARE)
        self.x, self.y = x, y
        track = self.clock["t_measure"] <= now < self.clock["t_end"]
        st = self.stats
        rid = self.rid
        out = [frame(_packb({"op": "move", "id": rid, "position": [x, y, 1.7]}))]
        if track:
            self.sent[rid] = (now, 0)
            st.sent[0] += 1
        rid += 1
        tick = self.tick
        if tick % REZ_EVERY == self.rez_phase:
            pos = [x + rng.uniform(-10.0, 10.0), y + rng.uniform(-10.0, 10.0), rng.random() * 5]
            out.append(frame(_packb({"op": "rez", "id": rid, "entity": {
                "type": "box", "position": pos, "lifetime": LIFETIME}})))
            if track:
                self.sent[rid] = (now, 1)
                st.sent[1] += 1
            rid += 1
        if tick % SAY_EVERY == self.say_phase:
            out.append(frame(_packb({"op": "say", "id": rid, "text": "hello over there"})))
            if track:
                self.sent[rid] = (now, 2)
                st.sent[2] += 1
            rid += 1
        self.rid = rid
        self.tick = tick + 1
        self.transport.write(b"".join(out))  # type: ignore[union-attr]

    def close(self) -> None:
        if self.transport is not None and self.state == 3:
            self.state = 4
            self.transport.write(frame(b"\x03\xe8", 8))
            self.transport.close()


class Stats:
    def __init__(self) -> None:
        self.lat: list[list[float]] = [[] for _ in KINDS]
        self.sent = [0 for _ in KINDS]
        self.events = [0] * 32  # by the length of the event's name
        self.replies = 0
        self.errors: dict[str, int] = {}
        self.closed = 0
        self.close_codes: dict[int, int] = {}


async def run_viewers(port: int, count: int, index: int, interest: float | None,
                      warmup: float, measure: float, barrier: Any, t_go: Any,
                      connect_timeout: float) -> dict[str, Any]:
    from domainserver.client import Identity

    loop = asyncio.get_running_loop()
    rng = random.Random(1000 + index)
    clock = {"t_measure": math.inf, "t_end": math.inf}
    stats = Stats()
    extra: dict[str, Any] = {}
    if interest is not None:
        extra = {"features": ["interest"], "interest_radius": interest}
    gate = asyncio.Semaphore(32)

    async def connect(k: int) -> Viewer:
        async with gate:
            v: Viewer | None = None

            def make() -> Viewer:
                nonlocal v
                v = Viewer(Identity.generate(), f"v{index}-{k}", extra,
                           random.Random(rng.getrandbits(64)), clock, stats)
                return v

            await loop.create_connection(make, HOST, port)
            assert v is not None
            await asyncio.wait_for(v.ready, connect_timeout)
            return v

    t0 = time.monotonic()
    viewers = await asyncio.wait_for(asyncio.gather(*(connect(k) for k in range(count))),
                                     connect_timeout)
    connect_s = time.monotonic() - t0
    await asyncio.to_thread(barrier.wait, connect_timeout)  # everyone connected
    await asyncio.to_thread(barrier.wait, connect_timeout)  # the parent has set t_go
    start = t_go.value
    clock["t_measure"] = start + warmup
    clock["t_end"] = start + warmup + measure
    stop = clock["t_end"]
    groups = [viewers[s::SLOTS] for s in range(SLOTS)]
    slot_dt = 1.0 / MOVE_HZ / SLOTS
    t = start
    late = 0.0
    slot = 0
    while t < stop:
        delay = t - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        now = time.monotonic()
        if clock["t_measure"] <= now < stop:
            late = max(late, now - t)
        for v in groups[slot]:
            v.step(now)
        slot = (slot + 1) % SLOTS
        t += slot_dt
    # Wait (bounded) for the replies to what was sent in the window.
    deadline = time.monotonic() + 10.0
    while time.monotonic() < deadline and any(v.sent and v.state == 3 for v in viewers):
        await asyncio.sleep(0.05)
    unanswered = [0 for _ in KINDS]
    for v in viewers:
        for _t, kind in v.sent.values():
            unanswered[kind] += 1
        v.close()
    await asyncio.sleep(0.1)
    return {"lat": stats.lat, "sent": stats.sent, "events": stats.events,
            "replies": stats.replies, "errors": stats.errors, "closed": stats.closed,
            "close_codes": stats.close_codes, "unanswered": unanswered,
            "connect_s": connect_s, "late": late}


def viewers_worker(args: tuple, queue: Any) -> None:
    """multiprocessing target: run `run_viewers(*args)`, put its dict (or the error) on queue."""
    try:
        queue.put(asyncio.run(run_viewers(*args)))
    except BaseException as exc:  # reported by the parent
        import traceback

        queue.put({"error": repr(exc), "trace": traceback.format_exc()})


# -- one step (the parent) -------------------------------------------------------------


def step(n: int, interest: float | None, warmup: float, measure: float) -> dict[str, Any]:
    """A fresh server, n viewers in VIEWER_PROCS processes; the window's figures."""
    ctx = mp.get_context("spawn")
    connect_timeout = 60.0 + n * 0.1
    with temp_dir("capacity") as tmp, Server.domain(tmp, permissions_text({}, VISITOR)) as server:
        queue = ctx.Queue()
        barrier = ctx.Barrier(VIEWER_PROCS + 1)
        t_go = ctx.Value("d", 0.0)
        procs = []
        try:
            per = [n // VIEWER_PROCS + (i < n % VIEWER_PROCS) for i in range(VIEWER_PROCS)]
            for i, k in enumerate(per):
                p = ctx.Process(target=viewers_worker, args=(
                    (server.port, k, i, interest, warmup, measure, barrier, t_go,
                     connect_timeout), queue))
                p.start()
                procs.append(p)
            barrier.wait(connect_timeout + 30)
            t_go.value = time.monotonic() + 0.2
            barrier.wait(30)
            start = t_go.value
            t_measure, t_end = start + warmup, start + warmup + measure
            pids = [server.pid] + [p.pid for p in procs]
            time.sleep(max(0.0, t_measure - time.monotonic()))
            cpu0 = [cpu_seconds(pid) for pid in pids]
            main0 = thread_cpu_seconds(server.pid).get("main", 0.0)
            wait0, psi0 = runq_wait(server.pid), cpu_pressure()
            w0 = time.monotonic()
            time.sleep(max(0.0, (t_measure + t_end) / 2 - time.monotonic()))
            try:  # mid-window: the world and the sessions in steady state
                world = healthz(server.port)
            except OSError:  # a saturated server may not answer within healthz's 5 s
                world = {}
            time.sleep(max(0.0, t_end - time.monotonic()))
            cpu1 = [cpu_seconds(pid) for pid in pids]
            main1 = thread_cpu_seconds(server.pid).get("main", 0.0)
            wait1, psi1 = runq_wait(server.pid), cpu_pressure()
            window = time.monotonic() - w0
            results = [queue.get(timeout=measure + 60) for _ in procs]
        finally:
            stop_processes(procs)
    raise_failed(results)
    lat = [sorted(x for r in results for x in r["lat"][k]) for k in range(len(KINDS))]
    unanswered = [sum(r["unanswered"][k] for r in results) for k in range(len(KINDS))]
    every = sorted(x for k in range(len(KINDS)) for x in lat[k])
    missing = sum(unanswered)
    # An unanswered request counts as slower than any answered one.
    every_inf = every + [math.inf] * missing
    events = [sum(r["events"][i] for r in results) for i in range(32)]
    errors: dict[str, int] = {}
    codes: dict[int, int] = {}
    for r in results:
        for key, c in r["errors"].items():
            errors[key] = errors.get(key, 0) + c
        for key, c in r["close_codes"].items():
            codes[key] = codes.get(key, 0) + c
    server_cpu = (cpu1[0] - cpu0[0]) / window
    gen_cpu = sum(b - a for a, b in zip(cpu0[1:], cpu1[1:], strict=True)) / window
    return {
        "n": n,
        "interest": interest is not None,
        "p50": pct(every_inf, 0.5),
        "p99": pct(every_inf, 0.99),
        "by_kind": {KINDS[k]: (pct(lat[k], 0.5), pct(lat[k], 0.99), len(lat[k]))
                    for k in range(len(KINDS))},
        "sent": [sum(r["sent"][k] for r in results) / measure for k in range(len(KINDS))],
        "unanswered": unanswered,
        "events_s": sum(events) / measure,
        "events_by": {_EV_NAMES.get(i, f"len{i}"): c / measure for i, c in enumerate(events)
                      if c},
        "replies_s": sum(r["replies"] for r in results) / measure,
        "server_cpu": server_cpu,
        "main_cpu": (main1 - main0) / window,
        "main_wait": (wait1 - wait0) / window,
        "pressure": (psi1 - psi0) / window,
        "loadavg": loadavg(),
        "gen_cpu": gen_cpu,
        "errors": errors,
        "closed": sum(r["closed"] for r in results),
        "close_codes": codes,
        "entities": world.get("entities", -1),
        "sessions": world.get("sessions", -1),
        "connect_s": max(r["connect_s"] for r in results),
        "late": max(r["late"] for r in results),
    }


# -- the report ------------------------------------------------------------------------


def growth(value: float, base: float, n: int, n0: int) -> str:
    """`value` over the smallest N's, and the exponent k of N^k it implies."""
    if n == n0:
        return "the baseline"
    if not (base > 0 and value > 0) or math.isinf(value) or math.isinf(base):
        return "n/a"
    ratio = value / base
    k = math.log(ratio) / math.log(n / n0)
    return f"{ratio:.2f}x vs N={n0} (~N^{k:.2f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="N = 20, 50; 2 + 3 s a step")
    parser.add_argument("--sizes", help="comma-separated N (default 100,300,1000)")
    parser.add_argument("--modes", default="v1,interest", help="v1, interest or both")
    parser.add_argument("--warmup", type=float, help="seconds before the window")
    parser.add_argument("--measure", type=float, help="seconds measured")
    args = parser.parse_args()
    sizes = [20, 50] if args.quick else [100, 300, 1000]
    if args.sizes:
        sizes = [int(s) for s in args.sizes.split(",")]
    warmup = args.warmup if args.warmup is not None else (2.0 if args.quick else 30.0)
    measure = args.measure if args.measure is not None else (3.0 if args.quick else 15.0)
    modes = [m.strip() for m in args.modes.split(",")]
    report = Report("capacity", args.quick)
    report.note(f"{VIEWER_PROCS} viewer processes; per viewer {MOVE_HZ} move/s, 1 rez/s "
                f"(lifetime {LIFETIME:g} s), 1 say per {SAY_EVERY // MOVE_HZ} s; 1 km square; "
                f"warm-up {warmup:g} s, window {measure:g} s; interest radius {INTEREST:g} m")
    t_all = time.monotonic()
    results: dict[tuple[str, int], dict[str, Any]] = {}
    for mode in modes:
        for n in sizes:
            r = step(n, INTEREST if mode == "interest" else None, warmup, measure)
            results[(mode, n)] = r
            tag = f"N={n} {mode}"
            base = results[(mode, sizes[0])]
            report.figure(f"{tag}: reply p50 (all ops)", r["p50"] * 1e3, "ms",
                          baseline=growth(r["p50"], base["p50"], n, sizes[0]))
            report.figure(f"{tag}: reply p99 (all ops)", r["p99"] * 1e3, "ms",
                          baseline=growth(r["p99"], base["p99"], n, sizes[0]))
            sent, missing = sum(r["sent"]) * measure, sum(r["unanswered"])
            report.figure(f"{tag}: answered within 10 s of the window's end",
                          100 * (1 - missing / sent) if sent else float("nan"), "%",
                          baseline="inf above: some never answered in time (overloaded)")
            for kind, (p50, p99, count) in r["by_kind"].items():
                report.figure(f"{tag}:   {kind} p50 / p99", p50 * 1e3, "ms",
                              baseline=f"p99 {p99 * 1e3:.1f} ms over {count:,} replies")
            report.figure(f"{tag}: events pushed per second", r["events_s"], "frames/s",
                          baseline=growth(r["events_s"], base["events_s"], n, sizes[0]))
            report.figure(f"{tag}:   by kind", sum(r["events_by"].values()), "frames/s",
                          baseline=", ".join(f"{k} {v:,.0f}"
                                             for k, v in sorted(r["events_by"].items())))
            report.figure(f"{tag}: replies per second", r["replies_s"], "frames/s",
                          baseline="sent " + ", ".join(
                              f"{k} {s:,.0f}/s" for k, s in zip(KINDS, r["sent"], strict=True)))
            report.figure(f"{tag}: server CPU", r["server_cpu"], "cores",
                          baseline=growth(r["server_cpu"], base["server_cpu"], n, sizes[0]))
            report.figure(f"{tag}:   of which the event loop's thread", r["main_cpu"], "cores",
                          baseline=f"1 core = saturated; it waited for a CPU "
                          f"{r['main_wait'] * 100:.0f} % of the window")
            report.figure(f"{tag}: machine CPU pressure (PSI some)", r["pressure"] * 100, "%",
                          baseline=f"load average {r['loadavg']} at the window's end")
            report.figure(f"{tag}: server CPU per viewer", r["server_cpu"] / n * 1e3,
                          "ms/s", baseline=f"world {r['entities']:,} entities, "
                          f"{r['sessions']} sessions mid-window")
            report.figure(f"{tag}: load generators' share of the 2 cores",
                          r["gen_cpu"] / CORES * 100, "%",
                          baseline=f"{r['gen_cpu']:.2f} cores; ticks up to "
                          f"{r['late'] * 1e3:.0f} ms late; connect {r['connect_s']:.1f} s")
            if r["errors"]:
                report.note(f"{tag}: refused {r['errors']}")
            if any(r["unanswered"]):
                report.note(f"{tag}: unanswered within 10 s of the window's end "
                            f"(counted as infinitely slow): "
                            + ", ".join(f"{k} {c}" for k, c in zip(KINDS, r["unanswered"],
                                                                   strict=True)))
            if r["closed"]:
                report.note(f"{tag}: {r['closed']} viewers closed by the server before the end "
                            f"(close codes {r['close_codes']})")
    if "v1" in modes and "interest" in modes:
        for n in sizes:
            a, b = results[("interest", n)], results[("v1", n)]
            report.figure(f"N={n}: interest / v1, events pushed", a["events_s"] / b["events_s"]
                          if b["events_s"] else float("nan"), "x")
            report.figure(f"N={n}: interest / v1, server CPU", a["server_cpu"] / b["server_cpu"],
                          "x", baseline=f"p99 {a['p99'] * 1e3:.1f} vs {b['p99'] * 1e3:.1f} ms")
    report.figure("whole benchmark", time.monotonic() - t_all, "s")
    report.emit()


if __name__ == "__main__":
    main()
