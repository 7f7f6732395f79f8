"""A griefing drill: a griefer, a victim, a bystander and a moderator play out an attack and
its clean-up on a real server, and the drill prints what each of them sees.

    python examples/griefing_drill.py                 # starts its own server, then plays
    python examples/griefing_drill.py --init DIR      # writes keys + permissions for your own
    domainserver serve --permissions DIR/permissions.toml --db drill.db --port 8080
    python examples/griefing_drill.py --url ws://127.0.0.1:8080/ws --keys DIR

Exit status 0 when every expected observation was made, 1 otherwise: it doubles as a
smoke test of the safety features (lineage, mutes, find/remove, ban).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import socket
import sys
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run from a checkout

import aiohttp  # noqa: E402
from cryptography.hazmat.primitives import serialization  # noqa: E402

from domainserver.client import Client, Identity, RequestFailed  # noqa: E402

RING_SCRIPT = "https://scripts.example/free-ring.js"
TINY = [0.02, 0.02, 0.02]
COPIES = 4
SPAM = "FREE RINGS!!! visit grim.example"
CORNER = {"center": [6, 1, 0], "radius": 5}  # where the copies hide
KEYS = ("griefer", "victim", "moderator")

POLICY = """\
# Written by examples/griefing_drill.py: the drill's griefer and victim may run scripts
# (a gift needs a script to replicate) and its moderator holds every operator capability.
[domain]
id = "griefing-drill"
access = "open"
max_temp_lifetime = 600
default_temp_lifetime = 60
lineage_rez_per_second = 20

[roles.visitor]
rez = "temporary"
scripts = false
max_entities = 50
rez_per_second = 10
chat_per_second = 5
caps = []

[roles.builder]
rez = "permanent"
scripts = true
max_entities = 500
rez_per_second = 20
chat_per_second = 20
rank = 10

[roles.moderator]
rez = "permanent"
scripts = true
max_entities = 500
rez_per_second = 20
chat_per_second = 10
caps = ["kick", "ban", "find", "remove", "locate", "edit_any"]
rank = 100

[members]
"{griefer}" = "builder"
"{victim}" = "builder"
"{moderator}" = "moderator"
"""


class DrillFailed(Exception):
    """An observation the drill cannot go on without did not happen."""


class Story:
    """Prints the narrative and keeps score of the expected observations."""

    def __init__(self) -> None:
        self.names: dict[str, str] = {}
        self.checks = 0
        self.failures: list[str] = []
        self.step = 0

    def who(self, token: str | None) -> str:
        if token is None:
            return "the domain"
        return self.names.get(token, token[:8] + "...")

    def chapter(self, title: str) -> None:
        self.step += 1
        print(f"\n== {self.step}. {title}", flush=True)

    def say(self, party: str, text: str) -> None:
        print(f"  [{party}] {text}", flush=True)

    def expect(self, ok: bool, what: str, fatal: bool = False) -> bool:
        self.checks += 1
        print(f"      {'ok ' if ok else 'FAIL'} {what}", flush=True)
        if not ok:
            self.failures.append(what)
            if fatal:
                raise DrillFailed(what)
        return ok


async def seen(client: Client) -> list[dict[str, Any]]:
    """Everything pushed to `client` so far: a round trip first, so nothing is in flight."""
    await client.request("whoami")
    return [e for e in client.drain_events() if e.get("ev") != "_closed"]


def chats(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e for e in events if e["ev"] == "chat"]


def removed(events: list[dict[str, Any]], reason: str) -> set[str]:
    return {e["id"] for e in events if e["ev"] == "entity_removed" and e["reason"] == reason}


async def play(url: str, griefer_id: Identity, victim_id: Identity, mod_id: Identity) -> Story:
    story = Story()
    names = story.names
    names.update({griefer_id.token: "Grim", victim_id.token: "Vera", mod_id.token: "Mo"})
    bystander_id = Identity.generate()
    names[bystander_id.token] = "Bea"

    story.chapter("Everyone arrives")
    mo = await Client.connect(url, mod_id, name="Mo", invisible=True)  # watching unseen
    story.expect({"find", "remove", "ban"} <= set(mo.hello["caps"]),
                 f"Mo is a moderator (role {mo.hello['role']}, caps {mo.hello['caps']})", True)
    # A clean slate when this server has seen the drill before.
    await mo.request("unban", token=griefer_id.token)
    await mo.request("remove", creator=griefer_id.token, reason="drill starts")
    grim = await Client.connect(url, griefer_id, name="Grim")
    vera = await Client.connect(url, victim_id, name="Vera")
    for target in (await vera.request("mutes"))["mutes"]:
        await vera.request("unmute", target=target)
    await mo.request("remove", owner=victim_id.token, reason="drill starts")
    bea = await Client.connect(url, bystander_id, name="Bea")
    for name, c in (("Grim", grim), ("Vera", vera), ("Bea", bea), ("Mo", mo)):
        story.say(name, f"connected as {c.hello['role']}, token {c.token}")
    story.expect(grim.hello["role"] != "visitor" and vera.hello["role"] != "visitor",
                 "Grim and Vera may run scripts (builders)", True)
    for c in (grim, vera, bea, mo):
        await seen(c)

    story.chapter("Grim hands out a scripted ring")
    ring = (await grim.request("rez", entity={
        "type": "ring", "position": [0, 1, 0], "script": RING_SCRIPT,
        "props": {"label": "free ring, take one!"}}))["entity"]
    story.say("Grim", f"rezzes ring {ring['id']} with script {RING_SCRIPT}")
    added = [e["entity"] for e in await seen(vera) if e["ev"] == "entity_added"]
    story.say("Vera", f"sees {len(added)} new entity: "
              + ", ".join(f"{e['type']} {e['id']} by {story.who(e['creator'])}" for e in added))
    story.expect([e["id"] for e in added] == [ring["id"]], "Vera sees the ring appear")
    await seen(bea)

    story.chapter("Vera takes the ring; its script replicates it on her")
    copies = []
    for i in range(COPIES):
        copy = (await vera.request("rez", parent=ring["id"], entity={
            "type": "ring", "position": [5 + 0.5 * i, 1, 0], "dimensions": TINY,
            "visible": False, "script": RING_SCRIPT}))["entity"]
        copies.append(copy)
        story.say("Vera", f"copy {copy['id']}: owner {story.who(copy['owner'])}, creator "
                  f"{story.who(copy['creator'])}, visible {copy['visible']}, "
                  f"size {copy['dimensions']}")
    copy_ids = {c["id"] for c in copies}
    story.expect(all(c["owner"] == vera.token for c in copies),
                 "the copies are owned by Vera (she rezzed them)")
    story.expect(all(c["creator"] == grim.token for c in copies),
                 "... but their creator is Grim: the lineage is kept")
    story.expect(all(c["visible"] is False for c in copies), "... and they are invisible")
    bea_added = [e for e in await seen(bea) if e["ev"] == "entity_added"]
    story.say("Bea", f"notices {len(bea_added)} new entities, owned by "
              + ", ".join(sorted({story.who(e["entity"]["owner"]) for e in bea_added})))

    async def copies_spam() -> None:
        for c in copies:
            await vera.request("entity_say", entity=c["id"], text=SPAM)

    story.chapter("The copies spam chat in Vera's name")
    await copies_spam()
    heard = chats(await seen(vera))
    for e in heard:
        story.say("Vera", f"hears entity {e['from']['entity']} (owner "
                  f"{story.who(e['from']['owner'])}): {e['text']}")
    story.expect(len(heard) == COPIES and {e["from"]["entity"] for e in heard} == copy_ids,
                 f"Vera hears all {COPIES} copies")
    story.expect(all(e["from"]["owner"] == vera.token for e in heard),
                 "the spam carries Vera's own token as owner")
    story.expect(len(chats(await seen(bea))) == COPIES, "Bea hears the spam too")

    story.chapter("Vera mutes every invisible entity")
    muted = (await vera.request("mute", target={"invisible": True}))["muted"]
    story.say("Vera", f"mute {{invisible: true}} -> covers {muted} entities")
    story.expect(muted == COPIES, f"the mute covers the {COPIES} invisible copies")
    await copies_spam()
    heard = chats(await seen(vera))
    story.say("Vera", f"hears {len(heard)} messages now")
    story.expect(heard == [], "Vera hears none of the copies")
    story.expect(len(chats(await seen(bea))) == COPIES, "Bea, who muted nothing, still does")

    story.chapter("Grim escalates: a visible billboard and his own voice")
    billboard = (await grim.request("rez", entity={
        "type": "billboard", "position": [8, 1, 0], "script": RING_SCRIPT}))["entity"]
    await grim.request("entity_say", entity=billboard["id"], text=SPAM)
    await grim.request("entity_say", entity=ring["id"], text="you like it, Vera?")
    await grim.request("say", text="hey Vera, check out my rings")
    events = await seen(vera)
    for e in events:
        if e["ev"] == "chat":
            sender = e["from"].get("name") or f"entity {e['from']['entity']}"
            story.say("Vera", f"hears {sender}: {e['text']}")
        elif e["ev"] == "entity_added":
            story.say("Vera", f"sees {e['entity']['type']} {e['entity']['id']} appear")
    story.expect(len(chats(events)) == 3, "Vera hears the billboard, the ring and Grim")
    await seen(bea)
    by_owner = (await vera.request("mute", target={"owner": grim.token}))["muted"]
    story.say("Vera", f"mute {{owner: Grim}} -> covers {by_owner} entities (and Grim's chat)")
    story.expect(by_owner == 2, "the owner mute covers Grim's ring and billboard")
    by_area = (await vera.request("mute", target={"area": CORNER}))["muted"]
    story.say("Vera", f"mute {{area: {CORNER}}} -> covers {by_area} entities")
    story.expect(by_area == COPIES + 1, "the area mute covers the copies and the billboard")
    await grim.request("edit", entity=billboard["id"], set={"position": [7, 2, 0]})
    await grim.request("entity_say", entity=billboard["id"], text=SPAM)
    await grim.request("say", text="VERA!!!")
    await copies_spam()
    quiet = await seen(vera)
    story.say("Vera", f"after her mutes she receives {len(quiet)} events")
    story.expect(quiet == [], "nothing of the attack reaches Vera any more")
    story.expect(len(chats(await seen(bea))) == COPIES + 2, "Bea still hears all of it")
    visible = (await vera.request("look", center=[0, 0, 0], radius=50))["entities"]
    story.say("Vera", f"looks around: {len(visible)} entities left in view")
    story.expect(not {e["id"] for e in visible} & (copy_ids | {ring["id"], billboard["id"]}),
                 "look leaves every muted entity out")

    story.chapter("Mo finds everything Grim made, whoever owns it")
    found, cursor, pages = [], None, 0
    while True:
        args: dict[str, Any] = {"creator": grim.token, "limit": 3}
        if cursor:
            args["cursor"] = cursor
        page = await mo.request("find", **args)
        pages += 1
        found += page["entities"]
        cursor = page["next"]
        if cursor is None or pages > 10:
            break
    owners: dict[str, int] = {}
    for e in found:
        owners[story.who(e["owner"])] = owners.get(story.who(e["owner"]), 0) + 1
    story.say("Mo", f"find {{creator: Grim}} -> {len(found)} entities in {pages} pages, "
              f"owned by {owners}")
    story.expect({e["id"] for e in found} == copy_ids | {ring["id"], billboard["id"]},
                 "find by creator returns the ring, the billboard and every copy")
    hidden = (await mo.request("find", invisible=True, creator=grim.token))["entities"]
    story.say("Mo", f"find {{invisible: true, creator: Grim}} -> {len(hidden)} entities")
    story.expect({e["id"] for e in hidden} == copy_ids, "the invisible ones are the copies")
    count = (await mo.request("remove", creator=grim.token, reason="griefing ring"))["removed"]
    story.say("Mo", f"remove {{creator: Grim}} -> removed {count}")
    story.expect(count == COPIES + 2, "all of them are removed")
    everything = copy_ids | {ring["id"], billboard["id"]}
    for name, c in (("Vera", vera), ("Bea", bea), ("Grim", grim)):
        gone = removed(await seen(c), "removed")
        story.say(name, f"sees {len(gone)} entity_removed (reason removed)")
        story.expect(gone == everything, f"{name} sees every one removed, muted or not")

    story.chapter("Grim comes back for more; Mo bans him")
    again = (await grim.request("rez", entity={
        "type": "ring", "position": [0, 1, 0], "script": RING_SCRIPT}))["entity"]
    await grim.request("move", position=[1, 1, 0])
    await mo.request("move", position=[3, 1, 3])
    story.say("Grim", f"walks to [1, 1, 0] and rezzes another ring {again['id']}")
    avatars = (await mo.request("locate"))["avatars"]
    story.say("Mo", "locate -> " + ", ".join(
        f"{a['name']} at {a['position']}{' (invisible)' if a['invisible'] else ''}"
        for a in avatars))
    where = {a["token"]: a for a in avatars}
    story.expect(where.get(grim.token, {}).get("position") == [1, 1, 0], "Mo locates Grim")
    story.expect(where.get(mo.token, {}).get("invisible") is True,
                 "locate lists invisible avatars too (Mo himself)")
    count = (await mo.request("ban", token=grim.token, reason="griefing"))["removed"]
    story.say("Mo", f"ban Grim -> removed {count} of his entities")
    story.expect(count == 1, "the ban removes what Grim still owns")
    kicked = await grim.event("kicked")
    code = await grim.wait_closed()
    story.say("Grim", f"is told {kicked} and disconnected with code {code}")
    story.expect(kicked.get("reason") == "griefing" and code == 4003,
                 "Grim sees kicked and the socket closes with 4003")
    for name, c in (("Vera", vera), ("Bea", bea)):
        gone = removed(await seen(c), "banned")
        story.say(name, f"sees entity_removed {sorted(gone)} (reason banned)")
        story.expect(gone == {again["id"]}, f"{name} sees the last ring go")
    try:
        await Client.connect(url, griefer_id, name="Grim")
        story.say("Grim", "reconnects ... and is let in")
        story.expect(False, "Grim's reconnect is refused")
    except RequestFailed as exc:
        story.say("Grim", f"reconnect refused: {exc.code}")
        story.expect(exc.code == "banned", "Grim's reconnect is refused with banned")

    story.chapter("Clean-up")
    await mo.request("unban", token=grim.token)
    for target in (await vera.request("mutes"))["mutes"]:
        await vera.request("unmute", target=target)
    story.say("Mo", "lifts the drill's ban; Vera lifts her mutes")
    for c in (vera, bea, mo):
        await c.close()
    await grim.close()
    return story


def write_keys(directory: Path) -> dict[str, Identity]:
    """Make the drill's three key pairs and a permissions file naming them."""
    directory.mkdir(parents=True, exist_ok=True)
    ids = {}
    for name in KEYS:
        identity = Identity.generate()
        pem = identity.private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        path = directory / f"{name}.pem"
        path.write_bytes(pem)
        path.chmod(0o600)
        ids[name] = identity
    (directory / "permissions.toml").write_text(
        POLICY.format(**{name: ids[name].token for name in KEYS})
    )
    return ids


def load_keys(directory: Path) -> dict[str, Identity]:
    return {name: Identity.load(directory / f"{name}.pem") for name in KEYS}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.asynccontextmanager
async def own_server(directory: Path) -> AsyncIterator[str]:
    """`python -m domainserver serve` on a free port with the drill's permissions."""
    port = free_port()
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    log_path = directory / "server.log"
    with open(log_path, "wb") as log:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "domainserver", "serve",
            "--permissions", str(directory / "permissions.toml"),
            "--db", str(directory / "drill.db"), "--port", str(port),
            stdout=log, stderr=asyncio.subprocess.STDOUT, env=env,
        )
    try:
        await wait_healthy(f"http://127.0.0.1:{port}/healthz", proc)
        print(f"server: python -m domainserver serve on port {port} (log {log_path})")
        yield f"ws://127.0.0.1:{port}/ws"
    finally:
        if proc.returncode is None:
            proc.terminate()
            try:
                await asyncio.wait_for(proc.wait(), 10)
            except TimeoutError:
                proc.kill()
                await proc.wait()
        if proc.returncode not in (0, -15):
            print(f"server exited with {proc.returncode}; its log:")
            print(log_path.read_text(errors="replace")[-3000:])


async def wait_healthy(url: str, proc: asyncio.subprocess.Process, timeout: float = 30) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    async with aiohttp.ClientSession() as http:
        while loop.time() < deadline:
            if proc.returncode is not None:
                raise DrillFailed(f"the server exited with {proc.returncode} before it was up")
            with contextlib.suppress(aiohttp.ClientError):
                async with http.get(url) as r:
                    if r.status == 200:
                        return
            await asyncio.sleep(0.1)
    raise DrillFailed(f"the server did not answer {url} within {timeout:g} s")


async def run(args: argparse.Namespace) -> int:
    try:
        if args.url:
            ids = load_keys(Path(args.keys))
            story = await play(args.url, ids["griefer"], ids["victim"], ids["moderator"])
        else:
            with tempfile.TemporaryDirectory(prefix="griefing-drill-") as tmp:
                ids = write_keys(Path(tmp))
                async with own_server(Path(tmp)) as url:
                    story = await play(url, ids["griefer"], ids["victim"], ids["moderator"])
    except (DrillFailed, RequestFailed, TimeoutError, OSError, aiohttp.ClientError) as exc:
        print(f"\ndrill FAILED: {type(exc).__name__}: {exc}")
        return 1
    if story.failures:
        print(f"\ndrill FAILED: {len(story.failures)} of {story.checks} observations missing:")
        for what in story.failures:
            print(f"  - {what}")
        return 1
    print(f"\ndrill passed: all {story.checks} observations made")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="a running server (ws://HOST:PORT/ws); needs --keys")
    parser.add_argument("--keys", metavar="DIR", help="the keys written by --init")
    parser.add_argument("--init", metavar="DIR",
                        help="write griefer/victim/moderator keys and permissions.toml, exit")
    args = parser.parse_args()
    if args.init:
        ids = write_keys(Path(args.init))
        print(f"wrote {', '.join(f'{n}.pem' for n in KEYS)} and permissions.toml to {args.init}")
        for name in KEYS:
            print(f"  {name}: {ids[name].token}")
        print(f"serve it:  domainserver serve --permissions {args.init}/permissions.toml")
        print(f"then:      python {sys.argv[0]} --url ws://127.0.0.1:8080/ws --keys {args.init}")
        return 0
    if args.url and not args.keys:
        parser.error("--url needs --keys DIR (make one with --init DIR and serve its file)")
    return asyncio.run(run(args))


if __name__ == "__main__":
    sys.exit(main())
