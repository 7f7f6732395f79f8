"""SIGTERM with viewers connected stops the server within a second or two and tells every
viewer 1001 (going away); SIGHUP on the embedded default policy is a logged no-op."""

import asyncio
import os
import signal
import time

import aiohttp

from domainserver.client import Client, Identity

from .process import serve


async def test_sigterm_with_viewers_connected_is_quick_and_sends_1001(tmp_path):
    served = await serve(tmp_path, "--db", str(tmp_path / "w.db"))
    viewers = []
    http = aiohttp.ClientSession()
    try:
        for _ in range(8):
            viewers.append(await Client.connect(served.url, Identity.generate()))
        for v in viewers:
            await v.request("rez", entity={"type": "box", "position": [0, 0, 0]})
        # One connection that never says hello: it must not hold the shutdown either.
        silent = await http.ws_connect(served.url)
        await silent.receive_bytes()  # the challenge
        silent_read = asyncio.create_task(silent.receive())
        started = time.monotonic()
        served.proc.send_signal(signal.SIGTERM)
        code = await asyncio.to_thread(served.proc.wait, 30)
        took = time.monotonic() - started
        closes = [await v.wait_closed(timeout=10) for v in viewers]
        await silent_read
        silent_close = silent.close_code
    finally:
        for v in viewers:
            await v.close()
        await http.close()
        served.stop()
    assert code == 0, served.log()
    assert took < 5, f"shutdown took {took:.1f} s"
    assert closes == [1001] * 8
    assert silent_close == 1001
    assert "Traceback" not in served.log()


async def test_sighup_on_the_embedded_default_is_a_logged_no_op(tmp_path):
    served = await serve(tmp_path, "--db", str(tmp_path / "w.db"))
    try:
        c = await Client.connect(served.url, Identity.generate())
        os.kill(served.proc.pid, signal.SIGHUP)
        await served.wait_log("SIGHUP")
        assert served.proc.poll() is None  # still running
        assert (await c.request("whoami"))["role"] == "visitor"
        await c.close()
    finally:
        code = served.stop()
    assert code == 0
    assert "embedded default" in served.log()
