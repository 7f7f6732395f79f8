"""A first visit: connect with a fresh key, rez a box, look around, say hello, watch a while.

    python examples/visitor.py --url ws://127.0.0.1:8080/ws [--seconds 5] [--name Visitor]

Uses only the public contract through `domainserver.client`.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout

from domainserver.client import Client, Identity, RequestFailed  # noqa: E402


def describe(event: dict) -> str:
    ev = event.get("ev")
    if ev in ("entity_added", "entity_changed"):
        e = event["entity"]
        return f"{ev}: {e['type']} {e['id']} owner={e['owner']} at {e['position']}"
    if ev == "entity_removed":
        return f"entity_removed: {event['id']} ({event['reason']})"
    if ev == "chat":
        sender = event["from"]
        who = sender.get("name") or f"entity {sender.get('entity')} of {sender.get('owner')}"
        return f"chat from {who}: {event['text']}"
    if ev == "_closed":
        return f"connection closed (code {event['code']})"
    return f"{ev}: {event}"


async def visit(url: str, name: str, seconds: float) -> int:
    identity = Identity.generate()
    try:
        client = await Client.connect(url, identity, name=name)
    except RequestFailed as exc:
        print(f"refused: {exc.code}: {exc.message}")
        return 1
    async with client:
        print(f"connected to {client.challenge['domain']!r}")
        print(f"token: {client.token}")
        print(f"role: {client.hello['role']} caps: {client.hello['caps']}")
        try:
            box = (await client.request(
                "rez", entity={"type": "box", "position": [0, 1, 0], "props": {"by": name}}
            ))["entity"]
            expires = "never" if box["expires_at"] is None else f"at {box['expires_at']:.0f}"
            print(f"rezzed box {box['id']} (owner {box['owner']}, expires {expires})")
        except RequestFailed as exc:
            print(f"could not rez: {exc.code}: {exc.message}")
        around = await client.request("look", center=[0, 0, 0], radius=50, limit=20)
        print(f"look: {len(around['entities'])} entities within 50 m")
        for e in around["entities"]:
            print(f"  {e['type']} {e['id']} owner={e['owner']} at {e['position']}")
        await client.request("say", text="hello")
        print("said hello")
        print(f"events for {seconds:g} s:")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while (left := deadline - loop.time()) > 0:
            try:
                event = await client.event(timeout=left)
            except TimeoutError:
                break
            print("  " + describe(event))
            if event.get("ev") == "_closed":
                return 1
    print("bye")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="ws://127.0.0.1:8080/ws")
    parser.add_argument("--name", default="Visitor")
    parser.add_argument("--seconds", type=float, default=5.0, help="how long to watch events")
    args = parser.parse_args()
    return asyncio.run(visit(args.url, args.name, args.seconds))


if __name__ == "__main__":
    sys.exit(main())
