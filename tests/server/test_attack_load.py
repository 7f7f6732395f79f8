"""Load, small: 200 concurrent viewers doing mixed work (move, look, say, rez within their
quotas) for a few seconds against the live server: no error, no lost reply. The full-size
run (1,000 viewers, with latency figures) is `bench/viewers_mixed.py`."""

import asyncio
import random
import time

from domainserver.client import Client, Identity

VIEWERS = 200
SECONDS = 3.0
RATE = 2.0  # requests a second per viewer


async def test_two_hundred_viewers_doing_mixed_work_get_every_reply(harness):
    clients = await asyncio.gather(*(
        Client.connect(harness.ws_url, Identity.generate(), name=f"v{i}")
        for i in range(VIEWERS)))  # fmt: skip
    harness.clients.extend(clients)
    end = time.monotonic() + SECONDS
    outcomes: list[str] = []

    async def viewer(k: int, client: Client) -> None:
        rng = random.Random(k)
        home = [rng.uniform(0, 500), 0.0, rng.uniform(0, 500)]
        while time.monotonic() < end:
            await asyncio.sleep(rng.expovariate(RATE))
            spot = [home[0] + rng.uniform(-5, 5), 0.0, home[2] + rng.uniform(-5, 5)]
            op, args = rng.choice([
                ("move", {"position": spot}),
                ("look", {"center": spot, "radius": 20, "limit": 20}),
                ("say", {"text": "hi"}),
                ("rez", {"entity": {"type": "box", "position": spot, "lifetime": 10}}),
            ])  # fmt: skip
            try:
                reply = await asyncio.wait_for(client.submit(op, **args), 30)
            except (TimeoutError, Exception) as exc:  # a lost reply or a dropped viewer
                outcomes.append(f"{op}: lost ({type(exc).__name__})")
                return
            outcomes.append("ok" if reply["ok"] else f"{op}: {reply['error']['code']}")

    await asyncio.gather(*(viewer(k, c) for k, c in enumerate(clients)))
    wrong = [o for o in outcomes if o != "ok"]
    assert not wrong, f"{len(wrong)} of {len(outcomes)}: {sorted(set(wrong))}"
    assert len(outcomes) > VIEWERS * SECONDS  # they really worked: about 2 a second each
    assert all(c.close_code is None for c in clients)
