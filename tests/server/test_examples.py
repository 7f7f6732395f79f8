"""The examples run: the griefing drill as a smoke test of the whole safety story (it starts
its own `python -m domainserver serve`), and the first-visit script against a test server."""

import asyncio
import re
import sys
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


async def run_example(*args, timeout=90):
    proc = await asyncio.create_subprocess_exec(
        sys.executable, str(EXAMPLES / args[0]), *args[1:],
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )
    try:
        out, _ = await asyncio.wait_for(proc.communicate(), timeout)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise
    return proc.returncode, out.decode()


async def test_griefing_drill_passes_and_tells_the_story():
    code, out = await run_example("griefing_drill.py")
    assert code == 0, out
    for line in [
        "ok  ... but their creator is Grim: the lineage is kept",
        "(owner Vera): FREE RINGS!!!",
        "[Vera] mute {invisible: true} -> covers 4 entities",
        "[Vera] after her mutes she receives 0 events",
        "[Mo] remove {creator: Grim} -> removed 6",
        "[Vera] sees 6 entity_removed (reason removed)",
        "[Grim] is told {'ev': 'kicked', 'reason': 'griefing'} and disconnected with code 4003",
        "[Grim] reconnect refused: banned",
        "drill passed: all",
    ]:
        assert line in out, (line, out)
    assert "FAIL" not in out


async def test_griefing_drill_init_writes_a_valid_permissions_file(tmp_path):
    code, out = await run_example("griefing_drill.py", "--init", str(tmp_path / "keys"))
    assert code == 0, out
    names = {p.name for p in (tmp_path / "keys").iterdir()}
    assert names == {"griefer.pem", "victim.pem", "moderator.pem", "permissions.toml"}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "domainserver", "check", str(tmp_path / "keys/permissions.toml"),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 0, out.decode()


async def test_griefing_drill_fails_loudly_when_it_cannot_play(tmp_path):
    keys = tmp_path / "keys"
    assert (await run_example("griefing_drill.py", "--init", str(keys)))[0] == 0
    code, out = await run_example("griefing_drill.py", "--url", "ws://127.0.0.1:9/ws",
                                  "--keys", str(keys))  # nothing listens on port 9
    assert code == 1 and "drill FAILED" in out and "drill passed" not in out


async def test_visitor_example_against_a_server(harness, people):
    watcher = await harness.connect(people.visitor, name="Watcher")
    code, out = await run_example("visitor.py", "--url", harness.ws_url, "--seconds", "0.5",
                                  "--name", "Newcomer")
    assert code == 0, out
    token = re.search(r"^token: ([a-z2-7]{32})$", out, re.M).group(1)
    assert "role: visitor" in out and "said hello" in out and out.rstrip().endswith("bye")
    box = re.search(r"^rezzed box (\w+) \(owner " + token, out, re.M).group(1)
    # The server saw the same thing the script printed.
    assert harness.domain.world.get(box).owner == token
    added = await watcher.event("entity_added")
    assert added["entity"]["id"] == box and added["entity"]["owner"] == token
    chat = await watcher.event("chat")
    assert chat["from"] == {"avatar": token, "name": "Newcomer"} and chat["text"] == "hello"
