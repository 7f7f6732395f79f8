"""`domainserver serve` as a real process: SIGTERM stops cleanly, kill -9 loses nothing acked,
and the server mounts into another aiohttp application."""

import asyncio
import os
import signal

import aiohttp
from aiohttp import web

import domainserver
from domainserver.client import Client, Identity

from .conftest import policy_text, run_cli
from .process import free_port, serve


async def start_serve(tmp_path, people, port):
    perms = tmp_path / "p.toml"
    perms.write_text(policy_text(people))
    served = await serve(tmp_path, "--permissions", str(perms), "--db", str(tmp_path / "w.db"),
                         port=port)  # fmt: skip
    return served.proc


async def test_kill_9_loses_nothing_acknowledged_and_sigterm_is_clean(tmp_path, people):
    port = free_port()
    proc = await start_serve(tmp_path, people, port)
    try:
        acked = await crash_after_acks(proc, port, people)
    finally:
        proc.kill()
        proc.wait(10)
    await restart_and_find_everything(tmp_path, people, port, acked)


async def crash_after_acks(proc, port, people):
    url = f"ws://127.0.0.1:{port}/ws"
    c = await Client.connect(url, people.trusted)
    futures = [
        c.submit("rez", entity={"type": "box", "position": [i, 0, 0]}) for i in range(40)
    ]  # under the role quota of 50
    replies = await asyncio.gather(*futures)
    acked = {r["entity"]["id"] for r in replies if r.get("ok")}
    assert len(acked) == 40
    mod = await Client.connect(url, people.moderator)
    await mod.request("ban", token=people.griefer.token, reason="test")
    await mod.request("mute", target={"invisible": True})
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(10)
    await c.close()
    await mod.close()
    return acked


async def restart_and_find_everything(tmp_path, people, port, acked):
    url = f"ws://127.0.0.1:{port}/ws"
    proc = await start_serve(tmp_path, people, port)
    try:
        c = await Client.connect(url, people.moderator)
        found = await c.request("find", owner=people.trusted.token, limit=1000)
        assert {e["id"] for e in found["entities"]} == acked
        assert (await c.request("mutes"))["mutes"] == [{"invisible": True}]
        try:
            await Client.connect(url, people.griefer)
            raise AssertionError("banned token admitted")
        except domainserver.client.RequestFailed as err:
            assert err.code == "banned"
        await c.close()
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            code = proc.wait(20)
        finally:
            proc.kill()
    assert code == 0
    output = (tmp_path / "serve.log").read_text()
    assert "Traceback" not in output


async def test_mounts_into_an_existing_app(aiohttp_server, tmp_path, people):
    async def hello(request):
        return web.Response(text="host app")

    app = web.Application()
    app.router.add_get("/", hello)
    perms = tmp_path / "p.toml"
    perms.write_text(policy_text(people))
    domainserver.setup(
        app,
        domainserver.ServerConfig(
            db_path=str(tmp_path / "m.db"), permissions_path=str(perms), handle_signals=False
        ),
        prefix="/domain",
    )
    server = await aiohttp_server(app)
    async with aiohttp.ClientSession() as http:
        async with http.get(server.make_url("/")) as r:
            assert await r.text() == "host app"
        async with http.get(server.make_url("/domain/healthz")) as r:
            assert r.status == 200
    c = await Client.connect(str(server.make_url("/domain/ws")), Identity.generate())
    try:
        assert (await c.request("whoami"))["role"] == "visitor"
    finally:
        await c.close()


def test_unusable_database_is_a_clear_refusal(tmp_path):
    db = tmp_path / "no" / "such" / "dir.db"
    out = run_cli("serve", "--db", str(db), "--port", str(free_port()))
    assert out.returncode == 2
    assert "cannot use the database" in out.stderr and "Traceback" not in out.stderr


def test_bad_permissions_file_is_refused_with_its_line(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('[domain]\nid = "x"\naccess = "sometimes"\n')
    out = run_cli(
        "serve",
        "--permissions",
        str(bad),
        "--db",
        str(tmp_path / "w.db"),
        "--port",
        str(free_port()),
    )
    assert out.returncode == 2
    assert f"{bad}:3: " in out.stderr and "Traceback" not in out.stderr
