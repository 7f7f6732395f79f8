"""A viewer that stops reading costs the server a bounded number of bytes: past
`max_pending_bytes` of output queued for it, it is closed with 1008, and the viewers that do
read lose nothing and wait for nothing. Measured on a real server process's memory."""

import asyncio
import sys
from pathlib import Path

from domainserver.client import Client, Identity

from .conftest import policy_text
from .process import serve

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from _wsraw import Conn  # noqa: E402  (the lean raw-socket client of the benchmarks)

NON_READERS = 8
EVENTS = 2000  # entity_added events of ~16 KiB each: about 32 MB for every viewer
PROPS = {"blob": b"x" * 15_000}


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


async def flood(tmp_path, people, stalled_viewers):
    """A fresh server, `stalled_viewers` that never read, one that does, and ~32 MB of events
    for each: returns the server's memory growth and its log."""
    run = tmp_path / f"stalled{stalled_viewers}"
    run.mkdir()
    perms = run / "p.toml"
    perms.write_text(policy_text(people).replace(
        'scripts = true\nrez_per_second = 1000\n',
        'scripts = true\nrez_per_second = 1e6\nmax_entities = 100000\n'))  # fmt: skip
    served = await serve(run, "--permissions", str(perms), "--db", str(run / "d.db"))
    try:
        bystander = await Client.connect(served.url, people.visitor, name="reads")
        flooder = await Client.connect(served.url, people.moderator, name="flood")
        stalled = []
        for _ in range(stalled_viewers):
            conn = await Conn.open("127.0.0.1", served.port)
            await conn.handshake(Identity.generate(), name="stalled")
            conn.writer.transport.pause_reading()  # never reads another byte
            stalled.append(conn)
        await bystander.request("whoami")
        before = rss_bytes(served.proc.pid)
        seen = 0
        for start in range(0, EVENTS, 100):
            replies = await asyncio.gather(*[
                flooder.submit("rez", entity={"type": "box", "position": [i % 50, 0, 0],
                                              "props": PROPS})
                for i in range(start, start + 100)
            ])  # fmt: skip
            assert all(r["ok"] for r in replies), [r for r in replies if not r["ok"]][:1]
            # The reading viewer keeps up and loses nothing.
            while seen < start + 100:
                event = await bystander.event("entity_added", timeout=10)
                assert event["entity"]["props"]["blob"] == PROPS["blob"]
                seen += 1
        grown = rss_bytes(served.proc.pid) - before
        if stalled_viewers:
            await served.wait_log("is not reading", timeout=30)
        assert (await bystander.request("whoami"))["token"] == people.visitor.token
        for conn in stalled:
            conn.writer.close()
        await bystander.close()
        await flooder.close()
    finally:
        assert served.stop() == 0
    return grown, served.log()


async def test_viewers_that_never_read_are_closed_at_the_byte_bound(tmp_path, people):
    alone, _ = await flood(tmp_path, people, 0)
    with_stalled, log = await flood(tmp_path, people, NON_READERS)
    assert log.count("is not reading") == NON_READERS
    # Unbounded, each stalled viewer would hold ~32 MB (256 MB in all); bounded, a viewer
    # holds at most 1 MiB queued beyond its socket's 1 MiB high water (a margin for the
    # allocator's noise on a busy machine: still a quarter of the unbounded cost).
    assert with_stalled - alone < 64 << 20, (with_stalled, alone)
