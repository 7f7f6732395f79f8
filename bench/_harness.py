"""Shared plumbing for the benchmarks: figures, targets, the machine, a real server subprocess.

Every benchmark prints its own table and ends with one `BENCH-JSON:` line that
`bench/run_all.py` collects into the summary. Quick mode reports; it never fails on a
missed target. Only loopback addresses are used.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import platform
import random
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # run from a checkout

from entities.model import NO_OVERRIDE, Entity  # noqa: E402

HOST = "127.0.0.1"
JSON_MARK = "BENCH-JSON: "
CLK_TCK = os.sysconf("SC_CLK_TCK")


# -- figures -------------------------------------------------------------------------


def pct(samples: Iterable[float], q: float) -> float:
    """The q-quantile (0..1) by nearest rank; nan for no samples."""
    ordered = sorted(samples)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


def median(samples: Iterable[float]) -> float:
    data = list(samples)
    return statistics.median(data) if data else float("nan")


def timed(fn, reps: int) -> list[float]:
    """Seconds of each of `reps` calls of fn()."""
    out = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def per_call(fn, args: list[Any], batch: int = 1000, rounds: int = 1) -> list[float]:
    """Seconds per call of fn(arg), one sample per batch of `batch` calls."""
    samples = []
    for _ in range(rounds):
        for start in range(0, len(args) - batch + 1, batch):
            chunk = args[start : start + batch]
            t0 = time.perf_counter()
            for a in chunk:
                fn(a)
            samples.append((time.perf_counter() - t0) / batch)
    return samples


class Report:
    """Figures of one benchmark: printed as they come, emitted as JSON at the end."""

    def __init__(self, name: str, quick: bool) -> None:
        self.name = name
        self.quick = quick
        self.rows: list[dict[str, Any]] = []
        self.notes: list[str] = []
        print(f"== {name} ({'quick' if quick else 'full'}) on {machine_line()}; "
              f"load average {loadavg()}", flush=True)

    def figure(
        self,
        label: str,
        value: float,
        unit: str,
        target: str | None = None,
        met: bool | None = None,
        baseline: str | None = None,
    ) -> None:
        row = {"label": label, "value": value, "unit": unit, "target": target, "met": met}
        if baseline is not None:
            row["baseline"] = baseline
        self.rows.append(row)
        verdict = "" if met is None else ("  MET" if met else "  MISSED")
        tgt = f"  (target {target})" if target else ""
        extra = f"  [{baseline}]" if baseline else ""
        print(f"  {label:<52} {fmt(value):>12} {unit:<8}{tgt}{verdict}{extra}", flush=True)

    def note(self, text: str) -> None:
        self.notes.append(text)
        print(f"  note: {text}", flush=True)

    def emit(self) -> None:
        print(f"  load average at the end: {loadavg()}", flush=True)
        print(
            JSON_MARK
            + json.dumps({"bench": self.name, "quick": self.quick, "rows": self.rows,
                          "notes": self.notes}),
            flush=True,
        )


def fmt(value: float) -> str:
    if value != value:  # nan
        return "n/a"
    if value == 0:
        return "0"
    a = abs(value)
    if a >= 1000:
        return f"{value:,.0f}"
    if a >= 10:
        return f"{value:.1f}"
    if a >= 0.1:
        return f"{value:.3f}"
    return f"{value:.4g}"


# -- the machine ---------------------------------------------------------------------


def machine() -> dict[str, Any]:
    model = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(terse=True),
    }


def loadavg() -> str:
    with contextlib.suppress(OSError):
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    return "?"


def machine_line() -> str:
    m = machine()
    return f"{m['cpu']}, {m['cores']} cores, Python {m['python']}"


def rss_bytes(pid: int | str = "self") -> int:
    """Resident set size of a process, from /proc."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process (all its threads), from /proc/<pid>/stat."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def thread_cpu_seconds(pid: int) -> dict[str, float]:
    """utime + stime per thread ("main" for the event loop's, else "thread TID"), from /proc."""
    out: dict[str, float] = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(OSError):
            comm = "main" if task.name == str(pid) else f"thread {task.name}"
            stat = (task / "stat").read_text()
            fields = stat[stat.rindex(")") + 2 :].split()
            out[comm] = out.get(comm, 0.0) + (int(fields[11]) + int(fields[12])) / CLK_TCK
    return out


def self_cpu_seconds() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


# -- tokens, identities, entities ----------------------------------------------------


def random_tokens(rng: random.Random, n: int) -> list[str]:
    import base64

    return [base64.b32encode(rng.randbytes(20)).decode().lower() for _ in range(n)]


def make_entity(
    eid: str,
    owner: str | None,
    position: tuple[float, float, float],
    now: float,
    expires_at: float | None = None,
    props: dict[str, Any] | None = None,
    script: str | None = None,
) -> Entity:
    return Entity(
        id=eid,
        owner=owner,
        creator=owner,
        parent=None,
        type="box",
        position=position,
        dimensions=(1.0, 1.0, 1.0),
        visible=True,
        expires_at=expires_at,
        script=script,
        override=NO_OVERRIDE,
        props=props or {},
        created_at=now,
    )


def seed_rows(
    n: int,
    owner_of,
    rng: random.Random,
    now: float,
    extent: tuple[float, float, float] = (2000.0, 2000.0, 100.0),
    id_of=None,
    expires_of=None,
) -> Iterator[tuple[Any, ...]]:
    """Entity rows from one `Entity.to_row()` template, varied in id, owner, place, deadline."""
    t = make_entity("x", "o", (0.0, 0.0, 0.0), now - 60.0).to_row()
    u = rng.random
    ex, ey, ez = extent
    for i in range(n):
        owner = owner_of(i)
        yield (id_of(i) if id_of else f"{rng.getrandbits(64):016x}", owner, owner, None, t[4],
               u() * ex, u() * ey, u() * ez, *t[8:12],
               expires_of(i) if expires_of else None, *t[13:])


def seed_db(db_path: str | Path, rows: Iterable[tuple[Any, ...]], chunk: int = 50_000) -> int:
    """Write entity rows straight into a fresh database through the store's own `save`."""
    from domainserver.store import Store
    from domainserver.store import entities as entity_rows

    n = 0
    with Store.open(db_path, synchronous="OFF") as store:
        buf: list[tuple[Any, ...]] = []
        for row in rows:
            buf.append(row)
            if len(buf) >= chunk:
                batch, buf = buf, []
                store.write_sync(lambda c, b=batch: entity_rows.save(c, b))
                n += len(batch)
        if buf:
            store.write_sync(lambda c, b=buf: entity_rows.save(c, b))
            n += len(buf)
    return n


# -- a real server, as a subprocess --------------------------------------------------

ALL_CAPS = '["kick", "ban", "find", "remove", "locate", "edit_any", "reports"]'


def permissions_text(members: dict[str, str], visitor: str | None = None) -> str:
    """A permissions file: a `bench` role with no practical limits, a `moderator` with every
    cap, and the given members; `visitor` replaces the visitor role's body."""
    lines = [
        '[domain]\nid = "bench"\naccess = "open"\nmax_temp_lifetime = 86400\n'
        "default_temp_lifetime = 600\nlineage_rez_per_second = 1000000",
        visitor
        or '[roles.visitor]\nrez = "temporary"\nscripts = false\nmax_entities = 50\n'
        "rez_per_second = 10\nchat_per_second = 5\ncaps = []",
        '[roles.bench]\nrez = "permanent"\nscripts = true\nmax_entities = 1000000000\n'
        "rez_per_second = 1000000000\nchat_per_second = 1000000000\ncaps = []\nrank = 10",
        f'[roles.moderator]\nrez = "permanent"\nscripts = true\nmax_entities = 1000000000\n'
        f"rez_per_second = 1000000000\nchat_per_second = 1000000000\ncaps = {ALL_CAPS}\n"
        "rank = 100",
        "[members]",
    ]
    lines += [f'"{t}" = "{r}"' for t, r in members.items()]
    # The key the benchmarks read /healthz's counts with.
    lines.append(f'[api_keys.bench]\nsha256 = "{hashlib.sha256(BENCH_KEY.encode()).hexdigest()}"'
                 '\nscopes = ["metrics:read"]')
    return "\n".join(lines) + "\n"


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def temp_dir(prefix: str) -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix=f"bench-{prefix}-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def wait_healthy(port: int, proc: subprocess.Popen | None, timeout: float) -> float:
    """Poll /healthz until 200; returns seconds waited. Raises if the process died or timed out."""
    t0 = time.perf_counter()
    url = f"http://{HOST}:{port}/healthz"
    while True:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode} before answering /healthz")
        try:
            with urllib.request.urlopen(url, timeout=1) as r:
                if r.status == 200:
                    return time.perf_counter() - t0
        except OSError:
            pass
        if time.perf_counter() - t0 > timeout:
            raise TimeoutError(f"/healthz on port {port} did not answer within {timeout:.0f} s")
        time.sleep(0.02)


BENCH_KEY = "bench-metrics-key"


def healthz(port: int) -> dict[str, Any]:
    """/healthz with its counts (the bench permissions hold a `metrics:read` key)."""
    request = urllib.request.Request(f"http://{HOST}:{port}/healthz",
                                     headers={"Authorization": f"Bearer {BENCH_KEY}"})
    with urllib.request.urlopen(request, timeout=5) as r:
        return json.loads(r.read())


class Server:
    """`python -m domainserver serve` (or any command) on a free loopback port, always stopped."""

    def __init__(
        self, argv: list[str], port: int, log_path: Path, env: dict[str, str] | None = None
    ) -> None:
        self.env = env
        self.argv = argv
        self.port = port
        self.log_path = log_path
        self.proc: subprocess.Popen | None = None
        self.startup_s = float("nan")

    @classmethod
    def domain(cls, workdir: Path, permissions: str, db: str | None = None,
               extra_env: dict[str, str] | None = None) -> Server:
        perm = workdir / "permissions.toml"
        perm.write_text(permissions)
        # One load-generator connection sends tens of thousands of frames a second, far past
        # what a viewer does: lift that limit (the only default a benchmark changes).
        settings = workdir / "bench-settings.toml"
        settings.write_text("[server]\nmax_frames_per_second = 1e9\n")
        extra_env = {"DOMAINSERVER_CONFIG": str(settings), **(extra_env or {})}
        port = free_port()
        argv = [sys.executable, "-m", "domainserver", "serve", "--permissions", str(perm),
                "--db", db or str(workdir / "domain.db"), "--host", HOST, "--port", str(port)]
        profile = os.environ.get("BENCH_PROFILE")  # a path: run the server under cProfile
        if profile:
            argv[1:1] = ["-m", "cProfile", "-o", profile]
        return cls(argv, port, workdir / f"server-{port}.log", extra_env)

    @classmethod
    def echo(cls, workdir: Path) -> Server:
        port = free_port()
        argv = [sys.executable, str(Path(__file__).with_name("_echo_server.py")), str(port)]
        return cls(argv, port, workdir / f"echo-{port}.log")

    @property
    def url(self) -> str:
        return f"ws://{HOST}:{self.port}/ws"

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def start(self, timeout: float = 60.0) -> Server:
        env = dict(os.environ)
        env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
        if self.env:
            env.update(self.env)
        self._log = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(self.argv, stdout=self._log, stderr=subprocess.STDOUT,
                                     cwd=str(ROOT), env=env)
        try:
            self.startup_s = wait_healthy(self.port, self.proc, timeout)
        except BaseException:
            self.stop()
            print(self.tail(), file=sys.stderr)
            raise
        return self

    def tail(self, n: int = 30) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])
        return ""

    def stop(self) -> None:
        proc = self.proc
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
        if getattr(self, "_log", None) is not None:
            self._log.close()
            self._log = None

    def __enter__(self) -> Server:
        return self.start() if self.proc is None else self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def stop_processes(procs: Iterable[Any]) -> None:
    """Join load-generator processes, terminating any still running after 10 s."""
    for p in procs:
        p.join(10)
        if p.is_alive():
            p.terminate()
            p.join(5)


def raise_failed(results: Iterable[dict[str, Any]]) -> None:
    """Raise a load generator's own traceback here when one of them failed (`_load.worker`
    puts it in its result)."""
    failed = [r for r in results if "error" in r]
    if failed:
        raise RuntimeError(failed[0]["trace"])


def identity_from_seed(seed: bytes):
    """A deterministic viewer identity (so worker processes can rebuild it from 32 bytes)."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from domainserver.client import Identity

    return Identity(Ed25519PrivateKey.from_private_bytes(seed))
